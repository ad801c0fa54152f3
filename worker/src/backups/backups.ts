import {
  type Backup,
  type BackupList,
  backupFileName,
  MAX_PARTS,
  PLANS,
  partSizeForPlan,
} from '@resistro/contract';
import { and, desc, eq, gte, isNull, lte, or, type SQL, sql } from 'drizzle-orm';
import { accounts } from '../accounts/accounts.sql.ts';
import { agents } from '../agents/agents.sql.ts';
import { backupRequests, databases } from '../databases/databases.sql.ts';
import { findDatabase } from '../databases/databases.ts';
import type { Db } from '../db.ts';
import type { Config } from '../env.ts';
import { ApiError, notFound } from '../errors.ts';
import { decodeCursor, encodeCursor } from '../lib/cursor.ts';
import type { ObjectStorage } from '../storage/storage.ts';
import { backups } from './backups.sql.ts';

type Row = typeof backups.$inferSelect;

/** A running backup with no activity (part URLs, completion) for this long is failed. */
export const RUNNING_DEADLINE_MS = 6 * 3600_000;

export function toBackup(row: Row): Backup {
  return {
    id: row.id,
    databaseId: row.databaseId,
    databaseName: row.databaseName,
    agentId: row.agentId,
    status: row.status,
    trigger: row.trigger,
    sizeBytes: row.sizeBytes,
    sha256: row.sha256,
    keyId: row.keyId,
    error: row.error,
    startedAt: row.startedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    durationMs: row.durationMs,
    fileName: backupFileName(row.databaseName, row.startedAt),
  };
}

export function objectKeyFor(accountId: string, databaseId: string, backupId: string): string {
  // SECURITY: every object key is prefixed by its account, so a key never crosses tenants.
  return `accounts/${accountId}/databases/${databaseId}/${backupId}.resistro`;
}

export async function findBackup(db: Db, accountId: string, id: string): Promise<Row> {
  const [row] = await db
    .select()
    .from(backups)
    .where(and(eq(backups.id, id), eq(backups.accountId, accountId)));
  if (!row) throw notFound('backup');
  return row;
}

async function findRunning(db: Db, accountId: string, id: string): Promise<Row> {
  const row = await findBackup(db, accountId, id);
  if (row.status !== 'running' || !row.uploadId)
    throw new ApiError('conflict', `This backup is ${row.status}, not running`);
  return row;
}

export async function startBackup(
  db: Db,
  storage: ObjectStorage,
  accountId: string,
  input: {
    databaseId: string;
    trigger: Row['trigger'];
    requestId?: string | undefined;
    startedAt?: string | undefined;
    agentId?: string | undefined;
  },
  now: Date,
) {
  const database = await findDatabase(db, accountId, input.databaseId);
  const [account] = await db.select().from(accounts).where(eq(accounts.id, accountId));
  if (!account) throw notFound('account');
  if (account.cancelledAt)
    throw new ApiError('forbidden', 'This account is cancelled; no new backups are accepted');
  const plan = PLANS[account.plan];
  if (account.storageUsedBytes >= plan.storageBytes) {
    throw new ApiError(
      'quota_exceeded',
      `The storage quota of the ${plan.name} plan is used up; delete backups or upgrade`,
    );
  }
  if (input.agentId) {
    const [agent] = await db
      .select({ id: agents.id })
      .from(agents)
      .where(and(eq(agents.id, input.agentId), eq(agents.accountId, accountId)));
    if (!agent)
      throw new ApiError('validation_failed', 'Invalid input: agentId is not one of your agents', {
        agentId: 'is not one of your agents',
      });
  }
  const startedAt = input.startedAt ? new Date(input.startedAt) : now;
  if (startedAt.getTime() > now.getTime() + 5 * 60_000) {
    throw new ApiError('validation_failed', 'Invalid input: startedAt lies in the future', {
      startedAt: 'lies in the future',
    });
  }
  const id = crypto.randomUUID();
  const objectKey = objectKeyFor(accountId, database.id, id);
  const partSize = partSizeForPlan(plan);
  const uploadId = await storage.createMultipartUpload(objectKey);
  try {
    const row = await db.transaction(async (tx) => {
      if (input.requestId) {
        const claimed = await tx
          .update(backupRequests)
          .set({ claimedAt: now, backupId: id })
          .where(
            and(
              eq(backupRequests.id, input.requestId),
              eq(backupRequests.databaseId, database.id),
              eq(backupRequests.accountId, accountId),
              isNull(backupRequests.claimedAt),
            ),
          )
          .returning({ id: backupRequests.id });
        if (claimed.length === 0)
          throw new ApiError('conflict', 'This backup request is unknown or already taken');
      }
      const [inserted] = await tx
        .insert(backups)
        .values({
          id,
          accountId,
          databaseId: database.id,
          databaseName: database.databaseName,
          agentId: input.agentId ?? null,
          status: 'running',
          trigger: input.trigger,
          objectKey,
          uploadId,
          partSize,
          startedAt,
          deadlineAt: new Date(now.getTime() + RUNNING_DEADLINE_MS),
          createdAt: now,
        })
        .returning();
      await tx.update(databases).set({ lastBackupAt: startedAt }).where(eq(databases.id, database.id));
      return inserted!;
    });
    return { backup: toBackup(row), upload: { partSize, maxParts: MAX_PARTS } };
  } catch (e) {
    await storage.abortMultipartUpload(objectKey, uploadId).catch(() => {});
    throw e;
  }
}

export async function presignParts(
  db: Db,
  storage: ObjectStorage,
  config: Config,
  accountId: string,
  id: string,
  partNumbers: number[],
  now: Date,
) {
  const row = await findRunning(db, accountId, id);
  const expiresAt = new Date(now.getTime() + config.partUrlTtlSeconds * 1000);
  const parts = await Promise.all(
    [...new Set(partNumbers)].map(async (partNumber) => ({
      partNumber,
      url: await storage.presignPart(row.objectKey, row.uploadId!, partNumber, config.partUrlTtlSeconds),
    })),
  );
  // Activity pushes the deadline out: a long upload is not failed while it makes progress.
  await db
    .update(backups)
    .set({ deadlineAt: new Date(now.getTime() + RUNNING_DEADLINE_MS) })
    .where(and(eq(backups.id, row.id), eq(backups.status, 'running')));
  return { parts, expiresAt: expiresAt.toISOString() };
}

export async function completeBackup(
  db: Db,
  storage: ObjectStorage,
  accountId: string,
  id: string,
  input: {
    parts: { partNumber: number; etag: string }[];
    sizeBytes: number;
    sha256: string;
    keyId: string;
    durationMs?: number | undefined;
  },
  now: Date,
): Promise<Backup> {
  const row = await findRunning(db, accountId, id);
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
  const completed = await storage.completeMultipartUpload(row.objectKey, row.uploadId!, parts);
  if (completed === 'upload_not_found')
    throw new ApiError('conflict', 'Object storage refused the parts (NoSuchUpload); upload them again');
  // Trust, but verify: the object must hold exactly the bytes the agent says it sent.
  const head = await storage.headObject(row.objectKey);
  if (!head || head.size !== input.sizeBytes) {
    await storage.deleteObject(row.objectKey).catch(() => {});
    const error = `Stored object has ${head?.size ?? 0} bytes, the agent reported ${input.sizeBytes}`;
    await markFailed(db, row, error, now, input.durationMs);
    throw new ApiError('conflict', `${error}; the backup was marked failed`);
  }
  const finished = await db.transaction(async (tx) => {
    const [updated] = await tx
      .update(backups)
      .set({
        status: 'succeeded',
        uploadId: null,
        sizeBytes: input.sizeBytes,
        sha256: input.sha256,
        keyId: input.keyId,
        finishedAt: now,
        durationMs: input.durationMs ?? now.getTime() - row.startedAt.getTime(),
      })
      .where(and(eq(backups.id, row.id), eq(backups.status, 'running')))
      .returning();
    if (!updated) throw new ApiError('conflict', 'This backup was completed or failed meanwhile');
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
  return toBackup(finished);
}

async function markFailed(
  db: Db,
  row: Row,
  error: string,
  now: Date,
  durationMs?: number,
  opts: { uploadAborted: boolean } = { uploadAborted: true },
): Promise<Row | undefined> {
  return db.transaction(async (tx) => {
    const [updated] = await tx
      .update(backups)
      .set({
        status: 'failed',
        // An upload whose abort failed keeps its id, so its parts can still be found and removed.
        ...(opts.uploadAborted && { uploadId: null }),
        error,
        finishedAt: now,
        durationMs: durationMs ?? now.getTime() - row.startedAt.getTime(),
      })
      .where(and(eq(backups.id, row.id), eq(backups.status, 'running')))
      .returning();
    if (updated) {
      await tx
        .update(databases)
        .set({ lastStatus: 'failed', lastError: error })
        .where(eq(databases.id, row.databaseId));
    }
    return updated;
  });
}

export async function failBackup(
  db: Db,
  storage: ObjectStorage,
  accountId: string,
  id: string,
  input: { error: string; durationMs?: number | undefined },
  now: Date,
): Promise<Backup> {
  const row = await findRunning(db, accountId, id);
  // Abort first: the parts must not outlive the backup that failed.
  const uploadAborted = await storage.abortMultipartUpload(row.objectKey, row.uploadId!).then(
    () => true,
    () => false,
  );
  const updated = await markFailed(db, row, input.error, now, input.durationMs, { uploadAborted });
  if (!updated) throw new ApiError('conflict', 'This backup was completed or failed meanwhile');
  return toBackup(updated);
}

/** Newest first, keyset pagination on (started_at, id): as fast on page 500 as on page 1. */
export async function listBackups(
  db: Db,
  accountId: string,
  q: {
    databaseId?: string | undefined;
    status?: Row['status'] | undefined;
    from?: string | undefined;
    to?: string | undefined;
    cursor?: string | undefined;
    limit?: number | undefined;
  },
): Promise<BackupList> {
  const limit = q.limit ?? 50;
  const where: SQL[] = [eq(backups.accountId, accountId)];
  if (q.databaseId) where.push(eq(backups.databaseId, q.databaseId));
  if (q.status) where.push(eq(backups.status, q.status));
  if (q.from) where.push(gte(backups.startedAt, new Date(q.from)));
  if (q.to) where.push(lte(backups.startedAt, new Date(q.to)));
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    where.push(
      sql`(${backups.startedAt}, ${backups.id}) < (${c.at.toISOString()}::timestamptz, ${c.id}::uuid)`,
    );
  }
  const rows = await db
    .select()
    .from(backups)
    .where(and(...where))
    .orderBy(desc(backups.startedAt), desc(backups.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(toBackup),
    nextCursor: rows.length > limit && last ? encodeCursor(last.startedAt, last.id) : null,
  };
}

/** Removes the object, then the row and its bytes from the usage, exactly once. */
export async function deleteBackup(
  db: Db,
  storage: ObjectStorage,
  accountId: string,
  id: string,
): Promise<void> {
  const row = await findBackup(db, accountId, id);
  if (row.status === 'running') throw new ApiError('conflict', 'This backup is still running');
  await storage.deleteObject(row.objectKey);
  await db.transaction(async (tx) => {
    const [deleted] = await tx
      .delete(backups)
      .where(and(eq(backups.id, row.id), eq(backups.accountId, accountId)))
      .returning({ sizeBytes: backups.sizeBytes, status: backups.status });
    if (!deleted) throw notFound('backup'); // deleted by a concurrent request
    if (deleted.status === 'succeeded' && deleted.sizeBytes) {
      await tx
        .update(accounts)
        .set({ storageUsedBytes: sql`${accounts.storageUsedBytes} - ${deleted.sizeBytes}` })
        .where(eq(accounts.id, accountId));
    }
  });
}

export async function downloadUrl(
  db: Db,
  storage: ObjectStorage,
  config: Config,
  accountId: string,
  id: string,
  now: Date,
) {
  const row = await findBackup(db, accountId, id);
  if (row.status !== 'succeeded')
    throw new ApiError('conflict', `Only a successful backup can be downloaded; this one is ${row.status}`);
  const fileName = backupFileName(row.databaseName, row.startedAt);
  const url = await storage.presignDownload(row.objectKey, fileName, config.downloadUrlTtlSeconds);
  return {
    url,
    fileName,
    expiresAt: new Date(now.getTime() + config.downloadUrlTtlSeconds * 1000).toISOString(),
  };
}
