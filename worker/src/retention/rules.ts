// A database's retention rule: its tiers (or its retention days) and the object lock of new
// backups; the preview of what a rule would delete, computed with the very conditions the job
// applies (policy.ts), so the form cannot promise what the job does not do.
import {
  type ObjectLockRule,
  PLANS,
  type RetentionPreview,
  type RetentionRule,
  type RetentionTiers,
  tierSpanDays,
} from '@resistro/contract';
import { eq, sql } from 'drizzle-orm';
import { accounts } from '../accounts/accounts.sql.ts';
import { findDatabase } from '../databases/databases.ts';
import type { Db } from '../db.ts';
import { ApiError, notFound } from '../errors.ts';
import { deletable, givenRule, IGNORE_LOCKS, newestFinished, notLocked } from './policy.ts';
import { retentionRules } from './retention.sql.ts';

export const PREVIEW_LISTED = 500;

async function accountOf(db: Db, accountId: string) {
  const [account] = await db.select().from(accounts).where(eq(accounts.id, accountId));
  if (!account) throw notFound('account');
  return account;
}

export async function getRule(
  db: Db,
  accountId: string,
  databaseId: string,
  objectLockAvailable: boolean,
): Promise<RetentionRule> {
  const database = await findDatabase(db, accountId, databaseId);
  const account = await accountOf(db, accountId);
  const [rule] = await db.select().from(retentionRules).where(eq(retentionRules.databaseId, database.id));
  return {
    databaseId: database.id,
    mode: rule?.tiers ? 'tiers' : 'days',
    retentionDays: database.retentionDays,
    tiers: rule?.tiers ?? null,
    objectLock: rule?.objectLock ?? null,
    objectLockAvailable,
    planMaxDays: PLANS[account.plan].maxRetentionDays,
    timeZone: account.timeZone,
  };
}

function checkTiers(planId: keyof typeof PLANS, tiers: RetentionTiers) {
  const plan = PLANS[planId];
  if (tierSpanDays(tiers) > plan.maxRetentionDays) {
    throw new ApiError(
      'plan_limit',
      `The ${plan.name} plan keeps backups at most ${plan.maxRetentionDays} days`,
      { tiers: `must keep at most ${plan.maxRetentionDays} days on the ${plan.name} plan` },
    );
  }
}

/** A lock with no day count left out: `{}` means no lock. */
function normalLock(lock: ObjectLockRule | null | undefined): ObjectLockRule | null {
  if (!lock) return null;
  const entries = Object.entries(lock).filter(([, days]) => typeof days === 'number');
  return entries.length > 0 ? (Object.fromEntries(entries) as ObjectLockRule) : null;
}

export async function putRule(
  db: Db,
  accountId: string,
  databaseId: string,
  input: { tiers: RetentionTiers | null; objectLock?: ObjectLockRule | null | undefined },
  objectLockAvailable: boolean,
  now: Date,
): Promise<RetentionRule> {
  const database = await findDatabase(db, accountId, databaseId);
  if (database.deletedAt) throw notFound('database');
  const account = await accountOf(db, accountId);
  if (input.tiers) checkTiers(account.plan, input.tiers);
  const objectLock = normalLock(input.objectLock);
  if (objectLock && !objectLockAvailable)
    throw new ApiError(
      'conflict',
      "This service's storage was not created with object lock; backups cannot be locked",
    );
  await db
    .insert(retentionRules)
    .values({ databaseId: database.id, accountId, tiers: input.tiers, objectLock, updatedAt: now })
    .onConflictDoUpdate({
      target: retentionRules.databaseId,
      set: { tiers: input.tiers, objectLock, updatedAt: now },
    });
  return getRule(db, accountId, database.id, objectLockAvailable);
}

/** What the rule would delete of the database's backups now. Nothing is changed. */
export async function previewRule(
  db: Db,
  accountId: string,
  databaseId: string,
  tiers: RetentionTiers | null,
  now: Date,
): Promise<RetentionPreview> {
  const database = await findDatabase(db, accountId, databaseId);
  const account = await accountOf(db, accountId);
  if (tiers) checkTiers(account.plan, tiers);
  const rule = givenRule(tiers, database.retentionDays);
  const { rows } = await db.execute<{
    id: string;
    started_at: string;
    status: string;
    size_bytes: string | null;
    goes: boolean;
    would_go_unlocked: boolean;
  }>(sql`
    select b.id, b.started_at, b.status, b.size_bytes,
           ${deletable(now, rule)} as goes,
           (not ${notLocked(now)}) and ${deletable(now, rule, IGNORE_LOCKS)} as would_go_unlocked
    from backups b
    join databases d on d.id = b.database_id
    join accounts a on a.id = b.account_id
    left join lateral ${newestFinished('d.id')} nf on true
    where b.database_id = ${database.id}::uuid and b.account_id = ${accountId}::uuid
    order by b.started_at, b.id`);
  const gone = rows.filter((r) => r.goes);
  return {
    deleted: gone.slice(0, PREVIEW_LISTED).map((r) => ({
      id: r.id,
      startedAt: new Date(r.started_at).toISOString(),
      status: r.status,
      sizeBytes: r.size_bytes === null ? null : Number(r.size_bytes),
    })),
    deletedCount: gone.length,
    deletedBytes: gone.reduce((n, r) => n + (r.status === 'succeeded' ? Number(r.size_bytes ?? 0) : 0), 0),
    keptCount: rows.length - gone.length,
    lockedCount: rows.filter((r) => r.would_go_unlocked).length,
  };
}
