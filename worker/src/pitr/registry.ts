// The registry of log segments and base backups: presigned PUT URLs in batches, registration
// checked against storage, listings, and one segment's download for `resistro wal-fetch`.
import {
  type PitrBaseBackup,
  type PitrBaseBackupBody,
  type PitrSegment,
  type PitrSegmentInput,
  type PitrUploadUrls,
  PLANS,
} from '@resistro/contract';
import { and, asc, eq, gt, inArray, sql } from 'drizzle-orm';
import { accounts } from '../accounts/accounts.sql.ts';
import { backups } from '../backups/backups.sql.ts';
import { findDatabase } from '../databases/databases.ts';
import type { Db, DbOrTx } from '../db.ts';
import type { Config } from '../env.ts';
import { ApiError, notFound } from '../errors.ts';
import { checksumHeader } from '../storage/s3.ts';
import type { ObjectStorage, PartDigest } from '../storage/storage.ts';
import type { ChainBase, ChainSegment } from './chain.ts';
import { pitrBaseBackups, pitrSegments } from './pitr.sql.ts';
import { findProtected } from './settings.ts';

type SegmentRow = typeof pitrSegments.$inferSelect;
type BaseRow = typeof pitrBaseBackups.$inferSelect;

export function toSegment(r: SegmentRow): PitrSegment {
  return {
    stream: r.stream,
    name: r.name,
    startPosition: r.startPosition,
    endPosition: r.endPosition,
    startOffset: r.startOffset,
    endOffset: r.endOffset,
    sizeBytes: r.sizeBytes,
    sha256: r.sha256,
    partial: r.partial,
    closedAt: r.closedAt.toISOString(),
    lastCommitAt: r.lastCommitAt?.toISOString() ?? null,
    missingSince: r.missingSince?.toISOString() ?? null,
  };
}

export function toBaseBackup(r: BaseRow & { sizeBytes?: number | null }): PitrBaseBackup {
  return {
    backupId: r.backupId,
    stream: r.stream,
    startPosition: r.startPosition,
    endPosition: r.endPosition,
    startOffset: r.startOffset,
    endOffset: r.endOffset,
    firstSegment: r.firstSegment,
    consistentAt: r.consistentAt.toISOString(),
    sizeBytes: r.sizeBytes ?? null,
  };
}

/**
 * SECURITY: under the account's prefix, as every object; the name is a checked token. The key
 * carries the content's checksum, so an upload never overwrites an object the registry points at
 * (an agent stopped between its PUT and the registration, or a partial snapshot uploaded again,
 * leaves the registered object as it was).
 */
export function segmentKey(
  accountId: string,
  databaseId: string,
  s: Pick<PitrSegmentInput, 'stream' | 'name' | 'partial' | 'endOffset' | 'sha256'>,
): string {
  const suffix = s.partial ? `.partial-${s.endOffset}` : '';
  return `accounts/${accountId}/databases/${databaseId}/pitr/${s.stream}/${s.name}${suffix}.${s.sha256.slice(0, 16)}.resistro`;
}

export type Chain = {
  segmentRows: SegmentRow[];
  baseRows: Array<BaseRow & { sizeBytes: number | null }>;
  segments: ChainSegment[];
  bases: ChainBase[];
};

export async function loadChain(db: DbOrTx, databaseId: string): Promise<Chain> {
  const segmentRows = await db
    .select()
    .from(pitrSegments)
    .where(eq(pitrSegments.databaseId, databaseId))
    .orderBy(asc(pitrSegments.stream), asc(pitrSegments.startOffset));
  const baseRows = await db
    .select({ base: pitrBaseBackups, sizeBytes: backups.sizeBytes })
    .from(pitrBaseBackups)
    .innerJoin(backups, eq(backups.id, pitrBaseBackups.backupId))
    .where(and(eq(pitrBaseBackups.databaseId, databaseId), eq(backups.status, 'succeeded')))
    .orderBy(asc(pitrBaseBackups.consistentAt));
  return {
    segmentRows,
    baseRows: baseRows.map((r) => ({ ...r.base, sizeBytes: r.sizeBytes })),
    segments: segmentRows.map((r) => ({
      stream: r.stream,
      name: r.name,
      startPosition: r.startPosition,
      endPosition: r.endPosition,
      startOffset: r.startOffset,
      endOffset: r.endOffset,
      closedAt: r.closedAt,
      lastCommitAt: r.lastCommitAt,
      missing: r.missingSince !== null,
    })),
    bases: baseRows.map((r) => ({
      backupId: r.base.backupId,
      stream: r.base.stream,
      startOffset: r.base.startOffset,
      endOffset: r.base.endOffset,
      consistentAt: r.base.consistentAt,
    })),
  };
}

function hexToBase64(hex: string): string {
  return btoa(String.fromCharCode(...(hex.match(/../g) ?? []).map((h) => Number.parseInt(h, 16))));
}

/** The checksum storage checks the PUT against: the deployment's choice, as for backup parts. */
function digestFor(config: Config, s: PitrSegmentInput): PartDigest {
  if (config.s3.partChecksum === 'sha256') return { algorithm: 'sha256', value: hexToBase64(s.sha256) };
  if (!s.md5)
    throw new ApiError('validation_failed', 'Invalid input: md5 is required by this storage', {
      md5: 'is required by this storage',
    });
  return { algorithm: 'md5', value: s.md5 };
}

/** Each segment once, each a range forward: refused by field, as the contract refuses shapes. */
function distinctNames(segments: PitrSegmentInput[]): void {
  const seen = new Set<string>();
  for (const [i, s] of segments.entries()) {
    if (s.endOffset <= s.startOffset)
      throw new ApiError('validation_failed', 'Invalid input: endOffset must be greater than startOffset', {
        [`segments.${i}.endOffset`]: 'must be greater than startOffset',
      });
    const id = `${s.stream}/${s.name}`;
    if (seen.has(id))
      throw new ApiError('validation_failed', 'Invalid input: a segment is listed twice', {
        segments: 'lists a segment twice',
      });
    seen.add(id);
  }
}

export async function presignSegments(
  db: Db,
  storage: ObjectStorage,
  config: Config,
  accountId: string,
  databaseId: string,
  segments: PitrSegmentInput[],
  now: Date,
): Promise<PitrUploadUrls> {
  const { database } = await findProtected(db, accountId, databaseId);
  distinctNames(segments);
  const [account] = await db.select().from(accounts).where(eq(accounts.id, accountId));
  const plan = account && PLANS[account.plan];
  if (account && plan && account.storageUsedBytes >= plan.storageBytes)
    throw new ApiError(
      'quota_exceeded',
      `The storage quota of the ${plan.name} plan is used up; delete backups or upgrade`,
    );
  const ttl = config.partUrlTtlSeconds;
  const urls = await Promise.all(
    segments.map(async (s) => {
      const digest = digestFor(config, s);
      const url = await storage.presignPut(segmentKey(accountId, database.id, s), ttl, digest);
      return { name: s.name, url, headers: { [checksumHeader(digest.algorithm)]: digest.value } };
    }),
  );
  return { urls, expiresAt: new Date(now.getTime() + ttl * 1000).toISOString() };
}

/**
 * Registers uploaded segments after checking each object's size in storage, so the registry never
 * lists a segment that is not there. A partial segment is replaced by its longer snapshot or the
 * complete one (its old object is deleted); a complete segment is never replaced.
 */
export async function registerSegments(
  db: Db,
  storage: ObjectStorage,
  accountId: string,
  databaseId: string,
  segments: PitrSegmentInput[],
  now: Date,
): Promise<{ registered: number }> {
  const { database } = await findProtected(db, accountId, databaseId);
  distinctNames(segments);
  const sizes = await Promise.all(
    segments.map((s) => storage.headObject(segmentKey(accountId, database.id, s))),
  );
  for (const [i, s] of segments.entries()) {
    const head = sizes[i];
    if (!head || head.size !== s.sizeBytes)
      throw new ApiError(
        'conflict',
        `Segment ${s.name} is not in storage with the size given; upload it again`,
      );
  }
  const existing = await db
    .select()
    .from(pitrSegments)
    .where(
      and(
        eq(pitrSegments.databaseId, database.id),
        inArray(
          pitrSegments.name,
          segments.map((s) => s.name),
        ),
      ),
    );
  const replaced: string[] = [];
  let registered = 0;
  let added = 0;
  for (const s of segments) {
    const old = existing.find((e) => e.stream === s.stream && e.name === s.name);
    const key = segmentKey(accountId, database.id, s);
    if (old && !old.partial) {
      // Complete already: the same upload again is fine, anything else is a conflict.
      if (old.sha256 === s.sha256) continue;
      throw new ApiError('conflict', `Segment ${s.name} is registered already with other content`);
    }
    if (old && s.partial && s.endOffset < old.endOffset) continue; // an older snapshot arriving late
    const values = {
      startPosition: s.startPosition,
      endPosition: s.endPosition,
      startOffset: s.startOffset,
      endOffset: s.endOffset,
      sizeBytes: s.sizeBytes,
      sha256: s.sha256,
      objectKey: key,
      partial: s.partial,
      closedAt: new Date(s.closedAt),
      firstCommitAt: s.firstCommitAt ? new Date(s.firstCommitAt) : null,
      lastCommitAt: s.lastCommitAt ? new Date(s.lastCommitAt) : null,
      missingSince: null,
    };
    await db
      .insert(pitrSegments)
      .values({
        accountId,
        databaseId: database.id,
        stream: s.stream,
        name: s.name,
        createdAt: now,
        ...values,
      })
      .onConflictDoUpdate({
        target: [pitrSegments.databaseId, pitrSegments.stream, pitrSegments.name],
        set: values,
      });
    if (old && old.objectKey !== key) replaced.push(old.objectKey);
    added += s.sizeBytes - (old?.sizeBytes ?? 0);
    registered++;
  }
  if (added !== 0)
    await db
      .update(accounts)
      .set({ storageUsedBytes: sql`greatest(0, ${accounts.storageUsedBytes} + ${added})` })
      .where(eq(accounts.id, accountId));
  if (replaced.length > 0) await storage.deleteObjects(replaced);
  return { registered };
}

export async function listSegments(
  db: Db,
  accountId: string,
  databaseId: string,
  q: { after?: number | undefined; limit?: number | undefined },
): Promise<{ items: PitrSegment[] }> {
  const { database } = await findProtectedOrOff(db, accountId, databaseId);
  const rows = await db
    .select()
    .from(pitrSegments)
    .where(and(eq(pitrSegments.databaseId, database.id), gt(pitrSegments.endOffset, q.after ?? -1)))
    .orderBy(asc(pitrSegments.stream), asc(pitrSegments.startOffset))
    .limit(q.limit ?? 100);
  return { items: rows.map(toSegment) };
}

/** Reading works also when protection was turned off: the segments stay until retention. */
async function findProtectedOrOff(db: DbOrTx, accountId: string, databaseId: string) {
  return { database: await findDatabase(db, accountId, databaseId) };
}

export async function segmentDownload(
  db: Db,
  storage: ObjectStorage,
  config: Config,
  accountId: string,
  databaseId: string,
  name: string,
  stream: string | undefined,
  now: Date,
) {
  const { database } = await findProtectedOrOff(db, accountId, databaseId);
  const where = [eq(pitrSegments.databaseId, database.id), eq(pitrSegments.name, name)];
  if (stream) where.push(eq(pitrSegments.stream, stream));
  const [row] = await db
    .select()
    .from(pitrSegments)
    .where(and(...where))
    .limit(1);
  if (!row) throw notFound('segment');
  const ttl = config.downloadUrlTtlSeconds;
  return {
    segment: toSegment(row),
    url: await storage.presignDownload(row.objectKey, `${row.name}.resistro`, ttl),
    expiresAt: new Date(now.getTime() + ttl * 1000).toISOString(),
  };
}

export async function registerBaseBackup(
  db: Db,
  accountId: string,
  databaseId: string,
  input: PitrBaseBackupBody,
  now: Date,
): Promise<PitrBaseBackup> {
  if (input.endOffset < input.startOffset)
    throw new ApiError('validation_failed', 'Invalid input: endOffset must not be less than startOffset', {
      endOffset: 'must not be less than startOffset',
    });
  const { database } = await findProtected(db, accountId, databaseId);
  const [backup] = await db
    .select()
    .from(backups)
    .where(and(eq(backups.id, input.backupId), eq(backups.accountId, accountId)));
  if (!backup || backup.databaseId !== database.id) throw notFound('backup');
  if (backup.status !== 'succeeded')
    throw new ApiError(
      'conflict',
      `Only a successful backup can be a base backup; this one is ${backup.status}`,
    );
  const values = {
    stream: input.stream,
    startPosition: input.startPosition,
    endPosition: input.endPosition,
    startOffset: input.startOffset,
    endOffset: input.endOffset,
    firstSegment: input.firstSegment ?? null,
    consistentAt: new Date(input.consistentAt),
  };
  const [row] = await db
    .insert(pitrBaseBackups)
    .values({ backupId: backup.id, accountId, databaseId: database.id, createdAt: now, ...values })
    .onConflictDoUpdate({ target: pitrBaseBackups.backupId, set: values })
    .returning();
  return toBaseBackup({ ...row!, sizeBytes: backup.sizeBytes });
}
