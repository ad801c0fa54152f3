// How a running backup ends: completed by its agent, failed by its agent, or abandoned (failed by
// the cron once its deadline passed). Each is safe to retry whatever step failed: storage is
// asked first and the row changes last, so a retry finds storage done and only the row to change.
// - complete: an upload that storage no longer knows may be one an earlier try assembled; the
//   object is then checked and accepted when its size is the size reported. A retry of a
//   completion that went through answers the same backup.
// - fail: aborting an upload that is gone is fine; a retry of a failure that went through (the
//   same error) answers the same backup.
// - abandon: the upload is aborted before the row is failed; if the abort fails the row stays
//   running with its upload id and the next run retries, so no upload's parts are forgotten.
import { type Backup, type BackupErrorCode, type BackupErrorParams, INT4_MAX } from '@resistro/contract';
import { and, asc, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { accounts } from '../accounts/accounts.sql.ts';
import { databases } from '../databases/databases.sql.ts';
import type { Db, DbOrTx } from '../db.ts';
import { ApiError } from '../errors.ts';
import { applyTierLock } from '../locks/locks.ts';
import type { ObjectStorage } from '../storage/storage.ts';
import { backups } from './backups.sql.ts';
import { findBackup, toBackup } from './backups.ts';
import { completionParts, objectChecksum } from './checksums.ts';

type Row = typeof backups.$inferSelect;

export const ABANDONED_PER_RUN = 100;
export const ABANDONED_ERROR =
  'The agent did not finish this backup before its deadline (stopped, killed or lost its connection)';

/** Time since the start, in the column's range (a start far in the past must not overflow it). */
function elapsedMs(row: Pick<Row, 'startedAt'>, now: Date): number {
  return Math.min(INT4_MAX, Math.max(0, now.getTime() - row.startedAt.getTime()));
}

/**
 * The one transition to `failed`: running rows only (a row another request finished meanwhile
 * is left alone), the database shows the error. An upload whose abort failed keeps its id, so
 * its parts can still be found and removed. Returns the rows it failed.
 */
async function failRunning(
  db: DbOrTx,
  rows: Row[],
  error: string,
  now: Date,
  opts: {
    durationMs?: number | undefined;
    uploadAborted: boolean;
    errorCode?: BackupErrorCode | undefined;
    errorParams?: BackupErrorParams | undefined;
  },
): Promise<Row[]> {
  if (rows.length === 0) return [];
  return db.transaction(async (tx) => {
    const failed: Row[] = [];
    for (const row of rows) {
      const [updated] = await tx
        .update(backups)
        .set({
          status: 'failed',
          // a failed upload leaves no object to lock
          lockedUntil: null,
          ...(opts.uploadAborted && { uploadId: null }),
          error,
          errorCode: opts.errorCode ?? null,
          errorParams: opts.errorParams ?? null,
          finishedAt: now,
          durationMs: opts.durationMs ?? elapsedMs(row, now),
        })
        .where(and(eq(backups.id, row.id), eq(backups.status, 'running')))
        .returning();
      if (updated) failed.push(updated);
    }
    const databaseIds = [...new Set(failed.map((r) => r.databaseId))];
    if (databaseIds.length > 0) {
      await tx
        .update(databases)
        .set({ lastStatus: 'failed', lastError: error })
        .where(inArray(databases.id, databaseIds));
    }
    return failed;
  });
}

/** A retry after the row changed: the same answer when it ended as asked, else a conflict. */
function alreadyFinished(row: Row, wanted: Row['status'], same: boolean): Backup {
  if (row.status === wanted && same) return toBackup(row);
  throw new ApiError('conflict', `This backup is ${row.status}, not running`);
}

export async function completeBackup(
  db: Db,
  storage: ObjectStorage,
  accountId: string,
  id: string,
  input: {
    parts: { partNumber: number; etag: string; checksum?: string | undefined }[];
    sizeBytes: number;
    sha256: string;
    keyId: string;
    durationMs?: number | undefined;
  },
  now: Date,
): Promise<Backup> {
  const row = await findBackup(db, accountId, id);
  if (row.status !== 'running' || !row.uploadId) {
    const same =
      row.sizeBytes === input.sizeBytes && row.sha256 === input.sha256 && row.keyId === input.keyId;
    return alreadyFinished(row, 'succeeded', same);
  }
  const parts = [...input.parts].sort((a, b) => a.partNumber - b.partNumber);
  const expectedParts = Math.max(1, Math.ceil(input.sizeBytes / row.partSize));
  const contiguous = parts.every((p, i) => p.partNumber === i + 1);
  if (!contiguous || parts.length !== expectedParts) {
    throw new ApiError(
      'validation_failed',
      `Invalid input: ${input.sizeBytes} bytes in parts of ${row.partSize} bytes need parts 1..${expectedParts}`,
      { parts: `must be parts 1..${expectedParts}, each listed once` },
    );
  }
  // An upload that checks SHA-256 completes only with each part's checksum (storage compares them).
  const checked = completionParts(row.partChecksum, parts);
  const storageChecksum = await objectChecksum(row.partChecksum, parts);
  const completed = await storage.completeMultipartUpload(row.objectKey, row.uploadId, checked);
  // Trust, but verify: the object must hold exactly the bytes the agent says it sent.
  const head = await storage.headObject(row.objectKey);
  if (completed === 'upload_not_found' && head?.size !== input.sizeBytes) {
    // Neither an open upload nor an object an earlier try assembled: the parts are gone.
    throw new ApiError('conflict', 'Object storage refused the parts (NoSuchUpload); upload them again');
  }
  if (!head || head.size !== input.sizeBytes) {
    await storage.deleteObject(row.objectKey).catch(() => {});
    const error = `Stored object has ${head?.size ?? 0} bytes, the agent reported ${input.sizeBytes}`;
    await failRunning(db, [row], error, now, { durationMs: input.durationMs, uploadAborted: true });
    throw new ApiError('conflict', `${error}; the backup was marked failed`);
  }
  // A backup that is the first of its month (etc.) is locked as the rule's tier says, before it
  // counts as succeeded: a failure here leaves it running, and the agent's retry locks it again.
  const lockedUntil = await applyTierLock(db, storage, row);
  const finished = await db.transaction(async (tx) => {
    const [updated] = await tx
      .update(backups)
      .set({
        status: 'succeeded',
        lockedUntil,
        uploadId: null,
        sizeBytes: input.sizeBytes,
        sha256: input.sha256,
        storageChecksum,
        keyId: input.keyId,
        finishedAt: now,
        durationMs: input.durationMs ?? elapsedMs(row, now),
      })
      .where(and(eq(backups.id, row.id), eq(backups.status, 'running')))
      .returning();
    if (!updated) return undefined;
    await tx
      .update(accounts)
      .set({ storageUsedBytes: sql`${accounts.storageUsedBytes} + ${input.sizeBytes}` })
      .where(eq(accounts.id, accountId));
    await tx
      .update(databases)
      .set({ lastSuccessAt: row.startedAt, lastStatus: 'succeeded', lastError: null })
      .where(
        and(
          eq(databases.id, row.databaseId),
          or(isNull(databases.lastSuccessAt), lte(databases.lastSuccessAt, row.startedAt)),
        ),
      );
    return updated;
  });
  if (finished) return toBackup(finished);
  // Another request finished it meanwhile (the same completion sent twice, or a failure).
  const current = await findBackup(db, accountId, id);
  return alreadyFinished(
    current,
    'succeeded',
    current.sizeBytes === input.sizeBytes && current.sha256 === input.sha256 && current.keyId === input.keyId,
  );
}

export async function failBackup(
  db: Db,
  storage: ObjectStorage,
  accountId: string,
  id: string,
  input: {
    error: string;
    errorCode?: BackupErrorCode | undefined;
    errorParams?: BackupErrorParams | undefined;
    durationMs?: number | undefined;
  },
  now: Date,
): Promise<Backup> {
  const row = await findBackup(db, accountId, id);
  if (row.status !== 'running' || !row.uploadId)
    return alreadyFinished(row, 'failed', row.error === input.error);
  // Abort first: the parts must not outlive the backup that failed.
  const uploadAborted = await storage.abortMultipartUpload(row.objectKey, row.uploadId).then(
    () => true,
    () => false,
  );
  const [failed] = await failRunning(db, [row], input.error, now, {
    durationMs: input.durationMs,
    errorCode: input.errorCode,
    errorParams: input.errorParams,
    uploadAborted,
  });
  if (failed) return toBackup(failed);
  const current = await findBackup(db, accountId, id);
  return alreadyFinished(current, 'failed', current.error === input.error);
}

/** Cron: fails the running backups whose deadline passed, after aborting their uploads. */
export async function failAbandonedBackups(
  db: Db,
  storage: ObjectStorage,
  now: Date,
  limit = ABANDONED_PER_RUN,
): Promise<number> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .select()
      .from(backups)
      .where(and(eq(backups.status, 'running'), lt(backups.deadlineAt, now)))
      .orderBy(asc(backups.deadlineAt))
      .limit(limit)
      .for('update', { skipLocked: true });
    const aborted: Row[] = [];
    for (const r of rows) {
      try {
        if (r.uploadId) await storage.abortMultipartUpload(r.objectKey, r.uploadId);
        aborted.push(r);
      } catch (e) {
        console.error('abort of an abandoned upload failed; retrying next run', r.id, e);
      }
    }
    const failed = await failRunning(tx, aborted, ABANDONED_ERROR, now, { uploadAborted: true });
    return failed.length;
  });
}
