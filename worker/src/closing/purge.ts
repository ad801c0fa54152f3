// Cron: at its purge date (30 days after it turned read-only) everything of a closed account goes.
// Its backups first, removed by backups/remove.ts (uploads aborted, objects deleted, then the
// rows), then a listing of the account's prefix catches stray objects, then the account row,
// whose deletion cascades to every row that references it (users, sessions, keys, agents,
// databases, alerts, channels, deliveries, the closing itself). Bounded per run; a later run
// continues. Each purge leaves one account_purges row and one log line, without personal data.
import { sql } from 'drizzle-orm';
import { countBackupsOf, oldestOfAccount, removeBackups } from '../backups/remove.ts';
import type { Db } from '../db.ts';
import { addRemoved, measured, type RunStats } from '../retention/stats.ts';
import type { ObjectStorage } from '../storage/storage.ts';
import { accountPurges } from './closing.sql.ts';

export const PURGE_ACCOUNTS_PER_RUN = 5;
export const PURGE_BATCH = 1000;
export const PURGE_MAX_BATCHES = 10;

type Due = { id: string; reason: 'cancelled' | 'deletion_requested'; requested_at: string | Date };

async function record(
  db: Db,
  due: Due,
  now: Date,
  counts: { backups: number; objects: number; bytes: number; finished: boolean },
): Promise<void> {
  const t = accountPurges;
  await db
    .insert(t)
    .values({
      accountId: due.id,
      reason: due.reason,
      requestedAt: new Date(due.requested_at),
      startedAt: now,
      finishedAt: counts.finished ? now : null,
      backups: counts.backups,
      objects: counts.objects,
      bytes: counts.bytes,
    })
    .onConflictDoUpdate({
      target: t.accountId,
      set: {
        backups: sql`${t.backups} + ${counts.backups}`,
        objects: sql`${t.objects} + ${counts.objects}`,
        bytes: sql`${t.bytes} + ${counts.bytes}`,
        finishedAt: counts.finished ? now : null,
      },
    });
}

/** True when the account is gone (or was already). */
async function purgeAccount(
  db: Db,
  storage: ObjectStorage,
  due: Due,
  now: Date,
  stats: RunStats,
): Promise<boolean> {
  const before = { deleted: stats.deleted, freed: stats.freedBytes };
  let objects = 0;
  const counts = () => ({
    backups: stats.deleted - before.deleted,
    objects,
    bytes: stats.freedBytes - before.freed,
  });
  while (stats.batches < PURGE_MAX_BATCHES) {
    stats.batches++;
    const removed = await removeBackups(db, storage, oldestOfAccount(due.id, PURGE_BATCH, now));
    addRemoved(stats, removed);
    objects += removed.length;
    if (removed.length === 0) break;
  }
  const unfinished = async () => {
    await record(db, due, now, { ...counts(), finished: false });
    return false;
  };
  if ((await countBackupsOf(db, due.id)) > 0) return unfinished();
  // SECURITY: the prefix is built from the account's UUID, so it cannot reach another account.
  const stray = await storage.listKeys(`accounts/${due.id}/`);
  if (stray.keys.length > 0) {
    const gone = await storage.deleteObjects(stray.keys);
    objects += gone.size;
    if (stray.truncated || gone.size < stray.keys.length) return unfinished();
  }
  const { rows } = await db.execute<{ id: string }>(sql`
    delete from accounts a
    where a.id = ${due.id}::uuid
      and exists (select 1 from account_closings c where c.account_id = a.id and c.purge_at <= ${now.toISOString()}::timestamptz)
      and not exists (select 1 from backups where account_id = ${due.id}::uuid)
    returning a.id`);
  if (rows.length === 0) return unfinished();
  const done = { ...counts(), finished: true };
  await record(db, due, now, done);
  // The log line of the purge: ids and counts only (no e-mail address, no names, no keys).
  console.log(
    JSON.stringify({
      event: 'account.purged',
      accountId: due.id,
      reason: due.reason,
      at: now.toISOString(),
      ...done,
    }),
  );
  return true;
}

export async function purgeClosedAccounts(
  db: Db,
  storage: ObjectStorage,
  now: Date,
): Promise<RunStats & { accounts: number }> {
  let accounts = 0;
  const stats = await measured([storage], async (stats) => {
    const { rows } = await db.execute<Due>(sql`
      select account_id as id, reason, requested_at from account_closings
      where purge_at <= ${now.toISOString()}::timestamptz
      order by purge_at
      limit ${PURGE_ACCOUNTS_PER_RUN}`);
    for (const due of rows) {
      if (stats.batches >= PURGE_MAX_BATCHES) break;
      if (await purgeAccount(db, storage, due, now, stats)) accounts++;
    }
  });
  return { ...stats, accounts };
}
