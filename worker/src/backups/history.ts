// Reads of the backup history that other features decide on: the metrics endpoint (newest
// success, newest outcome, failures so far) and alert detection (trailing failures, size drops).
import { and, count, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { backups, databaseCounters } from './backups.sql.ts';

export type FinishedBackup = {
  status: 'succeeded' | 'failed';
  error: string | null;
  errorCode: string | null;
  errorParams: Record<string, string> | null;
  startedAt: Date;
};
export type SucceededBackup = { id: string; sizeBytes: number; durationMs: number | null; startedAt: Date };
export type BackupHistory = {
  /** newest first, running backups left out */
  finished: FinishedBackup[];
  /** newest first */
  succeeded: SucceededBackup[];
};

const uuidArray = (ids: string[]): SQL =>
  sql`array[${sql.join(
    ids.map((id) => sql`${id}`),
    sql`, `,
  )}]::uuid[]`;

/**
 * The newest `finished` finished and `succeeded` successful backups of each database, in one
 * round trip. Raw SQL: drizzle cannot express a LATERAL subquery with a per-database LIMIT, and
 * that is what keeps the cost to a few index rows per database (index on database, start desc)
 * however long the history is.
 */
export async function recentBackups(
  db: Db,
  databaseIds: string[],
  n: { finished: number; succeeded: number },
): Promise<Map<string, BackupHistory>> {
  const map = new Map<string, BackupHistory>();
  if (databaseIds.length === 0) return map;
  const { rows } = await db.execute<{
    database_id: string;
    finished: Array<{
      status: FinishedBackup['status'];
      error: string | null;
      error_code: string | null;
      error_params: Record<string, string> | null;
      started_at: string;
    }>;
    succeeded: Array<{ id: string; size_bytes: number; duration_ms: number | null; started_at: string }>;
  }>(sql`
    select d.id as database_id,
           coalesce((select json_agg(json_build_object('status', x.status, 'error', x.error, 'error_code', x.error_code,
                                                       'error_params', x.error_params, 'started_at', x.started_at)
                                     order by x.started_at desc)
                     from (select b.status, b.error, b.error_code, b.error_params, b.started_at from backups b
                           where b.database_id = d.id and b.status <> 'running'
                           order by b.started_at desc limit ${n.finished}) x), '[]') as finished,
           coalesce((select json_agg(json_build_object('id', x.id, 'size_bytes', x.size_bytes, 'duration_ms', x.duration_ms,
                                                       'started_at', x.started_at)
                                     order by x.started_at desc)
                     from (select b.id, b.size_bytes, b.duration_ms, b.started_at from backups b
                           where b.database_id = d.id and b.status = 'succeeded'
                           order by b.started_at desc limit ${n.succeeded}) x), '[]') as succeeded
    from unnest(${uuidArray(databaseIds)}) as d(id)`);
  for (const r of rows) {
    map.set(r.database_id, {
      finished: r.finished.map((f) => ({
        status: f.status,
        error: f.error,
        errorCode: f.error_code,
        errorParams: f.error_params,
        startedAt: new Date(f.started_at),
      })),
      succeeded: r.succeeded.map((s) => ({
        id: s.id,
        sizeBytes: Number(s.size_bytes),
        durationMs: s.duration_ms,
        startedAt: new Date(s.started_at),
      })),
    });
  }
  return map;
}

/** Failed backups of each database since it was added: those still listed and those removed. */
export async function failureCounts(db: Db, databaseIds: string[]): Promise<Map<string, number>> {
  const map = new Map<string, number>(databaseIds.map((id) => [id, 0]));
  if (databaseIds.length === 0) return map;
  const listed = await db
    .select({ databaseId: backups.databaseId, n: count() })
    .from(backups)
    .where(and(inArray(backups.databaseId, databaseIds), eq(backups.status, 'failed')))
    .groupBy(backups.databaseId);
  const removed = await db
    .select({ databaseId: databaseCounters.databaseId, n: databaseCounters.failuresDeleted })
    .from(databaseCounters)
    .where(inArray(databaseCounters.databaseId, databaseIds));
  for (const r of [...listed, ...removed]) map.set(r.databaseId, (map.get(r.databaseId) ?? 0) + Number(r.n));
  return map;
}
