import {
  type Backup,
  type BackupList,
  backupFileName,
  MAX_PARTS,
  PLANS,
  partSizeForPlan,
} from '@resistro/contract';
import { and, desc, eq, gte, isNull, lte, type SQL, sql } from 'drizzle-orm';
import { accounts } from '../accounts/accounts.sql.ts';
import { agents } from '../agents/agents.sql.ts';
import { backupRequests, databases } from '../databases/databases.sql.ts';
import { findDatabase } from '../databases/databases.ts';
import type { Db } from '../db.ts';
import type { Config } from '../env.ts';
import { ApiError, notFound } from '../errors.ts';
import { decodeCursor, encodeCursor } from '../lib/cursor.ts';
import { signFileLink } from '../lib/file-link.ts';
import { lockForUpload } from '../locks/locks.ts';
import type { ObjectStorage, PartChecksum } from '../storage/storage.ts';
import { backups } from './backups.sql.ts';
import { partDigests } from './checksums.ts';

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
    storageChecksum: row.storageChecksum,
    keyId: row.keyId,
    error: row.error,
    errorCode: row.errorCode,
    errorParams: row.errorParams,
    startedAt: row.startedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    durationMs: row.durationMs,
    fileName: backupFileName(row.databaseName, row.startedAt),
    lockedUntil: row.lockedUntil?.toISOString() ?? null,
    ...(row.dedup && { dedup: true, logicalBytes: row.logicalBytes }),
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
  /** how storage checks the parts (docs/checksums.md); null: not at all */
  partChecksum: PartChecksum | null = null,
) {
  const database = await findDatabase(db, accountId, input.databaseId);
  const [account] = await db.select().from(accounts).where(eq(accounts.id, accountId));
  if (!account) throw notFound('account');
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
  // A database locked by its rule (locks/) has its object locked from the moment it exists.
  const lock = await lockForUpload(db, database.id, now);
  const uploadId = await storage.createMultipartUpload(objectKey, partChecksum ?? undefined, lock);
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
          partChecksum,
          lockedUntil: lock?.retainUntil ?? null,
          startedAt,
          deadlineAt: new Date(now.getTime() + RUNNING_DEADLINE_MS),
          createdAt: now,
        })
        .returning();
      await tx.update(databases).set({ lastBackupAt: startedAt }).where(eq(databases.id, database.id));
      return inserted!;
    });
    return {
      backup: toBackup(row),
      upload: { partSize, maxParts: MAX_PARTS, ...(partChecksum && { checksum: partChecksum }) },
    };
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
  input: {
    partNumbers?: number[] | undefined;
    parts?: { partNumber: number; checksum: string }[] | undefined;
  },
  now: Date,
) {
  const row = await findRunning(db, accountId, id);
  const expiresAt = new Date(now.getTime() + config.partUrlTtlSeconds * 1000);
  const parts = await Promise.all(
    partDigests(row.partChecksum, input).map(async ({ partNumber, digest }) => ({
      partNumber,
      url: await storage.presignPart(
        row.objectKey,
        row.uploadId!,
        partNumber,
        config.partUrlTtlSeconds,
        digest,
      ),
    })),
  );
  // Activity pushes the deadline out: a long upload is not failed while it makes progress.
  await db
    .update(backups)
    .set({ deadlineAt: new Date(now.getTime() + RUNNING_DEADLINE_MS) })
    .where(and(eq(backups.id, row.id), eq(backups.status, 'running')));
  return { parts, expiresAt: expiresAt.toISOString() };
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

export async function downloadUrl(
  db: Db,
  storage: ObjectStorage,
  config: Config,
  accountId: string,
  id: string,
  now: Date,
  /** this service's origin, for a deduplicated backup's download link */
  origin = config.appOrigin ?? '',
) {
  const row = await findBackup(db, accountId, id);
  if (row.status !== 'succeeded')
    throw new ApiError('conflict', `Only a successful backup can be downloaded; this one is ${row.status}`);
  const fileName = backupFileName(row.databaseName, row.startedAt);
  // Deduplicated: the worker streams the single file together from the packs (dedup/file.ts).
  if (row.dedup) return { fileName, ...(await signFileLink(config, origin, row.id, now)) };
  // Asked first, so that a storage that is down or lost the object is known (storage_error) and
  // the caller can offer the copy in the second location instead of a link that fails.
  const head = await storage.headObject(row.objectKey);
  if (!head) throw new ApiError('storage_error', "The backup's file is missing from storage");
  const url = await storage.presignDownload(row.objectKey, fileName, config.downloadUrlTtlSeconds);
  return {
    url,
    fileName,
    expiresAt: new Date(now.getTime() + config.downloadUrlTtlSeconds * 1000).toISOString(),
  };
}
