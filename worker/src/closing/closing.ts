// The state of an account on its way out (closing.sql.ts). Billing calls startClosing when Paddle
// reports a cancelled subscription and reopenAccount on a resubscription; the dashboard's and the
// API's cancellation and deletion request call them too. Nothing here pauses or changes the
// account's databases: whether the account may write is read from this one row
// (isReadOnly / readOnlyMiddleware), so reopening restores exactly what was there.
import type { AccountClosing } from '@resistro/contract';
import { eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db.ts';
import { accountClosings, type ClosingReason } from './closing.sql.ts';

/** Backups stay downloadable this long after the account turned read-only. */
export const PURGE_DELAY_MS = 30 * 86400_000;

export type ClosingRow = typeof accountClosings.$inferSelect;

/**
 * Starts (or moves forward) the closing of an account. Idempotent: called again (the user
 * cancelled, then Paddle confirmed) it keeps the earlier effective date, and a deletion request
 * outranks a plain cancellation. The reminders start over when the purge date moves.
 */
export async function startClosing(
  db: DbOrTx,
  accountId: string,
  o: { effectiveAt: Date; reason: ClosingReason; now?: Date },
): Promise<void> {
  const requestedAt = o.now ?? new Date();
  const purgeAt = new Date(o.effectiveAt.getTime() + PURGE_DELAY_MS);
  const t = accountClosings;
  await db
    .insert(t)
    .values({ accountId, reason: o.reason, requestedAt, effectiveAt: o.effectiveAt, purgeAt })
    .onConflictDoUpdate({
      target: t.accountId,
      set: {
        reason: sql`case when excluded.reason = 'deletion_requested' then excluded.reason else ${t.reason} end`,
        effectiveAt: sql`least(${t.effectiveAt}, excluded.effective_at)`,
        purgeAt: sql`least(${t.purgeAt}, excluded.purge_at)`,
        reminded7dAt: sql`case when excluded.purge_at < ${t.purgeAt} then null else ${t.reminded7dAt} end`,
        reminded1dAt: sql`case when excluded.purge_at < ${t.purgeAt} then null else ${t.reminded1dAt} end`,
      },
    });
}

/** Ends the closing: the account is as it was before (its databases, agents and backups untouched). */
export async function reopenAccount(db: DbOrTx, accountId: string): Promise<void> {
  await db.delete(accountClosings).where(eq(accountClosings.accountId, accountId));
}

export async function getClosing(db: DbOrTx, accountId: string): Promise<ClosingRow | null> {
  const [row] = await db.select().from(accountClosings).where(eq(accountClosings.accountId, accountId));
  return row ?? null;
}

/** Read-only once the closing has taken effect (the end of the paid period, or at once). */
export function isReadOnly(closing: Pick<ClosingRow, 'effectiveAt'> | null | undefined, now: Date): boolean {
  return closing != null && closing.effectiveAt.getTime() <= now.getTime();
}

export function toAccountClosing(row: ClosingRow | null, now: Date): AccountClosing | null {
  if (!row) return null;
  return {
    reason: row.reason,
    requestedAt: row.requestedAt.toISOString(),
    effectiveAt: row.effectiveAt.toISOString(),
    purgeAt: row.purgeAt.toISOString(),
    readOnly: isReadOnly(row, now),
  };
}
