// Object lock of backups (issue 18, docs/object-lock.md). A database's rule (retention_rules.
// object_lock, written by retention/) locks new backups in S3 compliance mode:
// - `all`: every backup, from the start of its upload (the lock is sent with
//   CreateMultipartUpload, so the object is locked the moment it exists);
// - a tier (daily, weekly, monthly, yearly): a backup that is the first good one of its day,
//   week, month or year in the account's time zone, locked when it completes (PutObjectRetention).
// A lock only ever moves later. Every path that deletes backups respects it: retention's policy
// skips locked rows, the dashboard's and API's delete refuse with the date, the purge of a closed
// account leaves them (and the account) until the date, and storage itself refuses (AccessDenied).
// This folder reads the rule with plain SQL and imports neither backups/ nor retention/, so both
// can use it.
import { type ObjectLockRule, TIERS } from '@resistro/contract';
import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db.ts';
import type { ObjectLock, ObjectStorage } from '../storage/storage.ts';

const DAY_MS = 86400_000;

/** True while storage refuses to delete the backup. */
export function isLocked(backup: { lockedUntil: Date | null }, now: Date): boolean {
  return backup.lockedUntil !== null && backup.lockedUntil.getTime() > now.getTime();
}

export async function lockRuleOf(db: DbOrTx, databaseId: string): Promise<ObjectLockRule | null> {
  const { rows } = await db.execute<{ object_lock: ObjectLockRule | null }>(
    sql`select object_lock from retention_rules where database_id = ${databaseId}::uuid`,
  );
  return rows[0]?.object_lock ?? null;
}

/** The lock a new backup's upload starts with (the rule's `all`), or undefined. */
export async function lockForUpload(
  db: DbOrTx,
  databaseId: string,
  startedAt: Date,
): Promise<ObjectLock | undefined> {
  const days = (await lockRuleOf(db, databaseId))?.all;
  return days ? { retainUntil: new Date(startedAt.getTime() + days * DAY_MS) } : undefined;
}

const UNIT = { daily: 'day', weekly: 'week', monthly: 'month', yearly: 'year' } as const;

/**
 * The lock a completing backup gets from the rule's tiers: the longest of the tiers whose period
 * it is the first good backup of. Undefined when no tier applies.
 */
export async function tierLockOf(
  db: DbOrTx,
  backup: { id: string; databaseId: string; startedAt: Date },
): Promise<ObjectLock | undefined> {
  const rule = await lockRuleOf(db, backup.databaseId);
  const tiers = TIERS.filter((t) => rule?.[t]);
  if (!rule || tiers.length === 0) return undefined;
  const firsts = tiers.map(
    (t) => sql`not exists (select 1 from backups e
      where e.database_id = b.database_id and e.status = 'succeeded'
        and e.started_at >= (date_trunc(${UNIT[t]}, b.started_at at time zone a.time_zone) at time zone a.time_zone)
        and (e.started_at, e.id) < (b.started_at, b.id)) as ${sql.raw(t)}`,
  );
  const { rows } = await db.execute<Record<string, boolean>>(sql`
    select ${sql.join(firsts, sql`, `)}
    from backups b join accounts a on a.id = b.account_id
    where b.id = ${backup.id}::uuid`);
  const first = rows[0];
  const days = Math.max(0, ...tiers.filter((t) => first?.[t]).map((t) => rule[t] ?? 0));
  return days > 0 ? { retainUntil: new Date(backup.startedAt.getTime() + days * DAY_MS) } : undefined;
}

/** Locks the completed object by its tier, if one applies and it is longer than its lock so far. */
export async function applyTierLock(
  db: DbOrTx,
  storage: ObjectStorage,
  backup: { id: string; databaseId: string; startedAt: Date; objectKey: string; lockedUntil: Date | null },
): Promise<Date | null> {
  const lock = await tierLockOf(db, backup);
  if (!lock || (backup.lockedUntil && backup.lockedUntil >= lock.retainUntil)) return backup.lockedUntil;
  await storage.putObjectLock(backup.objectKey, lock);
  return lock.retainUntil;
}
