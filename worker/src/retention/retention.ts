// Cron: delete expired backups (policy.ts) in batches. Retention picks what goes; backups/remove.ts
// removes it (objects first, then the rows, the usage and the failure counter). Each batch locks
// its rows (FOR UPDATE SKIP LOCKED) in one transaction: a second run at the same time takes other
// rows, and the storage usage drops by exactly the rows this run deleted.
import { sql } from 'drizzle-orm';
import { recordAuditMany } from '../audit/audit.ts';
import { removeBackups } from '../backups/remove.ts';
import type { Db } from '../db.ts';
import type { ObjectStorage } from '../storage/storage.ts';
import { daysDeletable, deletable, newestFinished, STORED_RULE, tiersDeletable } from './policy.ts';
import { addRemoved, measured, type RunStats } from './stats.ts';

export const RETENTION_BATCH = 1000;
export const RETENTION_MAX_BATCHES = 10;
/** Stop starting new batches after this long; the next run continues. */
export const RETENTION_BUDGET_MS = 20_000;

/** The accounts retention acts on: a read-only account keeps every backup for its export. */
function openAccount(now: Date) {
  return sql`not exists (select 1 from account_closings ac where ac.account_id = a.id and ac.effective_at <= ${now.toISOString()}::timestamptz)`;
}

/**
 * Candidates without locks: database by database, the oldest deletable backups (index on
 * database, start). No global ordering: the scan stops as soon as it has a batch. Databases on
 * days and on tiers are scanned apart: for days the expiry is a range of the index; a tiered
 * database keeps few backups once its rule has run, so its scan is short.
 */
async function findCandidates(db: Db, now: Date, limit: number): Promise<string[]> {
  const { rows } = await db.execute<{ id: string }>(sql`
    (select c.id from databases d
    join accounts a on a.id = d.account_id and ${openAccount(now)}
    left join retention_rules r on r.database_id = d.id
    left join lateral ${newestFinished('d.id')} nf on true
    cross join lateral (
      select b.id, b.started_at from backups b
      where b.database_id = d.id and ${daysDeletable(now)}
      order by b.started_at
      limit ${limit}
    ) c
    where r.tiers is null
    order by d.id
    limit ${limit})
    union all
    (select c.id from retention_rules r
    join databases d on d.id = r.database_id
    join accounts a on a.id = d.account_id and ${openAccount(now)}
    left join lateral ${newestFinished('d.id')} nf on true
    cross join lateral (
      select b.id, b.started_at from backups b
      where b.database_id = d.id and ${tiersDeletable(now, STORED_RULE.tiers)}
      order by b.started_at
      limit ${limit}
    ) c
    where r.tiers is not null
    order by d.id
    limit ${limit})
    limit ${limit}`);
  return rows.map((r) => r.id);
}

/** Returns how many rows it deleted; 0 when another run holds them all or storage refused. */
async function deleteBatch(
  db: Db,
  storage: ObjectStorage,
  now: Date,
  candidates: string[],
  stats: RunStats,
): Promise<number> {
  // The candidates are checked again under lock: a row that stopped being deletable since (a
  // newer backup failed) is left alone. The database's newest finished status once per database.
  const removed = await removeBackups(db, storage, async (tx) => {
    const { rows } = await tx.execute<{ id: string }>(sql`
      with dbs as (select distinct database_id from backups where id in ${candidates}),
           nf as (select dbs.database_id, s.newest_status from dbs left join lateral ${newestFinished('dbs.database_id')} s on true)
      select b.id
      from backups b
      join databases d on d.id = b.database_id
      join accounts a on a.id = b.account_id and ${openAccount(now)}
      left join retention_rules r on r.database_id = b.database_id
      left join nf on nf.database_id = b.database_id
      where b.id in ${candidates} and ${deletable(now)}
      for update of b skip locked`);
    return rows.map((r) => r.id);
  });
  addRemoved(stats, removed);
  await recordAuditMany(
    db,
    removed.map((r) => ({
      accountId: r.accountId,
      actor: { kind: 'system', name: 'retention' },
      action: 'backup.deleted',
      objectKind: 'backup',
      objectId: r.id,
      details: { database: r.databaseId, reason: 'retention' },
    })),
  );
  return removed.length;
}

export async function applyRetention(
  db: Db,
  storage: ObjectStorage,
  now: Date,
  opts: { batch?: number; maxBatches?: number; budgetMs?: number } = {},
): Promise<RunStats> {
  const batch = opts.batch ?? RETENTION_BATCH;
  const maxBatches = opts.maxBatches ?? RETENTION_MAX_BATCHES;
  const budgetMs = opts.budgetMs ?? RETENTION_BUDGET_MS;
  return measured([storage], async (stats) => {
    const t0 = performance.now();
    while (stats.batches < maxBatches && performance.now() - t0 < budgetMs) {
      const candidates = await findCandidates(db, now, batch);
      if (candidates.length === 0) break;
      stats.batches++;
      const deleted = await deleteBatch(db, storage, now, candidates, stats);
      if (deleted === 0 || candidates.length < batch) break;
    }
  });
}
