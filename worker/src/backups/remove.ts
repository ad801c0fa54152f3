// Removing backups: the one place that deletes backup rows, and so the one place that takes
// their bytes off the account's storage usage and counts deleted failures in (Prometheus'
// backup_failures_total must never go down). The dashboard's delete, retention and the purge of
// cancelled accounts all come here; they differ only in which rows they claim.
import { and, asc, count, eq, inArray, isNull, lte, ne, or, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db.ts';
import { ApiError, notFound } from '../errors.ts';
import { isLocked } from '../locks/locks.ts';
import type { ObjectStorage } from '../storage/storage.ts';
import { backups, databaseCounters } from './backups.sql.ts';
import { findBackup } from './backups.ts';

export type RemovedBackup = Pick<
  typeof backups.$inferSelect,
  'id' | 'accountId' | 'databaseId' | 'status' | 'sizeBytes'
>;

/**
 * Picks the rows to remove inside the removing transaction and locks them (FOR UPDATE, with
 * SKIP LOCKED where two runs may overlap), so each row is removed, and counted, exactly once.
 */
export type Claim = (tx: Tx) => Promise<string[]>;

/**
 * In one transaction: claims the rows, removes their objects (aborting what may still be an
 * upload), then deletes the rows whose objects are gone, takes their bytes off the usage and
 * counts their failures. Returns the rows the DELETE removed: only those count, whatever else ran
 * at the same time. If the transaction fails after the objects went, the rows stay and point at
 * missing objects; the next try deletes them again (a missing object counts as deleted).
 */
export async function removeBackups(db: Db, storage: ObjectStorage, claim: Claim): Promise<RemovedBackup[]> {
  return db.transaction(async (tx) => {
    const ids = await claim(tx);
    if (ids.length === 0) return [];
    const claimed = await tx
      .select({ id: backups.id, objectKey: backups.objectKey, uploadId: backups.uploadId })
      .from(backups)
      .where(inArray(backups.id, ids));
    for (const r of claimed) if (r.uploadId) await storage.abortMultipartUpload(r.objectKey, r.uploadId);
    const gone = await storage.deleteObjects(claimed.map((r) => r.objectKey));
    const goneIds = claimed.filter((r) => gone.has(r.objectKey)).map((r) => r.id);
    if (goneIds.length === 0) return [];
    const removed = await tx.delete(backups).where(inArray(backups.id, goneIds)).returning({
      id: backups.id,
      accountId: backups.accountId,
      databaseId: backups.databaseId,
      status: backups.status,
      sizeBytes: backups.sizeBytes,
    });
    await releaseUsage(tx, removed);
    await countDeletedFailures(tx, removed);
    return removed;
  });
}

async function releaseUsage(tx: Tx, removed: RemovedBackup[]): Promise<void> {
  const freed = new Map<string, number>();
  for (const r of removed) {
    if (r.status === 'succeeded' && r.sizeBytes)
      freed.set(r.accountId, (freed.get(r.accountId) ?? 0) + r.sizeBytes);
  }
  if (freed.size === 0) return;
  // Raw SQL: one UPDATE ... FROM (VALUES ...) for the whole batch (up to 1,000 accounts in a
  // retention batch), where drizzle would need one statement per account.
  const values = sql.join(
    [...freed].map(([id, bytes]) => sql`(${id}::uuid, ${bytes}::bigint)`),
    sql`, `,
  );
  await tx.execute(sql`
    update accounts a set storage_used_bytes = a.storage_used_bytes - v.bytes
    from (values ${values}) as v(id, bytes) where a.id = v.id`);
}

async function countDeletedFailures(tx: Tx, removed: RemovedBackup[]): Promise<void> {
  const failures = new Map<string, number>();
  for (const r of removed) {
    if (r.status === 'failed') failures.set(r.databaseId, (failures.get(r.databaseId) ?? 0) + 1);
  }
  if (failures.size === 0) return;
  await tx
    .insert(databaseCounters)
    .values([...failures].map(([databaseId, n]) => ({ databaseId, failuresDeleted: n })))
    .onConflictDoUpdate({
      target: databaseCounters.databaseId,
      set: { failuresDeleted: sql`${databaseCounters.failuresDeleted} + excluded.failures_deleted` },
    });
}

/** The dashboard's (and the API's) delete of one finished backup. */
export async function deleteBackup(
  db: Db,
  storage: ObjectStorage,
  accountId: string,
  id: string,
): Promise<void> {
  const row = await findBackup(db, accountId, id);
  if (row.status === 'running') throw new ApiError('conflict', 'This backup is still running');
  if (isLocked(row, new Date()))
    throw new ApiError(
      'conflict',
      `This backup is locked until ${row.lockedUntil!.toISOString()}; storage refuses to delete it before then`,
    );
  const removed = await removeBackups(db, storage, async (tx) => {
    const rows = await tx
      .select({ id: backups.id })
      .from(backups)
      .where(and(eq(backups.id, row.id), eq(backups.accountId, accountId), ne(backups.status, 'running')))
      .for('update');
    return rows.map((r) => r.id);
  });
  if (removed.length > 0) return;
  // Nothing removed: a concurrent request deleted it, or storage kept the object.
  await findBackup(db, accountId, id).catch(() => {
    throw notFound('backup');
  });
  throw new ApiError('storage_error', 'Object storage did not delete the backup; try again');
}

/**
 * The oldest backups of an account (the purge of a cancelled account), skipping rows another run
 * holds and backups still locked at `now` (they, and so the account, stay until their date).
 */
export function oldestOfAccount(accountId: string, limit: number, now = new Date()): Claim {
  return async (tx) => {
    const rows = await tx
      .select({ id: backups.id })
      .from(backups)
      .where(
        and(eq(backups.accountId, accountId), or(isNull(backups.lockedUntil), lte(backups.lockedUntil, now))),
      )
      .orderBy(asc(backups.startedAt))
      .limit(limit)
      .for('update', { skipLocked: true });
    return rows.map((r) => r.id);
  };
}

export async function countBackupsOf(db: Db, accountId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(backups).where(eq(backups.accountId, accountId));
  return row?.n ?? 0;
}
