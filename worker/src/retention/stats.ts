// What a retention run did and what it cost: printed by the cron log and by the benchmark.
import type { RemovedBackup } from '../backups/remove.ts';

export type RunStats = {
  deleted: number;
  freedBytes: number;
  batches: number;
  storageRequests: number;
  storageMs: number;
  /** wall time minus time waiting for object storage: queries, transactions, commits */
  dbMs: number;
  wallMs: number;
};

export function emptyStats(): RunStats {
  return { deleted: 0, freedBytes: 0, batches: 0, storageRequests: 0, storageMs: 0, dbMs: 0, wallMs: 0 };
}

/** Counts a batch the backups feature removed. */
export function addRemoved(stats: RunStats, removed: RemovedBackup[]): void {
  stats.deleted += removed.length;
  stats.freedBytes += removed.reduce((n, r) => n + (r.status === 'succeeded' ? (r.sizeBytes ?? 0) : 0), 0);
}

/** Runs `fn`, then fills in the time and request figures from the counters of the stores used. */
export async function measured(
  stores: Array<{ requestCount: number; elapsedMs?: number }>,
  fn: (stats: RunStats) => Promise<void>,
): Promise<RunStats> {
  const stats = emptyStats();
  const requests0 = stores.reduce((n, s) => n + s.requestCount, 0);
  const storage0 = stores.reduce((n, s) => n + (s.elapsedMs ?? 0), 0);
  const t0 = performance.now();
  try {
    await fn(stats);
  } finally {
    stats.wallMs = Math.round(performance.now() - t0);
    stats.storageRequests = stores.reduce((n, s) => n + s.requestCount, 0) - requests0;
    stats.storageMs = Math.round(stores.reduce((n, s) => n + (s.elapsedMs ?? 0), 0) - storage0);
    stats.dbMs = Math.max(0, stats.wallMs - stats.storageMs);
  }
  return stats;
}
