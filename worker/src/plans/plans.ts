// The account as its plan sees it: the plan's limits next to what the account uses (and whether
// it is closing), and a plan change checked against the databases it keeps. These read or write
// both the accounts and the databases, so they sit above both folders (databases reference their
// account; accounts/ stays below and knows nothing of databases).
import { type Account, type Language, PLANS, type PlanId } from '@resistro/contract';
import { and, count, eq, isNull } from 'drizzle-orm';
import { accounts } from '../accounts/accounts.sql.ts';
import { billingSummary } from '../billing/billing.ts';
import { getClosing, toAccountClosing } from '../closing/closing.ts';
import { databases } from '../databases/databases.sql.ts';
import type { Db } from '../db.ts';
import type { BillingConfig } from '../env.ts';
import { ApiError } from '../errors.ts';

/** With `billing`, the answer carries the subscription's state in short (banners, stopped backups). */
export async function getAccount(
  db: Db,
  accountId: string,
  now = new Date(),
  billing?: BillingConfig,
): Promise<Account> {
  const [row] = await db.select().from(accounts).where(eq(accounts.id, accountId));
  if (!row) throw new ApiError('not_found', 'account not found');
  const [dbCount] = await db
    .select({ n: count() })
    .from(databases)
    .where(and(eq(databases.accountId, accountId), isNull(databases.deletedAt)));
  const plan = PLANS[row.plan];
  return {
    id: row.id,
    plan: row.plan,
    limits: {
      maxDatabases: plan.maxDatabases,
      maxRetentionDays: plan.maxRetentionDays,
      storageBytes: plan.storageBytes,
    },
    usage: { databases: dbCount?.n ?? 0, storageBytes: row.storageUsedBytes },
    alertEmails: row.alertEmails,
    verifiedAlertEmails: row.verifiedAlertEmails.filter((e) => row.alertEmails.includes(e)),
    require2fa: row.require2fa,
    language: row.language,
    timeZone: row.timeZone,
    closing: toAccountClosing(await getClosing(db, accountId), now),
    createdAt: row.createdAt.toISOString(),
    ...(billing && { billing: await billingSummary(db, billing, accountId, now) }),
  };
}

export async function updateAccount(
  db: Db,
  accountId: string,
  patch: {
    plan?: PlanId | undefined;
    alertEmails?: string[] | undefined;
    language?: Language | undefined;
    timeZone?: string | undefined;
  },
  billing?: BillingConfig,
): Promise<Account> {
  await db.transaction(async (tx) => {
    if (patch.plan) {
      const plan = PLANS[patch.plan];
      const active = await tx
        .select({ retentionDays: databases.retentionDays })
        .from(databases)
        .where(and(eq(databases.accountId, accountId), isNull(databases.deletedAt)));
      if (plan.maxDatabases !== null && active.length > plan.maxDatabases) {
        throw new ApiError(
          'plan_limit',
          `The ${plan.name} plan allows ${plan.maxDatabases} database(s); delete some first`,
        );
      }
      if (active.some((d) => d.retentionDays > plan.maxRetentionDays)) {
        throw new ApiError(
          'plan_limit',
          `The ${plan.name} plan keeps backups at most ${plan.maxRetentionDays} days; shorten the retention of your databases first`,
        );
      }
      await tx.update(accounts).set({ plan: patch.plan }).where(eq(accounts.id, accountId));
    }
    if (patch.language || patch.timeZone) {
      await tx
        .update(accounts)
        .set({
          ...(patch.language && { language: patch.language }),
          ...(patch.timeZone && { timeZone: patch.timeZone }),
        })
        .where(eq(accounts.id, accountId));
    }
    if (patch.alertEmails) {
      await tx
        .update(accounts)
        .set({ alertEmails: [...new Set(patch.alertEmails)] })
        .where(eq(accounts.id, accountId));
    }
  });
  return getAccount(db, accountId, undefined, billing);
}
