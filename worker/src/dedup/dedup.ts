// Deduplicated storage on the control plane (docs/dedup.md). The agent chunks, encrypts and packs;
// the control plane keeps the account's index (keyed chunk id → pack, offset, length), answers
// "which of these do you hold?", presigns pack uploads, records each backup's ordered references,
// and frees what no backup references any more. It never sees a key or a plaintext byte.
//
// Garbage collection and "have" are serialised per account: "have" reads under FOR SHARE on the
// account row, collectGarbage runs under FOR UPDATE and only when the account has no running
// backup. So a chunk the store said it holds cannot be collected before the backup that was told
// so has referenced it (or ended).
import { and, asc, count, eq, gte, inArray, sql } from 'drizzle-orm';
import { accounts } from '../accounts/accounts.sql.ts';
import { backups } from '../backups/backups.sql.ts';
import { findBackup, RUNNING_DEADLINE_MS } from '../backups/backups.ts';
import { completionParts } from '../backups/checksums.ts';
import type { Db, Tx } from '../db.ts';
import type { Config } from '../env.ts';
import { ApiError, notFound } from '../errors.ts';
import type { ObjectStorage } from '../storage/storage.ts';
import { dedupChunks, dedupPacks, dedupRefs } from './dedup.sql.ts';

type BackupRow = typeof backups.$inferSelect;

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
  accountId: string,
  backupId: string,
  input: { refs: number; logicalBytes: number },
) {
  const row = await runningBackup(db, accountId, backupId);
  const [recorded] = await db.select({ n: count() }).from(dedupRefs).where(eq(dedupRefs.backupId, row.id));
  if ((recorded?.n ?? 0) !== input.refs)
    throw new ApiError(
      'conflict',
      `This backup has ${recorded?.n ?? 0} chunk references recorded, not ${input.refs}; send the rest first`,
    );
  await db
    .update(backups)
    .set({ dedup: true, logicalBytes: input.logicalBytes })
    .where(and(eq(backups.id, row.id), eq(backups.status, 'running')));
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

/** A ranged read for the agent's restore (FORMAT.md §13.8) stops growing at this size. */
export const READ_RUN_BYTES = 4 << 20;
/** Dead bytes between two needed chunks of one pack that are read through rather than skipped. */
export const READ_GAP_BYTES = 256 << 10;

/**
 * `restore --backup` of a deduplicated backup reads its chunks straight from storage: the
 * manifest's URL, one presigned URL per pack it reads, and its chunk references in manifest order
 * as ranged reads [pack, start, end, offsets of its chunks from start]. Neighbouring chunks of one
 * pack share a read (up to READ_RUN_BYTES, reading through gaps of at most READ_GAP_BYTES).
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
  const packs: string[] = [];
  const packIndex = new Map<string, number>();
  const runs: [number, number, number, number[]][] = [];
  let last: [number, number, number, number[]] | undefined;
  for (const r of rows) {
    let pack = packIndex.get(r.objectKey);
    if (pack === undefined) {
      pack = packs.push(r.objectKey) - 1;
      packIndex.set(r.objectKey, pack);
    }
    const end = r.offset + r.length;
    if (
      last &&
      last[0] === pack &&
      r.offset >= last[2] &&
      r.offset - last[2] <= READ_GAP_BYTES &&
      end - last[1] <= READ_RUN_BYTES
    ) {
      last[3].push(r.offset - last[1]);
      last[2] = end;
    } else {
      last = [pack, r.offset, end, [0]];
      runs.push(last);
    }
  }
  const ttl = config.downloadUrlTtlSeconds;
  return {
    manifestUrl: await storage.presignDownload(row.objectKey, `${row.id}.manifest`, ttl),
    packs: await Promise.all(packs.map((key) => storage.presignDownload(key, 'pack', ttl))),
    runs,
    refs: rows.length,
    ttlSeconds: ttl,
    expiresAt: new Date(now.getTime() + ttl * 1000).toISOString(),
  };
}

/**
 * Frees what nothing references: chunks no backup refers to, then packs without a chunk (their
 * objects deleted, their bytes taken off the usage). Packs still uploading are left to their
 * backup (or to abandonAfter: uploads older than that are aborted). Skipped while the account has
 * a running backup: the next run collects. Returns what it deleted.
 */
export async function collectGarbage(
  db: Db,
  storage: ObjectStorage,
  accountId: string,
  now: Date,
): Promise<{ chunks: number; packs: number; bytes: number; skipped: boolean }> {
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
        ),
      );
    return { chunks: dead.rowCount ?? 0, empty };
  });
  if (!result) return { chunks: 0, packs: 0, bytes: 0, skipped: true };
  // Objects first, rows after: a pack whose delete failed keeps its row and is tried again.
  const stale = result.empty.filter((p) => p.status === 'uploading' && p.uploadId);
  for (const p of stale) await storage.abortMultipartUpload(p.objectKey, p.uploadId!).catch(() => {});
  const gone = await storage.deleteObjects(result.empty.map((p) => p.objectKey));
  const removed = result.empty.filter((p) => gone.has(p.objectKey));
  if (removed.length === 0) return { chunks: result.chunks, packs: 0, bytes: 0, skipped: false };
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
  void now;
  return { chunks: result.chunks, packs: removed.length, bytes, skipped: false };
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
  await db.execute(sql`
    delete from dedup_refs r using backups b where b.id = r.backup_id and b.status = 'failed'`);
  const pending = await db.execute<{ account_id: string }>(
    sql`select account_id from dedup_pending order by account_id limit 50`,
  );
  const due = new Set(pending.rows.map((r) => r.account_id));
  if (now.getUTCMinutes() === 7) for (const a of await accountsWithPacks(db, 50)) due.add(a);
  let packs = 0;
  let deleted = 0;
  for (const accountId of due) {
    const r = await collectGarbage(db, storage, accountId, now);
    if (r.skipped) continue;
    await db.execute(sql`delete from dedup_pending where account_id = ${accountId}`);
    packs += r.packs;
    deleted += r.bytes;
  }
  return { accounts: due.size, packs, deleted };
}
