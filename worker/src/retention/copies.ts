// Copies of backups in the account's second storage location (issue 18, docs/second-location.md).
// The cron queues a copy for each good backup the location takes (every one, or the first of each
// month in the account's time zone). The file is the encrypted one; it is copied
// - server-side (UploadPartCopy, part by part) when one set of credentials reaches both buckets
//   (location.ts, copyMethod): the bytes never leave the provider;
// - otherwise by the agent, which streams the file from the primary through a presigned GET into
//   a multipart upload at the second location through presigned part URLs (routes below).
// Every copy is verified before it counts: a server copy is read back and its SHA-256 compared
// with the one recorded at backup; a transfer's parts are checked by storage against the
// checksum signed into each part URL, and their composite must equal the primary object's (plus
// the agent's SHA-256 of what it sent). A copy that fails three times is `failed`; the alert
// detection raises `copy_failed` for failed and missing copies.
import { type BackupCopy, backupFileName } from '@resistro/contract';
import { and, eq, sql } from 'drizzle-orm';
import { backups } from '../backups/backups.sql.ts';
import { completionParts, objectChecksum, partDigests } from '../backups/checksums.ts';
import type { Db } from '../db.ts';
import type { Config } from '../env.ts';
import { ApiError, notFound } from '../errors.ts';
import type { ObjectStorage, PartChecksum } from '../storage/storage.ts';
import { findLocation, locationStorage } from './location.ts';
import { backupCopies, dedupPackCopies, storageLocations } from './retention.sql.ts';

type CopyRow = typeof backupCopies.$inferSelect;
type BackupRow = typeof backups.$inferSelect;

export const COPY_ATTEMPTS = 3;
/** Why a deduplicated backup has no copy at a location the primary's credentials cannot reach. */
export const DEDUP_SERVER_ONLY =
  'A deduplicated backup is copied server-side only, and this location cannot read the primary bucket with its credentials';
export const COPIES_QUEUED_PER_RUN = 500;
export const SERVER_COPIES_PER_RUN = 5;
/** A transfer the agent started and did not finish in this time is handed out again. */
export const TRANSFER_STALE_MS = 3600_000;
/** A good backup without a verified copy after this long raises the alert. */
export const COPY_MISSING_AFTER_MS = 24 * 3600_000;

export function toBackupCopy(row: CopyRow): BackupCopy {
  return {
    status: row.status,
    verifiedAt: row.verifiedAt?.toISOString() ?? null,
    lockedUntil: row.lockedUntil?.toISOString() ?? null,
    error: row.error,
  };
}

/** Queues a copy for each good backup the account's location takes and has none yet. */
export async function queueCopies(
  db: Db,
  primary: Config['s3'],
  now: Date,
  limit = COPIES_QUEUED_PER_RUN,
): Promise<number> {
  const { rows } = await db.execute<{ backup_id: string }>(sql`
    insert into backup_copies (backup_id, account_id, status, object_key, bucket, method, created_at, updated_at, error)
    select b.id, b.account_id,
           -- a deduplicated backup (its manifest and the packs it needs) is copied server-side
           -- only: the agent transfers single files
           case when not b.dedup or s.same then 'pending' else 'failed' end,
           b.object_key, l.bucket,
           case when s.same then 'server_copy' else 'transfer' end,
           ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz,
           case when not b.dedup or s.same then null else ${DEDUP_SERVER_ONLY} end
    from backups b
    join storage_locations l on l.account_id = b.account_id
    join accounts a on a.id = b.account_id
    cross join lateral (select l.endpoint = ${primary.endpoint} and l.access_key_id = ${primary.accessKeyId} as same) s
    where b.status = 'succeeded'
      and not exists (select 1 from backup_copies c where c.backup_id = b.id)
      and (l.copies = 'all' or not exists (
        select 1 from backups e
        where e.database_id = b.database_id and e.status = 'succeeded'
          and e.started_at >= (date_trunc('month', b.started_at at time zone a.time_zone) at time zone a.time_zone)
          and (e.started_at, e.id) < (b.started_at, b.id)))
    order by b.started_at
    limit ${limit}
    on conflict (backup_id) do nothing
    returning backup_id`);
  return rows.length;
}

/** A failed try: the copy stays pending for another, or is `failed` after the last. */
async function recordFailure(db: Db, row: CopyRow, error: string, now: Date): Promise<CopyRow> {
  const [updated] = await db
    .update(backupCopies)
    .set({
      status: row.attempts >= COPY_ATTEMPTS ? 'failed' : 'pending',
      error: error.slice(0, 500),
      uploadId: null,
      updatedAt: now,
    })
    .where(eq(backupCopies.backupId, row.backupId))
    .returning();
  return updated ?? row;
}

async function recordCopied(
  db: Db,
  row: CopyRow,
  method: 'server_copy' | 'transfer',
  sha256: string,
  lockedUntil: Date | null,
  now: Date,
): Promise<CopyRow> {
  const [updated] = await db
    .update(backupCopies)
    .set({
      status: 'copied',
      method,
      checksum: sha256,
      lockedUntil,
      error: null,
      uploadId: null,
      verifiedAt: now,
      updatedAt: now,
    })
    .where(eq(backupCopies.backupId, row.backupId))
    .returning();
  return updated ?? row;
}

/** The lock the copy gets: the backup's, when the second bucket locks objects. */
function copyLock(backup: BackupRow, locationLocks: boolean, now: Date) {
  return locationLocks && backup.lockedUntil && backup.lockedUntil > now
    ? { retainUntil: backup.lockedUntil }
    : undefined;
}

/** One server-side copy, part by part as the backup was uploaded, then read back and compared. */
async function serverCopy(
  primary: ObjectStorage,
  dest: ObjectStorage,
  backup: BackupRow,
  key: string,
  lock: { retainUntil: Date } | undefined,
): Promise<string> {
  const size = backup.sizeBytes ?? 0;
  const uploadId = await dest.createMultipartUpload(key, undefined, lock);
  try {
    const parts = [];
    for (let first = 0, n = 1; first < size; first += backup.partSize, n++) {
      const last = Math.min(size, first + backup.partSize) - 1;
      const etag = await dest.copyPart(
        key,
        uploadId,
        n,
        { bucket: primary.bucket, key: backup.objectKey },
        {
          first,
          last,
        },
      );
      parts.push({ partNumber: n, etag });
    }
    await dest.completeMultipartUpload(key, uploadId, parts);
  } catch (e) {
    await dest.abortMultipartUpload(key, uploadId).catch(() => {});
    throw e;
  }
  const read = await dest.readChecksum(key);
  if (!read || read.size !== size || read.sha256 !== backup.sha256)
    throw new ApiError('conflict', 'The copy read back does not match the SHA-256 recorded at backup');
  return read.sha256;
}

/** One pack, copied whole server-side (one part: packs are MiBs), read back and compared. */
async function copyPack(
  primary: ObjectStorage,
  dest: ObjectStorage,
  pack: { object_key: string; size_bytes: string; checksum: string },
  lock: { retainUntil: Date } | undefined,
): Promise<string> {
  const size = Number(pack.size_bytes);
  const uploadId = await dest.createMultipartUpload(pack.object_key, undefined, lock);
  try {
    const etag = await dest.copyPart(
      pack.object_key,
      uploadId,
      1,
      { bucket: primary.bucket, key: pack.object_key },
      { first: 0, last: size - 1 },
    );
    await dest.completeMultipartUpload(pack.object_key, uploadId, [{ partNumber: 1, etag }]);
  } catch (e) {
    await dest.abortMultipartUpload(pack.object_key, uploadId).catch(() => {});
    throw e;
  }
  const read = await dest.readChecksum(pack.object_key);
  // A pack's checksum is its SHA-256 in base64 where its upload was checked that way (or it was
  // rewritten); an MD5-checked pack is compared by size.
  const sha256 = read && Buffer.from(read.sha256, 'hex').toString('base64');
  if (!read || read.size !== size || (pack.checksum.length === 44 && sha256 !== pack.checksum))
    throw new ApiError('conflict', 'The copy of a pack read back does not match the pack');
  return read.sha256;
}

/**
 * Copies every pack the deduplicated backup needs that the location lacks (each pack once for all
 * backups that share it), and extends a copied pack's lock to the backup's.
 */
async function copyPacks(
  db: Db,
  primary: ObjectStorage,
  dest: ObjectStorage,
  row: CopyRow,
  backupId: string,
  lock: { retainUntil: Date } | undefined,
  now: Date,
): Promise<number> {
  const { rows: packs } = await db.execute<{
    id: string;
    object_key: string;
    size_bytes: string;
    checksum: string;
    copied: boolean;
    copy_lock: Date | string | null;
  }>(sql`
    select distinct p.id, p.object_key, p.size_bytes, p.checksum,
           pc.pack_id is not null as copied, pc.locked_until as copy_lock
    from dedup_refs r
    join dedup_chunks c on c.account_id = r.account_id and c.chunk_id = r.chunk_id
    join dedup_packs p on p.id = c.pack_id
    left join dedup_pack_copies pc on pc.pack_id = p.id and pc.bucket = ${row.bucket}
    where r.backup_id = ${backupId}::uuid`);
  let copied = 0;
  for (const p of packs) {
    if (!p.copied) {
      const sha256 = await copyPack(primary, dest, p, lock);
      await db
        .insert(dedupPackCopies)
        .values({
          packId: p.id,
          bucket: row.bucket,
          accountId: row.accountId,
          objectKey: p.object_key,
          sha256,
          lockedUntil: lock?.retainUntil ?? null,
          copiedAt: now,
        })
        .onConflictDoNothing();
      copied++;
    } else if (lock && (!p.copy_lock || new Date(p.copy_lock) < lock.retainUntil)) {
      await dest.putObjectLock(p.object_key, lock).catch(async (e) => {
        const current = await dest.getObjectLock(p.object_key);
        if (!current || current.retainUntil < lock.retainUntil) throw e;
      });
      await db
        .update(dedupPackCopies)
        .set({ lockedUntil: lock.retainUntil })
        .where(and(eq(dedupPackCopies.packId, p.id), eq(dedupPackCopies.bucket, row.bucket)));
    }
  }
  return copied;
}

/**
 * Cron: packs a copied deduplicated backup needs that the location lacks (a pack rewrite moved its
 * chunks into a new pack), copied so that a fallback read still finds every chunk. Bounded.
 */
export async function repairPackCopies(
  db: Db,
  primary: ObjectStorage,
  config: Config,
  now: Date,
  limit = SERVER_COPIES_PER_RUN,
): Promise<number> {
  const { rows } = await db.execute<{
    id: string;
    object_key: string;
    size_bytes: string;
    checksum: string;
    account_id: string;
    bucket: string;
  }>(sql`
    select distinct p.id, p.object_key, p.size_bytes, p.checksum, p.account_id, bc.bucket
    from dedup_packs p
    join dedup_chunks c on c.pack_id = p.id
    join dedup_refs r on r.account_id = c.account_id and r.chunk_id = c.chunk_id
    join backup_copies bc on bc.backup_id = r.backup_id and bc.status = 'copied'
    where p.status = 'stored' and p.retired_at is null
      and not exists (select 1 from dedup_pack_copies pc where pc.pack_id = p.id and pc.bucket = bc.bucket)
    limit ${limit}`);
  let copied = 0;
  for (const p of rows) {
    const location = await findLocation(db, p.account_id);
    if (!location || location.bucket !== p.bucket) continue;
    try {
      const dest = await locationStorage(config, location);
      const sha256 = await copyPack(primary, dest, p, undefined);
      await db
        .insert(dedupPackCopies)
        .values({
          packId: p.id,
          bucket: p.bucket,
          accountId: p.account_id,
          objectKey: p.object_key,
          sha256,
          copiedAt: now,
        })
        .onConflictDoNothing();
      copied++;
    } catch (e) {
      console.error('copying a rewritten pack to the second location failed; retrying next run', p.id, e);
    }
  }
  return copied;
}

/**
 * Cron: runs a few pending server-side copies. A copy storage refuses (the credentials cannot read
 * the primary bucket after all) becomes a transfer by the agent; others are retried next run.
 */
export async function runServerCopies(
  db: Db,
  primary: ObjectStorage,
  config: Config,
  now: Date,
  limit = SERVER_COPIES_PER_RUN,
): Promise<{ copied: number; failed: number }> {
  // Claimed by moving updated_at on: an overlapping run skips rows touched in the last 10 minutes.
  const { rows } = await db.execute<{ backup_id: string }>(sql`
    update backup_copies set attempts = attempts + 1, updated_at = ${now.toISOString()}::timestamptz
    where backup_id in (
      select backup_id from backup_copies
      where status = 'pending' and method = 'server_copy'
        and (attempts = 0 or updated_at < ${now.toISOString()}::timestamptz - interval '10 minutes')
      order by updated_at limit ${limit}
      for update skip locked)
    returning backup_id`);
  const stats = { copied: 0, failed: 0 };
  for (const { backup_id } of rows) {
    const [row] = await db.select().from(backupCopies).where(eq(backupCopies.backupId, backup_id));
    const [backup] = await db.select().from(backups).where(eq(backups.id, backup_id));
    if (!row) continue;
    const location = await findLocation(db, row.accountId);
    if (backup?.status !== 'succeeded' || !location || location.bucket !== row.bucket) {
      await db.delete(backupCopies).where(eq(backupCopies.backupId, backup_id));
      continue;
    }
    try {
      const dest = await locationStorage(config, location);
      const lock = copyLock(backup, location.objectLock, now);
      if (backup.dedup) await copyPacks(db, primary, dest, row, backup.id, lock, now);
      const sha256 = await serverCopy(primary, dest, backup, row.objectKey, lock);
      await recordCopied(db, row, 'server_copy', sha256, lock?.retainUntil ?? null, now);
      stats.copied++;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (
        backup.dedup &&
        e instanceof ApiError &&
        e.code === 'conflict' &&
        /server-side copy/.test(message)
      ) {
        await db
          .update(backupCopies)
          .set({ status: 'failed', error: `${DEDUP_SERVER_ONLY} (${message})`, updatedAt: now })
          .where(eq(backupCopies.backupId, backup_id));
        stats.failed++;
      } else if (e instanceof ApiError && e.code === 'conflict' && /server-side copy/.test(message)) {
        // Not possible with these credentials: the agent transfers it instead.
        await db
          .update(backupCopies)
          .set({ method: 'transfer', attempts: 0, error: message, updatedAt: now })
          .where(eq(backupCopies.backupId, backup_id));
      } else {
        const failed = await recordFailure(db, row, message, now);
        if (failed.status === 'failed') stats.failed++;
      }
    }
  }
  return stats;
}

/** Transfers this agent should run: backups of its databases whose copy is pending. */
export async function pendingCopyJobs(
  db: Db,
  accountId: string,
  agentId: string,
  now: Date,
): Promise<Array<{ backupId: string }>> {
  const { rows } = await db.execute<{ backup_id: string }>(sql`
    select c.backup_id from backup_copies c
    join backups b on b.id = c.backup_id
    left join databases d on d.id = b.database_id
    where c.account_id = ${accountId}::uuid and c.status = 'pending' and c.method = 'transfer' and not b.dedup
      and coalesce(b.agent_id, d.agent_id) = ${agentId}::uuid
      and (c.upload_id is null or c.updated_at < ${new Date(now.getTime() - TRANSFER_STALE_MS).toISOString()}::timestamptz)
    order by c.created_at limit 5`);
  return rows.map((r) => ({ backupId: r.backup_id }));
}

/** The copy row and its backup, of this account only. */
async function transferOf(db: Db, accountId: string, backupId: string) {
  const [row] = await db
    .select()
    .from(backupCopies)
    .where(and(eq(backupCopies.backupId, backupId), eq(backupCopies.accountId, accountId)));
  const [backup] = await db
    .select()
    .from(backups)
    .where(and(eq(backups.id, backupId), eq(backups.accountId, accountId)));
  if (!row || !backup) throw notFound('backup');
  if (row.status !== 'pending' || row.method !== 'transfer')
    throw new ApiError('conflict', `This backup's copy is ${row.status}, not waiting for a transfer`);
  return { row, backup };
}

async function destinationOf(db: Db, config: Config, row: CopyRow) {
  const location = await findLocation(db, row.accountId);
  if (!location || location.bucket !== row.bucket)
    throw new ApiError('conflict', 'The second storage location was removed or changed; nothing to copy to');
  return { location, dest: await locationStorage(config, location) };
}

export async function startTransfer(
  db: Db,
  primary: ObjectStorage,
  config: Config,
  accountId: string,
  backupId: string,
  now: Date,
) {
  const { row, backup } = await transferOf(db, accountId, backupId);
  const { location, dest } = await destinationOf(db, config, row);
  if (row.uploadId) await dest.abortMultipartUpload(row.objectKey, row.uploadId).catch(() => {});
  const checksum = backup.partChecksum ?? undefined;
  const lock = copyLock(backup, location.objectLock, now);
  const uploadId = await dest.createMultipartUpload(row.objectKey, checksum, lock);
  await db
    .update(backupCopies)
    .set({ uploadId, attempts: sql`${backupCopies.attempts} + 1`, updatedAt: now })
    .where(eq(backupCopies.backupId, row.backupId));
  return {
    sourceUrl: await primary.presignDownload(
      backup.objectKey,
      backupFileName(backup.databaseName, backup.startedAt),
      config.partUrlTtlSeconds,
    ),
    sizeBytes: backup.sizeBytes ?? 0,
    partSize: backup.partSize,
    ...(checksum && { checksum }),
    sha256: backup.sha256 ?? '',
  };
}

async function runningTransfer(db: Db, accountId: string, backupId: string) {
  const t = await transferOf(db, accountId, backupId);
  if (!t.row.uploadId) throw new ApiError('conflict', 'This copy has no transfer running; start it first');
  return { ...t, uploadId: t.row.uploadId };
}

export async function transferPartUrls(
  db: Db,
  config: Config,
  accountId: string,
  backupId: string,
  parts: { partNumber: number; checksum?: string | undefined }[],
  now: Date,
) {
  const { row, backup, uploadId } = await runningTransfer(db, accountId, backupId);
  const { dest } = await destinationOf(db, config, row);
  const digests = partDigests(
    backup.partChecksum as PartChecksum | null,
    backup.partChecksum
      ? { parts: parts.map((p) => ({ partNumber: p.partNumber, checksum: p.checksum ?? '' })) }
      : { partNumbers: parts.map((p) => p.partNumber) },
  );
  await db.update(backupCopies).set({ updatedAt: now }).where(eq(backupCopies.backupId, row.backupId));
  return {
    parts: await Promise.all(
      digests.map(async ({ partNumber, digest }) => ({
        partNumber,
        url: await dest.presignPart(row.objectKey, uploadId, partNumber, config.partUrlTtlSeconds, digest),
      })),
    ),
    expiresAt: new Date(now.getTime() + config.partUrlTtlSeconds * 1000).toISOString(),
  };
}

/**
 * Completes a transfer and verifies it: the object's size, the composite of the part checksums
 * storage checked (equal to the primary object's), and the agent's SHA-256 of the whole file
 * (equal to the one recorded at backup). A copy that does not match is deleted and retried.
 */
export async function completeTransfer(
  db: Db,
  config: Config,
  accountId: string,
  backupId: string,
  input: { parts: { partNumber: number; etag: string; checksum?: string | undefined }[]; sha256: string },
  now: Date,
): Promise<BackupCopy> {
  const { row, backup, uploadId } = await runningTransfer(db, accountId, backupId);
  const { location, dest } = await destinationOf(db, config, row);
  const mode = backup.partChecksum as PartChecksum | null;
  const parts = [...input.parts].sort((a, b) => a.partNumber - b.partNumber);
  await dest.completeMultipartUpload(row.objectKey, uploadId, completionParts(mode, parts));
  const head = await dest.headObject(row.objectKey);
  const composite = await objectChecksum(mode, parts);
  let problem: string | undefined;
  if (!head || head.size !== backup.sizeBytes)
    problem = `The copy has ${head?.size ?? 0} bytes, the backup ${backup.sizeBytes}`;
  else if (input.sha256 !== backup.sha256)
    problem = 'The SHA-256 of the bytes copied differs from the backup';
  else if (backup.storageChecksum && composite !== backup.storageChecksum)
    problem = "The copy's checksum verified by storage differs from the backup's";
  else if (!backup.storageChecksum) {
    // Uploaded before part checksums: read the copy back.
    const read = await dest.readChecksum(row.objectKey);
    if (read?.sha256 !== backup.sha256)
      problem = 'The copy read back does not match the SHA-256 recorded at backup';
  }
  if (problem) {
    await dest.deleteObject(row.objectKey).catch(() => {});
    return toBackupCopy(await recordFailure(db, row, problem, now));
  }
  const lock = copyLock(backup, location.objectLock, now);
  return toBackupCopy(
    await recordCopied(db, row, 'transfer', backup.sha256!, lock?.retainUntil ?? null, now),
  );
}

export async function failTransfer(
  db: Db,
  config: Config,
  accountId: string,
  backupId: string,
  error: string,
  now: Date,
): Promise<BackupCopy> {
  const { row } = await transferOf(db, accountId, backupId);
  if (row.uploadId) {
    const { dest } = await destinationOf(db, config, row).catch(() => ({ dest: undefined }));
    await dest?.abortMultipartUpload(row.objectKey, row.uploadId).catch(() => {});
  }
  return toBackupCopy(await recordFailure(db, row, `The agent's transfer failed: ${error}`, now));
}

/** A download link to the backup's verified copy, or undefined when it has none. */
export async function copyDownload(
  db: Db,
  config: Config,
  accountId: string,
  backup: { id: string; databaseName: string; startedAt: Date },
): Promise<string | undefined> {
  const [row] = await db
    .select()
    .from(backupCopies)
    .where(
      and(
        eq(backupCopies.backupId, backup.id),
        eq(backupCopies.accountId, accountId),
        eq(backupCopies.status, 'copied'),
      ),
    );
  if (!row) return undefined;
  const location = await findLocation(db, accountId);
  if (!location || location.bucket !== row.bucket) return undefined;
  const dest = await locationStorage(config, location);
  return dest.presignDownload(
    row.objectKey,
    backupFileName(backup.databaseName, backup.startedAt),
    config.downloadUrlTtlSeconds,
  );
}

/** The copy state of each backup (for the backup list). */
export async function copiesOf(
  db: Db,
  accountId: string,
  backupIds: string[],
): Promise<Map<string, BackupCopy>> {
  if (backupIds.length === 0) return new Map();
  const rows = await db
    .select()
    .from(backupCopies)
    .where(
      and(
        eq(backupCopies.accountId, accountId),
        sql`${backupCopies.backupId} in (${sql.join(
          backupIds.map((id) => sql`${id}::uuid`),
          sql`, `,
        )})`,
      ),
    );
  return new Map(rows.map((r) => [r.backupId, toBackupCopy(r)]));
}

/**
 * Cron: a copy whose backup is gone (retention, the dashboard, the purge) is deleted from the
 * second bucket too, unless it is locked there; a location removed leaves its copies (the bucket
 * is the customer's) and forgets pending ones.
 */
export async function pruneCopies(db: Db, config: Config, now: Date, limit = 100): Promise<number> {
  await db.execute(sql`
    delete from backup_copies c where c.status <> 'copied'
      and not exists (select 1 from storage_locations l where l.account_id = c.account_id)`);
  const { rows } = await db.execute<{ backup_id: string }>(sql`
    select c.backup_id from backup_copies c
    where not exists (select 1 from backups b where b.id = c.backup_id)
      and (c.locked_until is null or c.locked_until <= ${now.toISOString()}::timestamptz)
    limit ${limit}`);
  let removed = await prunePackCopies(db, config, now, limit);
  for (const { backup_id } of rows) {
    const [row] = await db.select().from(backupCopies).where(eq(backupCopies.backupId, backup_id));
    if (!row) continue;
    const [location] = await db
      .select()
      .from(storageLocations)
      .where(eq(storageLocations.accountId, row.accountId));
    try {
      if (location && location.bucket === row.bucket && row.status === 'copied')
        await (await locationStorage(config, location)).deleteObject(row.objectKey);
      await db.delete(backupCopies).where(eq(backupCopies.backupId, backup_id));
      removed++;
    } catch (e) {
      console.error('deleting a copy from the second location failed; retrying next run', backup_id, e);
    }
  }
  return removed;
}

/** Copies of packs the primary no longer has (collected), deleted at the location unless locked. */
async function prunePackCopies(db: Db, config: Config, now: Date, limit: number): Promise<number> {
  const { rows } = await db.execute<{
    pack_id: string;
    bucket: string;
    account_id: string;
    object_key: string;
  }>(sql`
    select pc.pack_id, pc.bucket, pc.account_id, pc.object_key from dedup_pack_copies pc
    where not exists (select 1 from dedup_packs p where p.id = pc.pack_id)
      and (pc.locked_until is null or pc.locked_until <= ${now.toISOString()}::timestamptz)
    limit ${limit}`);
  let removed = 0;
  for (const c of rows) {
    try {
      const location = await findLocation(db, c.account_id);
      if (location && location.bucket === c.bucket)
        await (await locationStorage(config, location)).deleteObject(c.object_key);
      await db
        .delete(dedupPackCopies)
        .where(and(eq(dedupPackCopies.packId, c.pack_id), eq(dedupPackCopies.bucket, c.bucket)));
      removed++;
    } catch (e) {
      console.error('deleting a pack copy from the second location failed; retrying next run', c.pack_id, e);
    }
  }
  return removed;
}
