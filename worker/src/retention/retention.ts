// Cron: delete expired backups (policy.ts) from object storage, then from the metadata, in
// batches. Each batch locks its rows (FOR UPDATE SKIP LOCKED) in one transaction: a second run at
// the same time takes other rows, and the storage usage drops by exactly the rows this run deleted.
import { sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db.ts';
import type { ObjectStorage } from '../storage/storage.ts';
import { deletable, newestFinished } from './policy.ts';
import { measured, type RunStats } from './stats.ts';

export const RETENTION_BATCH = 1000;
export const RETENTION_MAX_BATCHES = 10;
/** Stop starting new batches after this long; the next run continues. */
export const RETENTION_BUDGET_MS = 20_000;

export type ClaimedBackup = {
  id: string;
  account_id: string;
  database_id: string;
  object_key: string;
  upload_id: string | null;
  status: 'running' | 'succeeded' | 'failed';
  size_bytes: string | null;
};

/**
 * Candidates without locks: database by database, the oldest deletable backups (index on
 * database, start). No global ordering: the scan stops as soon as it has a batch.
 */
async function findCandidates(db: Db, now: Date, limit: number): Promise<string[]> {
  const { rows } = await db.execute<{ id: string }>(sql`
    select c.id from databases d
    join accounts a on a.id = d.account_id and a.cancelled_at is null
    left join lateral ${newestFinished('d.id')} nf on true
    cross join lateral (
      select b.id, b.started_at from backups b
      where b.database_id = d.id and ${deletable(now)}
      order by b.started_at
      limit ${limit}
    ) c
    order by d.id
    limit ${limit}`);
  return rows.map((r) => r.id);
}

/**
 * Removes claimed rows whose objects are gone and takes their bytes off the usage. Returns the
 * rows the DELETE actually removed: only those count, whatever else ran at the same time.
 */
export async function deleteClaimed(tx: DbOrTx, ids: string[]): Promise<ClaimedBackup[]> {
  if (ids.length === 0) return [];
  const { rows: deleted } = await tx.execute<ClaimedBackup>(sql`
    delete from backups where id in ${ids}
    returning id, account_id, database_id, object_key, upload_id, status, size_bytes`);
  const freed = new Map<string, number>();
  const failures = new Map<string, number>();
  for (const r of deleted) {
    if (r.status === 'succeeded' && r.size_bytes)
      freed.set(r.account_id, (freed.get(r.account_id) ?? 0) + Number(r.size_bytes));
    if (r.status === 'failed') failures.set(r.database_id, (failures.get(r.database_id) ?? 0) + 1);
  }
  if (freed.size > 0) {
    const values = sql.join(
      [...freed].map(([id, bytes]) => sql`(${id}::uuid, ${bytes}::bigint)`),
      sql`, `,
    );
    await tx.execute(sql`
      update accounts a set storage_used_bytes = a.storage_used_bytes - v.bytes
      from (values ${values}) as v(id, bytes) where a.id = v.id`);
  }
  if (failures.size > 0) {
    // backup_failures_total is a counter: deleted failures are remembered so it never goes down.
    const values = sql.join(
      [...failures].map(([id, n]) => sql`(${id}::uuid, ${n}::bigint)`),
      sql`, `,
    );
    await tx.execute(sql`
      insert into database_counters (database_id, failures_deleted) values ${values}
      on conflict (database_id) do update set failures_deleted = database_counters.failures_deleted + excluded.failures_deleted`);
  }
  return deleted;
}

/** Objects first: abort what may still be an upload, delete the objects; returns ids whose objects are gone. */
export async function deleteObjectsOf(store: ObjectStorage, rows: ClaimedBackup[]): Promise<string[]> {
  for (const r of rows) if (r.upload_id) await store.abortMultipartUpload(r.object_key, r.upload_id);
  const gone = await store.deleteObjects(rows.map((r) => r.object_key));
  return rows.filter((r) => gone.has(r.object_key)).map((r) => r.id);
}

/** Returns how many rows it deleted; 0 when another run holds them all or storage refused. */
async function deleteBatch(
  db: Db,
  store: ObjectStorage,
  now: Date,
  candidates: string[],
  stats: RunStats,
): Promise<number> {
  return db.transaction(async (tx) => {
    // The database's newest finished status once per database, not once per row.
    const { rows: claimed } = await tx.execute<ClaimedBackup>(sql`
      with dbs as (select distinct database_id from backups where id in ${candidates}),
           nf as (select dbs.database_id, s.newest_status from dbs left join lateral ${newestFinished('dbs.database_id')} s on true)
      select b.id, b.account_id, b.database_id, b.object_key, b.upload_id, b.status, b.size_bytes
      from backups b
      join databases d on d.id = b.database_id
      join accounts a on a.id = b.account_id and a.cancelled_at is null
      left join nf on nf.database_id = b.database_id
      where b.id in ${candidates} and ${deletable(now)}
      for update of b skip locked`);
    if (claimed.length === 0) return 0;
    // If the transaction fails after this, the rows stay and point at deleted objects of expired
    // backups; the next run deletes them again (a missing object counts as deleted).
    const deleted = await deleteClaimed(tx, await deleteObjectsOf(store, claimed));
    stats.deleted += deleted.length;
    stats.freedBytes += deleted.reduce(
      (n, r) => n + (r.status === 'succeeded' ? Number(r.size_bytes ?? 0) : 0),
      0,
    );
    return deleted.length;
  });
}

export async function applyRetention(
  db: Db,
  store: ObjectStorage,
  now: Date,
  opts: { batch?: number; maxBatches?: number; budgetMs?: number } = {},
): Promise<RunStats> {
  const batch = opts.batch ?? RETENTION_BATCH;
  const maxBatches = opts.maxBatches ?? RETENTION_MAX_BATCHES;
  const budgetMs = opts.budgetMs ?? RETENTION_BUDGET_MS;
  return measured([store], async (stats) => {
    const t0 = performance.now();
    while (stats.batches < maxBatches && performance.now() - t0 < budgetMs) {
      const candidates = await findCandidates(db, now, batch);
      if (candidates.length === 0) break;
      stats.batches++;
      const deleted = await deleteBatch(db, store, now, candidates, stats);
      if (deleted === 0 || candidates.length < batch) break;
    }
  });
}
