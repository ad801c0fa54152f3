// Cron: 30 days after cancellation everything of the account goes. Its backups first, removed by
// backups/remove.ts (uploads aborted, objects deleted, then the rows), then a listing of the
// account's prefix catches stray objects, then the account row, whose deletion cascades to users, keys, agents, databases,
// alerts, channels and the delivery log. Bounded per run; a later run continues.
import { sql } from 'drizzle-orm';
import { countBackupsOf, oldestOfAccount, removeBackups } from '../backups/remove.ts';
import type { Db } from '../db.ts';
import type { ObjectStorage } from '../storage/storage.ts';
import { addRemoved, measured, type RunStats } from './stats.ts';

export const PURGE_ACCOUNTS_PER_RUN = 5;
export const PURGE_BATCH = 1000;
export const PURGE_MAX_BATCHES = 10;

/** True when the account is gone (or was already). */
async function purgeAccount(
  db: Db,
  storage: ObjectStorage,
  accountId: string,
  now: Date,
  stats: RunStats,
): Promise<boolean> {
  while (stats.batches < PURGE_MAX_BATCHES) {
    stats.batches++;
    const removed = await removeBackups(db, storage, oldestOfAccount(accountId, PURGE_BATCH));
    addRemoved(stats, removed);
    if (removed.length === 0) break;
  }
  if ((await countBackupsOf(db, accountId)) > 0) return false;
  // SECURITY: the prefix is built from the account's UUID, so it cannot reach another account.
  const stray = await storage.listKeys(`accounts/${accountId}/`);
  if (stray.keys.length > 0) {
    const gone = await storage.deleteObjects(stray.keys);
    if (stray.truncated || gone.size < stray.keys.length) return false;
  }
  const { rows } = await db.execute<{ id: string }>(sql`
    delete from accounts
    where id = ${accountId}::uuid and cancelled_at is not null and delete_after <= ${now.toISOString()}::timestamptz
      and not exists (select 1 from backups where account_id = ${accountId}::uuid)
    returning id`);
  return rows.length > 0;
}

export async function purgeCancelledAccounts(
  db: Db,
  storage: ObjectStorage,
  now: Date,
): Promise<RunStats & { accounts: number }> {
  let accounts = 0;
  const stats = await measured([storage], async (stats) => {
    const { rows } = await db.execute<{ id: string }>(sql`
      select id from accounts
      where cancelled_at is not null and delete_after <= ${now.toISOString()}::timestamptz
      order by delete_after
      limit ${PURGE_ACCOUNTS_PER_RUN}`);
    for (const { id } of rows) {
      if (stats.batches >= PURGE_MAX_BATCHES) break;
      if (await purgeAccount(db, storage, id, now, stats)) accounts++;
    }
  });
  return { ...stats, accounts };
}
