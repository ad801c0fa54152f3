// Cron: 30 days after cancellation everything of the account goes. Objects first (uploads
// aborted, objects deleted, then a listing of the account's prefix catches strays), then the
// backup rows, then the account row, whose deletion cascades to users, keys, agents, databases,
// alerts, channels and the delivery log. Bounded per run; a later run continues.
import { sql } from 'drizzle-orm';
import type { Db } from '../db.ts';
import type { ObjectStorage } from '../storage/storage.ts';
import { type ClaimedBackup, deleteClaimed, deleteObjectsOf } from './retention.ts';
import { measured, type RunStats } from './stats.ts';

export const PURGE_ACCOUNTS_PER_RUN = 5;
export const PURGE_BATCH = 1000;
export const PURGE_MAX_BATCHES = 10;

/** One batch of the account's backups; returns how many rows went. */
async function purgeBatch(db: Db, store: ObjectStorage, accountId: string, stats: RunStats): Promise<number> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.execute<ClaimedBackup>(sql`
      select id, account_id, database_id, object_key, upload_id, status, size_bytes from backups
      where account_id = ${accountId}::uuid
      order by started_at
      limit ${PURGE_BATCH}
      for update skip locked`);
    if (rows.length === 0) return 0;
    const deleted = await deleteClaimed(tx, await deleteObjectsOf(store, rows));
    stats.deleted += deleted.length;
    stats.freedBytes += deleted.reduce(
      (n, r) => n + (r.status === 'succeeded' ? Number(r.size_bytes ?? 0) : 0),
      0,
    );
    return deleted.length;
  });
}

/** True when the account is gone (or was already). */
async function purgeAccount(
  db: Db,
  store: ObjectStorage,
  accountId: string,
  now: Date,
  stats: RunStats,
): Promise<boolean> {
  while (stats.batches < PURGE_MAX_BATCHES) {
    stats.batches++;
    if ((await purgeBatch(db, store, accountId, stats)) === 0) break;
  }
  const { rows: left } = await db.execute<{ n: number }>(
    sql`select count(*)::int as n from backups where account_id = ${accountId}::uuid`,
  );
  if ((left[0]?.n ?? 0) > 0) return false;
  // SECURITY: the prefix is built from the account's UUID, so it cannot reach another account.
  const stray = await store.listKeys(`accounts/${accountId}/`);
  if (stray.keys.length > 0) {
    const gone = await store.deleteObjects(stray.keys);
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
  store: ObjectStorage,
  now: Date,
): Promise<RunStats & { accounts: number }> {
  let accounts = 0;
  const stats = await measured([store], async (stats) => {
    const { rows } = await db.execute<{ id: string }>(sql`
      select id from accounts
      where cancelled_at is not null and delete_after <= ${now.toISOString()}::timestamptz
      order by delete_after
      limit ${PURGE_ACCOUNTS_PER_RUN}`);
    for (const { id } of rows) {
      if (stats.batches >= PURGE_MAX_BATCHES) break;
      if (await purgeAccount(db, store, id, now, stats)) accounts++;
    }
  });
  return { ...stats, accounts };
}
