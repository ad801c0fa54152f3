// Deduplicated storage on the control plane (docs/dedup.md). The agent chunks, encrypts and packs;
// the control plane keeps the account's index (keyed chunk id → pack, offset, length), answers
// "which of these do you hold?", presigns pack uploads, records each backup's ordered references,
// and frees what no backup references any more. It never sees a key or a plaintext byte.
//
// Garbage collection and "have" are serialised per account: "have" reads under FOR SHARE on the
// account row, collectGarbage runs under FOR UPDATE and only when the account has no running
// backup. So a chunk the store said it holds cannot be collected before the backup that was told
// so has referenced it (or ended).
import { coalesceReads } from '@resistro/contract';
import { and, asc, count, eq, gte, inArray, sql } from 'drizzle-orm';
import { accounts } from '../accounts/accounts.sql.ts';
import { backups } from '../backups/backups.sql.ts';
import { findBackup, RUNNING_DEADLINE_MS } from '../backups/backups.ts';
import { completionParts } from '../backups/checksums.ts';
import type { Db, Tx } from '../db.ts';
import type { Config } from '../env.ts';
import { ApiError, notFound } from '../errors.ts';
import { tierLockOf } from '../locks/locks.ts';
import { MIN_PART_BYTES, type ObjectStorage } from '../storage/storage.ts';
import { copyReader } from './copies.ts';
import { dedupChunks, dedupPacks, dedupRefs } from './dedup.sql.ts';
import { mergePacks } from './merge.ts';

type BackupRow = typeof backups.$inferSelect;

/** An upload (a pack rewrite's, or a backup's whose agent died) left alone this long. */
export const UPLOAD_GRACE_MS = 3600_000;
/**
 * A rewritten pack is deleted this long after its rewrite: a download or restore that planned
 * its reads before still finds its bytes (its presigned URLs live DOWNLOAD_URL_TTL_SECONDS, at
 * most 7 days).
 */
export const RETIRED_GRACE_MS = 7 * 24 * 3600_000;
/**
 * Rewrite threshold (docs/dedup.md): a pack is rewritten when the rewrite frees at least half of
 * it and at least 1 MiB. The rewrite costs about four requests plus one UploadPartCopy per part
 * (plus a read-back of the new pack); at S3's prices 1 MiB stored for a month costs more than
 * those requests, and freeing half each time bounds how often the same bytes are copied again.
 */
export const REWRITE_MIN_SAVED_FRACTION = 0.5;
export const REWRITE_MIN_SAVED_BYTES = 1024 * 1024;
export const REWRITES_PER_RUN = 4;
/** S3's largest part: a pack larger than this is never rewritten (agents write 8 MiB packs). */
const MAX_PART_BYTES = 5 * 1024 * 1024 * 1024;

export function packKeyFor(accountId: string, packId: string): string {
  return `accounts/${accountId}/packs/${packId}.pack`;
}

/** The backup, which must be this account's and running. */
async function runningBackup(db: Db | Tx, accountId: string, id: string): Promise<BackupRow> {
  const row = await findBackup(db as Db, accountId, id);
  if (row.status !== 'running') throw new ApiError('conflict', `This backup is ${row.status}, not running`);
  return row;
}

async function keepAlive(db: Db, row: BackupRow, now: Date): Promise<void> {
  await db
    .update(backups)
    .set({ deadlineAt: new Date(now.getTime() + RUNNING_DEADLINE_MS) })
    .where(and(eq(backups.id, row.id), eq(backups.status, 'running')));
}

/** For each id, the stored blob's length, or null when the account holds no such chunk. */
export async function haveChunks(db: Db, accountId: string, backupId: string, ids: string[]) {
  await runningBackup(db, accountId, backupId);
  return db.transaction(async (tx) => {
    // SECURITY (consistency): blocks while a collection of this account runs (see the header).
    await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, accountId)).for('share');
    const found = await tx
      .select({ chunkId: dedupChunks.chunkId, length: dedupChunks.length })
      .from(dedupChunks)
      .innerJoin(dedupPacks, eq(dedupPacks.id, dedupChunks.packId))
      .where(
        and(
          eq(dedupChunks.accountId, accountId),
          inArray(dedupChunks.chunkId, ids),
          eq(dedupPacks.status, 'stored'),
        ),
      );
    const byId = new Map(found.map((f) => [f.chunkId, f.length]));
    return { lengths: ids.map((id) => byId.get(id) ?? null) };
  });
}

/** A pack upload: one presigned part (any size up to the limit), checked by the backup's checksum. */
export async function startPack(
  db: Db,
  storage: ObjectStorage,
  config: Config,
  accountId: string,
  backupId: string,
  input: { sizeBytes: number; checksum: string },
  now: Date,
) {
  const row = await runningBackup(db, accountId, backupId);
  const algorithm = row.partChecksum;
  if (algorithm && !(algorithm === 'sha256' ? input.checksum.length === 44 : input.checksum.length === 24))
    throw new ApiError('validation_failed', `Invalid input: checksum must be the pack's ${algorithm}`, {
      checksum: `must be the pack's ${algorithm} in base64`,
    });
  const packId = crypto.randomUUID();
  const objectKey = packKeyFor(accountId, packId);
  const uploadId = await storage.createMultipartUpload(objectKey, algorithm ?? undefined);
  await db.insert(dedupPacks).values({
    id: packId,
    accountId,
    databaseId: row.databaseId,
    objectKey,
    uploadId,
    sizeBytes: input.sizeBytes,
    checksum: input.checksum,
    status: 'uploading',
    createdAt: now,
  });
  const url = await storage.presignPart(
    objectKey,
    uploadId,
    1,
    config.partUrlTtlSeconds,
    algorithm ? { algorithm, value: input.checksum } : undefined,
  );
  await keepAlive(db, row, now);
  return { packId, url, expiresAt: new Date(now.getTime() + config.partUrlTtlSeconds * 1000).toISOString() };
}

async function findPack(db: Db, accountId: string, packId: string) {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(packId)) throw notFound('pack');
  const [pack] = await db
    .select()
    .from(dedupPacks)
    .where(and(eq(dedupPacks.id, packId), eq(dedupPacks.accountId, accountId)));
  if (!pack) throw notFound('pack');
  return pack;
}

/**
 * Completes the pack's upload, checks its size, and indexes its chunks. The chunks must lie inside
 * the pack without overlapping. A chunk the index already holds (another backup uploaded it
 * meanwhile) keeps its first location; the duplicate bytes are dead from the start.
 */
export async function completePack(
  db: Db,
  storage: ObjectStorage,
  accountId: string,
  backupId: string,
  packId: string,
  input: { etag: string; chunks: [string, number, number][] },
  now: Date,
) {
  const row = await runningBackup(db, accountId, backupId);
  const pack = await findPack(db, accountId, packId);
  if (pack.status === 'stored') return;
  let end = 0;
  for (const [id, offset, length] of input.chunks) {
    if (offset < end || offset + length > pack.sizeBytes)
      throw new ApiError(
        'validation_failed',
        `Invalid input: chunk ${id} lies outside the pack or overlaps`,
        {
          chunks: 'must lie inside the pack, in order, without overlapping',
        },
      );
    end = offset + length;
  }
  const parts = completionParts(row.partChecksum, [
    { partNumber: 1, etag: input.etag, checksum: pack.checksum },
  ]);
  const completed = await storage.completeMultipartUpload(pack.objectKey, pack.uploadId!, parts);
  const head = await storage.headObject(pack.objectKey);
  if (!head || head.size !== pack.sizeBytes) {
    if (completed === 'completed') await storage.deleteObject(pack.objectKey).catch(() => {});
    throw new ApiError(
      'conflict',
      `The stored pack has ${head?.size ?? 0} bytes, the agent announced ${pack.sizeBytes}; upload it again`,
    );
  }
  await db.transaction(async (tx) => {
    const [updated] = await tx
      .update(dedupPacks)
      .set({ status: 'stored', uploadId: null })
      .where(and(eq(dedupPacks.id, pack.id), eq(dedupPacks.status, 'uploading')))
      .returning({ id: dedupPacks.id });
    if (!updated) return;
    for (let i = 0; i < input.chunks.length; i += 1000) {
      await tx
        .insert(dedupChunks)
        .values(
          input.chunks.slice(i, i + 1000).map(([chunkId, offset, length]) => ({
            accountId,
            chunkId,
            packId: pack.id,
            offset,
            length,
          })),
        )
        .onConflictDoNothing();
    }
    await tx
      .update(accounts)
      .set({ storageUsedBytes: sql`${accounts.storageUsedBytes} + ${pack.sizeBytes}` })
      .where(eq(accounts.id, accountId));
  });
  await keepAlive(db, row, now);
}

/** Appends the backup's references from `start`; every id must be in the account's index. */
export async function addRefs(
  db: Db,
  accountId: string,
  backupId: string,
  input: { start: number; ids: string[] },
  now: Date,
) {
  const row = await runningBackup(db, accountId, backupId);
  const distinct = [...new Set(input.ids)];
  const [held] = await db
    .select({ n: count() })
    .from(dedupChunks)
    .innerJoin(dedupPacks, eq(dedupPacks.id, dedupChunks.packId))
    .where(
      and(
        eq(dedupChunks.accountId, accountId),
        inArray(dedupChunks.chunkId, distinct),
        eq(dedupPacks.status, 'stored'),
      ),
    );
  if ((held?.n ?? 0) !== distinct.length)
    throw new ApiError(
      'conflict',
      `${distinct.length - (held?.n ?? 0)} of these chunks are not stored in this account; upload their packs first`,
    );
  const [last] = await db.select({ n: count() }).from(dedupRefs).where(eq(dedupRefs.backupId, row.id));
  const have = last?.n ?? 0;
  if (input.start > have)
    throw new ApiError('validation_failed', `Invalid input: start must be at most ${have}`, {
      start: `must be at most ${have} (the references recorded so far)`,
    });
  await db.transaction(async (tx) => {
    // A retried call overwrites what it wrote before.
    await tx.delete(dedupRefs).where(and(eq(dedupRefs.backupId, row.id), gte(dedupRefs.seq, input.start)));
    for (let i = 0; i < input.ids.length; i += 1000) {
      await tx.insert(dedupRefs).values(
        input.ids.slice(i, i + 1000).map((chunkId, j) => ({
          backupId: row.id,
          seq: input.start + i + j,
          accountId,
          chunkId,
        })),
      );
    }
  });
  await keepAlive(db, row, now);
}

/** Marks the running backup deduplicated, once its references are all recorded. */
export async function sealDedup(
  db: Db,
  storage: ObjectStorage,
  accountId: string,
  backupId: string,
  input: { refs: number; logicalBytes: number },
  now: Date,
) {
  const row = await runningBackup(db, accountId, backupId);
  const [recorded] = await db.select({ n: count() }).from(dedupRefs).where(eq(dedupRefs.backupId, row.id));
  if ((recorded?.n ?? 0) !== input.refs)
    throw new ApiError(
      'conflict',
      `This backup has ${recorded?.n ?? 0} chunk references recorded, not ${input.refs}; send the rest first`,
    );
  // A locked backup must not lose its chunks: every pack it needs is locked at least as long,
  // before the backup can complete (the lock its rule gives from the start, or its tier's).
  const tier = await tierLockOf(db, row);
  const until = [row.lockedUntil, tier?.retainUntil].reduce<Date | null>(
    (a, b) => (b && (!a || b > a) ? b : a),
    null,
  );
  if (until && until > now) await lockPacksOf(db, storage, accountId, row.id, until);
  await db
    .update(backups)
    .set({ dedup: true, logicalBytes: input.logicalBytes })
    .where(and(eq(backups.id, row.id), eq(backups.status, 'running')));
}

/**
 * Locks one pack in storage until `until` at least (S3 compliance mode; a lock only moves later)
 * and records it. Storage refusing because the pack is locked longer already is fine.
 */
async function lockPack(
  db: Db | Tx,
  storage: ObjectStorage,
  pack: { id: string; objectKey: string },
  until: Date,
): Promise<void> {
  let locked = until;
  try {
    await storage.putObjectLock(pack.objectKey, { retainUntil: until });
  } catch (e) {
    const current =
      e instanceof ApiError && e.code === 'conflict'
        ? await storage.getObjectLock(pack.objectKey)
        : undefined;
    if (!current || current.retainUntil < until) throw e;
    locked = current.retainUntil;
  }
  await db
    .update(dedupPacks)
    .set({
      lockedUntil: sql`greatest(coalesce(${dedupPacks.lockedUntil}, ${locked.toISOString()}::timestamptz), ${locked.toISOString()}::timestamptz)`,
    })
    .where(eq(dedupPacks.id, pack.id));
}

/**
 * Locks every pack that holds a chunk of the backup until `until` at least. Runs under the
 * account row FOR SHARE: a pack rewrite (which moves chunks under FOR UPDATE) either finishes
 * before, and the new pack is locked here, or starts after and sees the lock (it never rewrites a
 * locked pack).
 */
export async function lockPacksOf(
  db: Db,
  storage: ObjectStorage,
  accountId: string,
  backupId: string,
  until: Date,
): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, accountId)).for('share');
    const { rows } = await tx.execute<{ id: string; object_key: string }>(sql`
      select distinct p.id, p.object_key from dedup_refs r
      join dedup_chunks c on c.account_id = r.account_id and c.chunk_id = r.chunk_id
      join dedup_packs p on p.id = c.pack_id
      where r.backup_id = ${backupId}::uuid
        and (p.locked_until is null or p.locked_until < ${until.toISOString()}::timestamptz)`);
    for (const p of rows) await lockPack(tx, storage, { id: p.id, objectKey: p.object_key }, until);
    return rows.length;
  });
}

/**
 * Cron, the safety net of sealDedup's locking: any pack a locked, good deduplicated backup needs
 * that is not locked as long (the backup's tier lock was decided only at completion, or a pack
 * rewrite moved its chunks meanwhile) is locked now. Bounded per run.
 */
export async function lockDuePacks(db: Db, storage: ObjectStorage, now: Date, limit = 200): Promise<number> {
  const { rows } = await db.execute<{ id: string; object_key: string; until: string }>(sql`
    select p.id, p.object_key, max(b.locked_until) as until
    from backups b
    join dedup_refs r on r.backup_id = b.id
    join dedup_chunks c on c.account_id = r.account_id and c.chunk_id = r.chunk_id
    join dedup_packs p on p.id = c.pack_id
    where b.dedup and b.status = 'succeeded' and b.locked_until > ${now.toISOString()}::timestamptz
    group by p.id, p.object_key
    having max(b.locked_until) > coalesce(max(p.locked_until), '-infinity'::timestamptz)
    limit ${limit}`);
  let locked = 0;
  for (const p of rows) {
    try {
      await lockPack(db, storage, { id: p.id, objectKey: p.object_key }, new Date(p.until));
      locked++;
    } catch (e) {
      console.error('locking a pack failed; retrying next run', p.id, e);
    }
  }
  return locked;
}

/** Where each of a backup's chunks lies, in manifest order; every reference must resolve. */
async function chunkLocations(db: Db, backupId: string) {
  const rows = await db
    .select({
      objectKey: dedupPacks.objectKey,
      offset: dedupChunks.offset,
      length: dedupChunks.length,
    })
    .from(dedupRefs)
    .innerJoin(
      dedupChunks,
      and(eq(dedupChunks.accountId, dedupRefs.accountId), eq(dedupChunks.chunkId, dedupRefs.chunkId)),
    )
    .innerJoin(dedupPacks, eq(dedupPacks.id, dedupChunks.packId))
    .where(eq(dedupRefs.backupId, backupId))
    .orderBy(asc(dedupRefs.seq));
  const [refs] = await db.select({ n: count() }).from(dedupRefs).where(eq(dedupRefs.backupId, backupId));
  if ((refs?.n ?? 0) !== rows.length)
    throw new ApiError('storage_error', 'Chunks of this backup are missing from the index');
  return rows;
}

/** Where each of a backup's chunks lies, in order, merged into ranged reads of whole runs. */
export async function readPlan(db: Db, backupId: string) {
  const rows = await chunkLocations(db, backupId);
  type Run = { objectKey: string; start: number; end: number; lengths: number[] };
  const runs: Run[] = [];
  for (const r of rows) {
    const last = runs[runs.length - 1];
    if (last && last.objectKey === r.objectKey && last.end === r.offset && last.end - last.start < 8 << 20) {
      last.end += r.length;
      last.lengths.push(r.length);
    } else
      runs.push({ objectKey: r.objectKey, start: r.offset, end: r.offset + r.length, lengths: [r.length] });
  }
  return { runs, bodyBytes: rows.reduce((n, r) => n + 4 + r.length, 0) };
}

/**
 * `restore --backup` of a deduplicated backup reads its chunks straight from storage: the
 * manifest's URL, one presigned URL per pack it reads, and its chunk references in manifest order
 * as ranged reads [pack, start, end, offsets of its chunks from start] (coalesceReads).
 * Nothing here is secret: the URLs give ciphertext only, and each blob authenticates under its
 * chunk's key from the manifest.
 */
export async function readUrls(
  db: Db,
  storage: ObjectStorage,
  config: Config,
  accountId: string,
  backupId: string,
  now: Date,
) {
  const row = await findBackup(db, accountId, backupId);
  if (row.status !== 'succeeded')
    throw new ApiError('conflict', `Only a successful backup can be downloaded; this one is ${row.status}`);
  if (!row.dedup)
    throw new ApiError('conflict', 'This backup is one file, not deduplicated; download it instead');
  const rows = await chunkLocations(db, row.id);
  const { packs, runs } = coalesceReads(rows.map((r) => ({ pack: r.objectKey, ...r })));
  const ttl = config.downloadUrlTtlSeconds;
  // With verified copies in the second location, an object the primary lost (or cannot report)
  // is read from its copy: one HEAD per object, only for accounts that have copies.
  const fallback = await copyReader(db, config, row, packs);
  const url = async (key: string, fileName: string) => {
    if (fallback.has(key) && !(await storage.headObject(key).catch(() => undefined)))
      return fallback.presign(key, fileName, ttl);
    return storage.presignDownload(key, fileName, ttl);
  };
  return {
    manifestUrl: await url(row.objectKey, `${row.id}.manifest`),
    packs: await Promise.all(packs.map((key) => url(key, 'pack'))),
    runs,
    refs: rows.length,
    ttlSeconds: ttl,
    expiresAt: new Date(now.getTime() + ttl * 1000).toISOString(),
  };
}

/**
 * Frees what nothing references: chunks no backup refers to, then packs without a chunk (their
 * objects deleted, their bytes taken off the usage), then packs mostly dead are rewritten
 * (rewritePacks) and small mostly dead packs a rewrite cannot shrink are merged (merge.ts).
 * Not deleted: packs storage still locks, rewritten or merged packs within their grace
 * period, and uploads younger than an hour (older ones are aborted). Skipped while the account
 * has a running backup: the next run collects. Returns what it deleted.
 */
export async function collectGarbage(
  db: Db,
  storage: ObjectStorage,
  accountId: string,
  now: Date,
): Promise<{
  chunks: number;
  packs: number;
  bytes: number;
  rewritten: number;
  merged: number;
  skipped: boolean;
}> {
  const result = await db.transaction(async (tx) => {
    await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, accountId)).for('update');
    const [running] = await tx
      .select({ n: count() })
      .from(backups)
      .where(and(eq(backups.accountId, accountId), eq(backups.status, 'running')));
    if ((running?.n ?? 0) > 0) return undefined;
    const dead = await tx.execute(sql`
      delete from dedup_chunks c where c.account_id = ${accountId}
        and not exists (select 1 from dedup_refs r where r.account_id = c.account_id and r.chunk_id = c.chunk_id)
      returning c.chunk_id`);
    const empty = await tx
      .select({
        id: dedupPacks.id,
        objectKey: dedupPacks.objectKey,
        sizeBytes: dedupPacks.sizeBytes,
        uploadId: dedupPacks.uploadId,
        status: dedupPacks.status,
      })
      .from(dedupPacks)
      .where(
        and(
          eq(dedupPacks.accountId, accountId),
          sql`not exists (select 1 from dedup_chunks c where c.pack_id = ${dedupPacks.id})`,
          // storage refuses to delete a locked pack before its date: not even tried
          sql`(${dedupPacks.lockedUntil} is null or ${dedupPacks.lockedUntil} <= ${now.toISOString()}::timestamptz)`,
          // a rewritten pack stays for readers that planned their reads before the rewrite
          sql`(${dedupPacks.retiredAt} is null or ${dedupPacks.retiredAt} <= ${new Date(now.getTime() - RETIRED_GRACE_MS).toISOString()}::timestamptz)`,
          // an upload in flight (a pack rewrite's, or an agent's) is left alone for an hour
          sql`(${dedupPacks.status} = 'stored' or ${dedupPacks.createdAt} <= ${new Date(now.getTime() - UPLOAD_GRACE_MS).toISOString()}::timestamptz)`,
        ),
      );
    return { chunks: dead.rowCount ?? 0, empty };
  });
  if (!result) return { chunks: 0, packs: 0, bytes: 0, rewritten: 0, merged: 0, skipped: true };
  // Objects first, rows after: a pack whose delete failed keeps its row and is tried again.
  const stale = result.empty.filter((p) => p.status === 'uploading' && p.uploadId);
  for (const p of stale) await storage.abortMultipartUpload(p.objectKey, p.uploadId!).catch(() => {});
  const gone = await storage.deleteObjects(result.empty.map((p) => p.objectKey));
  const removed = result.empty.filter((p) => gone.has(p.objectKey));
  const rewritten = await rewritePacks(db, storage, accountId, now);
  // After the rewrites: a pack a rewrite shrank in place is not read through the worker.
  const merged = await mergePacks(db, storage, accountId, now);
  if (removed.length === 0)
    return { chunks: result.chunks, packs: 0, bytes: 0, rewritten, merged, skipped: false };
  const bytes = removed.filter((p) => p.status === 'stored').reduce((n, p) => n + p.sizeBytes, 0);
  await db.transaction(async (tx) => {
    await tx.delete(dedupPacks).where(
      inArray(
        dedupPacks.id,
        removed.map((p) => p.id),
      ),
    );
    if (bytes > 0)
      await tx
        .update(accounts)
        .set({ storageUsedBytes: sql`greatest(0, ${accounts.storageUsedBytes} - ${bytes})` })
        .where(eq(accounts.id, accountId));
  });
  return { chunks: result.chunks, packs: removed.length, bytes, rewritten, merged, skipped: false };
}

/** Accounts with deduplicated data, for the cron's collection run. */
export async function accountsWithPacks(db: Db, limit: number): Promise<string[]> {
  const rows = await db.selectDistinct({ accountId: dedupPacks.accountId }).from(dedupPacks).limit(limit);
  return rows.map((r) => r.accountId);
}

/** Per database: the logical size of its deduplicated backups, and the bytes its packs store. */
export async function dedupUsage(db: Db, accountId: string) {
  const logical = await db
    .select({
      databaseId: backups.databaseId,
      logicalBytes: sql<number>`coalesce(sum(${backups.logicalBytes}), 0)::bigint`.mapWith(Number),
      manifestBytes: sql<number>`coalesce(sum(${backups.sizeBytes}), 0)::bigint`.mapWith(Number),
      backups: count(),
    })
    .from(backups)
    .where(and(eq(backups.accountId, accountId), eq(backups.dedup, true), eq(backups.status, 'succeeded')))
    .groupBy(backups.databaseId);
  const stored = await db
    .select({
      databaseId: dedupPacks.databaseId,
      packBytes: sql<number>`coalesce(sum(${dedupPacks.sizeBytes}), 0)::bigint`.mapWith(Number),
      packs: count(),
    })
    .from(dedupPacks)
    .where(and(eq(dedupPacks.accountId, accountId), eq(dedupPacks.status, 'stored')))
    .groupBy(dedupPacks.databaseId);
  const chunks = await db
    .select({ n: count() })
    .from(dedupChunks)
    .where(eq(dedupChunks.accountId, accountId));
  const ids = new Set([...logical.map((l) => l.databaseId), ...stored.map((s) => s.databaseId)]);
  return {
    chunks: chunks[0]?.n ?? 0,
    databases: [...ids].map((databaseId) => {
      const l = logical.find((x) => x.databaseId === databaseId);
      const s = stored.find((x) => x.databaseId === databaseId);
      return {
        databaseId,
        backups: l?.backups ?? 0,
        logicalBytes: l?.logicalBytes ?? 0,
        storedBytes: (s?.packBytes ?? 0) + (l?.manifestBytes ?? 0),
        packs: s?.packs ?? 0,
      };
    }),
  };
}

/**
 * The cron's collection, each run: accounts marked pending (a trigger marks an account whenever
 * references of its backups are deleted, i.e. a deduplicated backup was removed), and once an hour
 * every account with packs (collections skipped while a backup ran; packs an agent that died
 * left uploading). A failed backup's references are dropped first: a failure keeps nothing alive.
 * Bounded per run; an account stays pending until a collection ran for it.
 */
export async function collectDue(db: Db, storage: ObjectStorage, now: Date) {
  const locked = await lockDuePacks(db, storage, now);
  await db.execute(sql`
    delete from dedup_refs r using backups b where b.id = r.backup_id and b.status = 'failed'`);
  const pending = await db.execute<{ account_id: string }>(
    sql`select account_id from dedup_pending order by account_id limit 50`,
  );
  const due = new Set(pending.rows.map((r) => r.account_id));
  if (now.getUTCMinutes() === 7) for (const a of await accountsWithPacks(db, 50)) due.add(a);
  let packs = 0;
  let deleted = 0;
  let rewritten = 0;
  let merged = 0;
  for (const accountId of due) {
    const r = await collectGarbage(db, storage, accountId, now);
    if (r.skipped) continue;
    await db.execute(sql`delete from dedup_pending where account_id = ${accountId}`);
    packs += r.packs;
    deleted += r.bytes;
    rewritten += r.rewritten;
    merged += r.merged;
  }
  return { accounts: due.size, packs, deleted, rewritten, merged, locked };
}

type LiveChunk = { chunkId: string; offset: number; length: number };
export type RewritePlan = {
  /** byte ranges [first, last] of the old pack, each becoming one part of the new pack */
  parts: { first: number; last: number }[];
  /** chunk id → its offset in the new pack */
  moves: Map<string, number>;
  newSize: number;
};

/**
 * Which ranges of a pack a rewrite copies, given its live chunks. Storage joins parts of at least
 * `minPart` bytes (all but the last), so a part starts at a live chunk and grows over the chunks
 * after it (dead bytes between them included) until it has `minPart` bytes; only a dead gap after
 * a full part is skipped. A pack smaller than `minPart` thus loses its dead head and tail only.
 */
export function rewritePlan(live: LiveChunk[], minPart = MIN_PART_BYTES): RewritePlan {
  const sorted = [...live].sort((a, b) => a.offset - b.offset);
  const parts: { first: number; last: number }[] = [];
  const moves = new Map<string, number>();
  let start = -1;
  let end = 0;
  let newSize = 0;
  const close = () => {
    if (start < 0) return;
    parts.push({ first: start, last: end - 1 });
    newSize += end - start;
    start = -1;
  };
  for (const c of sorted) {
    if (start >= 0 && end - start >= minPart && c.offset > end) close();
    if (start < 0) start = c.offset;
    moves.set(c.chunkId, newSize + (c.offset - start));
    end = Math.max(end, c.offset + c.length);
  }
  close();
  return { parts, moves, newSize };
}

/**
 * Rewrites the account's mostly dead packs server-side, without decrypting anything: the live
 * chunks' ranges are copied into a new pack (UploadPartCopy with x-amz-copy-source-range), the
 * index moves to it, and the old pack is retired (deleted by a collection after RETIRED_GRACE_MS).
 * Never a pack under lock. Safe against a backup running meanwhile: chunk rows are moved, never
 * deleted, by their id, so a backup told "held" before the move references the chunk at its new
 * place; the move runs under the account row FOR UPDATE and gives up when the old pack was locked
 * or changed since it was planned. Returns the number of packs rewritten.
 */
export async function rewritePacks(
  db: Db,
  storage: ObjectStorage,
  accountId: string,
  now: Date,
  limit = REWRITES_PER_RUN,
): Promise<number> {
  const { rows: candidates } = await db.execute<{
    id: string;
    object_key: string;
    size_bytes: string;
    live: string;
  }>(sql`
    select p.id, p.object_key, p.size_bytes, coalesce(sum(c.length), 0) as live
    from dedup_packs p left join dedup_chunks c on c.pack_id = p.id
    where p.account_id = ${accountId}::uuid and p.status = 'stored' and p.retired_at is null
      and (p.locked_until is null or p.locked_until <= ${now.toISOString()}::timestamptz)
      and p.size_bytes <= ${MAX_PART_BYTES}
    group by p.id
    having coalesce(sum(c.length), 0) > 0
      and p.size_bytes - coalesce(sum(c.length), 0) >= ${REWRITE_MIN_SAVED_BYTES}
      and coalesce(sum(c.length), 0) <= p.size_bytes * ${1 - REWRITE_MIN_SAVED_FRACTION}::float8
    order by p.size_bytes - coalesce(sum(c.length), 0) desc
    limit ${limit}`);
  let rewritten = 0;
  for (const candidate of candidates) {
    try {
      if (await rewritePack(db, storage, accountId, candidate, now)) rewritten++;
    } catch (e) {
      console.error('rewriting a pack failed; it stays as it is', candidate.id, e);
    }
  }
  return rewritten;
}

async function rewritePack(
  db: Db,
  storage: ObjectStorage,
  accountId: string,
  old: { id: string; object_key: string; size_bytes: string },
  now: Date,
): Promise<boolean> {
  const oldSize = Number(old.size_bytes);
  const live = await db
    .select({ chunkId: dedupChunks.chunkId, offset: dedupChunks.offset, length: dedupChunks.length })
    .from(dedupChunks)
    .where(eq(dedupChunks.packId, old.id));
  const plan = rewritePlan(live);
  const saved = oldSize - plan.newSize;
  if (saved < REWRITE_MIN_SAVED_BYTES || saved < oldSize * REWRITE_MIN_SAVED_FRACTION) return false;
  const [source] = await db.select().from(dedupPacks).where(eq(dedupPacks.id, old.id));
  if (!source) return false;
  const packId = crypto.randomUUID();
  const objectKey = packKeyFor(accountId, packId);
  const uploadId = await storage.createMultipartUpload(objectKey);
  await db.insert(dedupPacks).values({
    id: packId,
    accountId,
    databaseId: source.databaseId,
    objectKey,
    uploadId,
    sizeBytes: plan.newSize,
    checksum: '',
    status: 'uploading',
    createdAt: now,
  });
  const abandon = async () => {
    await storage.abortMultipartUpload(objectKey, uploadId).catch(() => {});
    await storage.deleteObject(objectKey).catch(() => {});
    await db.delete(dedupPacks).where(and(eq(dedupPacks.id, packId), eq(dedupPacks.status, 'uploading')));
  };
  let sha256: string;
  try {
    const parts = [];
    for (const [i, range] of plan.parts.entries())
      parts.push({
        partNumber: i + 1,
        etag: await storage.copyPart(
          objectKey,
          uploadId,
          i + 1,
          { bucket: storage.bucket, key: old.object_key },
          range,
        ),
      });
    await storage.completeMultipartUpload(objectKey, uploadId, parts);
    // Read back: the new pack must be exactly the ranges planned.
    const read = await storage.readChecksum(objectKey);
    if (!read || read.size !== plan.newSize)
      throw new ApiError(
        'storage_error',
        `The rewritten pack has ${read?.size ?? 0} bytes, not ${plan.newSize}`,
      );
    sha256 = Buffer.from(read.sha256, 'hex').toString('base64');
  } catch (e) {
    await abandon();
    throw e;
  }
  const moved = await db
    .transaction(async (tx) => {
      await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, accountId)).for('update');
      const [current] = await tx.select().from(dedupPacks).where(eq(dedupPacks.id, old.id));
      // Locked meanwhile (a locked backup sealed), or rewritten by an overlapping run: leave it.
      if (!current || current.retiredAt || (current.lockedUntil && current.lockedUntil > now)) return false;
      const [fresh] = await tx
        .update(dedupPacks)
        .set({ status: 'stored', uploadId: null, checksum: sha256 })
        .where(and(eq(dedupPacks.id, packId), eq(dedupPacks.status, 'uploading')))
        .returning({ id: dedupPacks.id });
      if (!fresh) return false;
      const entries = [...plan.moves];
      for (let i = 0; i < entries.length; i += 1000) {
        const batch = entries.slice(i, i + 1000);
        await tx.execute(sql`
        update dedup_chunks c set pack_id = ${packId}::uuid, "offset" = m.new_offset
        from (select unnest(array[${sql.join(
          batch.map(([id]) => sql`${id}`),
          sql`, `,
        )}]::text[]) as chunk_id,
                     unnest(array[${sql.join(
                       batch.map(([, o]) => sql`${o}`),
                       sql`, `,
                     )}]::bigint[]) as new_offset) m
        where c.account_id = ${accountId}::uuid and c.pack_id = ${old.id}::uuid and c.chunk_id = m.chunk_id`);
      }
      // Every chunk still in the old pack was planned (rows are only ever added to a pack as it
      // completes, and a collection only deletes them): anything left means the plan is stale.
      const [left] = await tx.select({ n: count() }).from(dedupChunks).where(eq(dedupChunks.packId, old.id));
      if ((left?.n ?? 0) > 0) throw new Error('the pack changed while it was rewritten');
      await tx.update(dedupPacks).set({ retiredAt: now }).where(eq(dedupPacks.id, old.id));
      await tx
        .update(accounts)
        .set({ storageUsedBytes: sql`${accounts.storageUsedBytes} + ${plan.newSize}` })
        .where(eq(accounts.id, accountId));
      return true;
    })
    .catch(async (e) => {
      await abandon();
      throw e;
    });
  if (!moved) await abandon();
  return moved;
}
