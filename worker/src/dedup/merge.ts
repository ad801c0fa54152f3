// Pack merge (docs/dedup.md, "Pack merges"): what the in-place rewrite (dedup.ts rewritePacks)
// cannot free. A daily backup uploads one small pack (about 1 MB); once most of its chunks are
// dead, a rewrite with UploadPartCopy cannot shrink it (S3 joins parts of at least 5 MiB, and a
// rewrite must free 1 MiB). Here several such packs of one database are read (ranged GETs of their
// live chunks only), their live chunks written back to back into ONE new pack (one PUT, checked by
// storage against its SHA-256, then read back), the index moved to it in one transaction, and the
// old packs retired: deleted by a later collection after RETIRED_GRACE_MS, as rewritten packs are.
//
// The control plane never decrypts: each chunk is ciphertext authenticated under its own key, and
// moving its bytes unchanged keeps it so. The safety rules are the rewrite's: never a pack under
// object lock; the move runs under the account row FOR UPDATE (which "have" takes FOR SHARE), moves
// chunk rows by id and never deletes one, and gives up if an old pack was locked, retired or given
// other chunks since the merge was planned.
import { and, eq, inArray, sql } from 'drizzle-orm';
import { accounts } from '../accounts/accounts.sql.ts';
import type { Db } from '../db.ts';
import type { ObjectStorage } from '../storage/storage.ts';
import { dedupChunks, dedupPacks } from './dedup.sql.ts';
import { packKeyFor } from './dedup.ts';

const MiB = 1024 * 1024;
/**
 * Thresholds (docs/dedup.md, "Pack merges", explains them): a pack takes part when at least half
 * of it is dead, and a merge must free at least 1 MiB in all. A merge costs one ranged GET per run
 * of live chunks (coalesced), one PUT, one read back of the new pack and one DELETE per old pack
 * later, plus the egress of the live bytes twice where egress is charged: at S3's list prices
 * ($0.09/GB out, $0.023/GB-month) moving L bytes costs as much as storing 7.8 × L for a month, and
 * L is at most the dead bytes freed, so a merge pays for itself within eight months at worst (far
 * sooner when less is live; at once on R2), and the dead bytes of a daily pack would otherwise stay
 * for as long as its few unchanging rows are needed. Half dead each time also bounds how often the
 * same live bytes are moved again.
 */
export const MERGE_MIN_DEAD_FRACTION = 0.5;
export const MERGE_MIN_FREED_BYTES = MiB;
/** Live bytes of one merged pack at most (agents write packs of about 8 MiB); the merge buffers it. */
export const MERGE_TARGET_BYTES = 16 * MiB;
export const MERGES_PER_RUN = 2;
/**
 * At most this share of a database's stored pack bytes may be dead after a collection (restic's
 * `prune --max-unused` defaults to 5 %): when the mostly-dead packs alone leave more, packs that
 * are mostly live are merged too, most dead first, until the rest is under it. Each such merge
 * moves more live bytes than it frees, so this bounds the waste rather than chasing every byte.
 */
export const MERGE_MAX_UNUSED_FRACTION = 0.1;
/** Live chunks of a pack closer than this are read with one ranged GET (the gap read and dropped). */
const READ_GAP_BYTES = 64 * 1024;
const READ_MAX_BYTES = 4 * MiB;

export type MergeCandidate = {
  id: string;
  objectKey: string;
  databaseId: string;
  sizeBytes: number;
  liveBytes: number;
};
/** The thresholds are the production ones unless given (tests with tiny packs lower them). */
export type MergeOptions = {
  minFreedBytes?: number;
  minDeadFraction?: number;
  targetBytes?: number;
  limit?: number;
  maxUnusedFraction?: number;
};

/**
 * Which packs a merge may take, oldest first as given: every pack at least `deadFraction` dead;
 * then, per database whose dead bytes would still be more than `maxUnused` of its stored pack
 * bytes (`storedByDatabase`, every stored pack counted, large ones too), further packs with dead
 * bytes, most dead (by share) first, until the dead bytes left are under that share.
 */
export function mergeCandidates(
  packs: MergeCandidate[],
  storedByDatabase: Map<string, number>,
  deadFraction = MERGE_MIN_DEAD_FRACTION,
  maxUnused = MERGE_MAX_UNUSED_FRACTION,
): MergeCandidate[] {
  const dead = (p: MergeCandidate) => p.sizeBytes - p.liveBytes;
  const chosen = new Set<MergeCandidate>();
  const deadLeft = new Map<string, number>();
  for (const p of packs) deadLeft.set(p.databaseId, (deadLeft.get(p.databaseId) ?? 0) + dead(p));
  for (const p of packs)
    if (p.liveBytes > 0 && dead(p) > 0 && p.liveBytes <= p.sizeBytes * (1 - deadFraction)) {
      chosen.add(p);
      deadLeft.set(p.databaseId, deadLeft.get(p.databaseId)! - dead(p));
    }
  const rest = packs
    .filter((p) => !chosen.has(p) && p.liveBytes > 0 && dead(p) > 0)
    .sort((a, b) => dead(b) / b.sizeBytes - dead(a) / a.sizeBytes || dead(b) - dead(a));
  for (const p of rest) {
    const budget = (storedByDatabase.get(p.databaseId) ?? 0) * maxUnused;
    if (deadLeft.get(p.databaseId)! <= budget) continue;
    chosen.add(p);
    deadLeft.set(p.databaseId, deadLeft.get(p.databaseId)! - dead(p));
  }
  return packs.filter((p) => chosen.has(p));
}

/**
 * Groups candidates (in the order given: oldest first, so chunks of one age stay together) into
 * merges: only packs of the same database (its "stored" figure stays its own), at most
 * `targetBytes` of live chunks each, and only groups that free at least `minFreedBytes`. The groups
 * freeing most come first.
 */
export function mergeGroups(
  candidates: MergeCandidate[],
  minFreedBytes = MERGE_MIN_FREED_BYTES,
  targetBytes = MERGE_TARGET_BYTES,
): MergeCandidate[][] {
  const byDatabase = new Map<string, MergeCandidate[]>();
  for (const c of candidates) {
    if (c.liveBytes <= 0 || c.liveBytes > targetBytes) continue;
    byDatabase.set(c.databaseId, [...(byDatabase.get(c.databaseId) ?? []), c]);
  }
  const groups: MergeCandidate[][] = [];
  for (const packs of byDatabase.values()) {
    let group: MergeCandidate[] = [];
    let live = 0;
    for (const p of packs) {
      if (live + p.liveBytes > targetBytes) {
        groups.push(group);
        group = [];
        live = 0;
      }
      group.push(p);
      live += p.liveBytes;
    }
    if (group.length > 0) groups.push(group);
  }
  const freed = (g: MergeCandidate[]) => g.reduce((n, p) => n + p.sizeBytes - p.liveBytes, 0);
  return groups.filter((g) => freed(g) >= minFreedBytes).sort((a, b) => freed(b) - freed(a));
}

type LiveChunk = { chunkId: string; packId: string; offset: number; length: number };
export type MergeRead = { packId: string; start: number; end: number; chunks: LiveChunk[] };

/**
 * The ranged reads of a merge: per pack, runs of live chunks in offset order, a run extended over a
 * dead gap of at most `gap` bytes and up to `max` bytes long.
 */
export function mergeReads(chunks: LiveChunk[], gap = READ_GAP_BYTES, max = READ_MAX_BYTES): MergeRead[] {
  const reads: MergeRead[] = [];
  for (const c of chunks) {
    const last = reads[reads.length - 1];
    const end = c.offset + c.length;
    if (
      last &&
      last.packId === c.packId &&
      c.offset >= last.end &&
      c.offset - last.end <= gap &&
      end - last.start <= max
    ) {
      last.end = end;
      last.chunks.push(c);
    } else reads.push({ packId: c.packId, start: c.offset, end, chunks: [c] });
  }
  return reads;
}

/**
 * Merges the account's small, mostly dead packs (see the header). Returns the number of merges
 * done (each one new pack); a merge that fails or loses a race leaves everything as it was.
 */
export async function mergePacks(
  db: Db,
  storage: ObjectStorage,
  accountId: string,
  now: Date,
  opts: MergeOptions = {},
): Promise<number> {
  const minFreed = opts.minFreedBytes ?? MERGE_MIN_FREED_BYTES;
  const target = opts.targetBytes ?? MERGE_TARGET_BYTES;
  const deadFraction = opts.minDeadFraction ?? MERGE_MIN_DEAD_FRACTION;
  const { rows } = await db.execute<{
    id: string;
    object_key: string;
    database_id: string;
    size_bytes: string;
    live: string;
  }>(sql`
    select p.id, p.object_key, p.database_id, p.size_bytes, coalesce(sum(c.length), 0) as live
    from dedup_packs p left join dedup_chunks c on c.pack_id = p.id
    where p.account_id = ${accountId}::uuid and p.status = 'stored' and p.retired_at is null
      and (p.locked_until is null or p.locked_until <= ${now.toISOString()}::timestamptz)
    group by p.id
    having coalesce(sum(c.length), 0) > 0
      and coalesce(sum(c.length), 0) <= ${target}
      and coalesce(sum(c.length), 0) < p.size_bytes
    order by p.created_at, p.id`);
  // Every stored pack of each database (locked and large ones too): what its dead share is of.
  const { rows: stored } = await db.execute<{ database_id: string; bytes: string }>(sql`
    select database_id, sum(size_bytes) as bytes from dedup_packs
    where account_id = ${accountId}::uuid and status = 'stored' and retired_at is null
    group by database_id`);
  const groups = mergeGroups(
    mergeCandidates(
      rows.map((r) => ({
        id: r.id,
        objectKey: r.object_key,
        databaseId: r.database_id,
        sizeBytes: Number(r.size_bytes),
        liveBytes: Number(r.live),
      })),
      new Map(stored.map((r) => [r.database_id, Number(r.bytes)])),
      deadFraction,
      opts.maxUnusedFraction ?? MERGE_MAX_UNUSED_FRACTION,
    ),
    minFreed,
    target,
  ).slice(0, opts.limit ?? MERGES_PER_RUN);
  let merged = 0;
  for (const group of groups) {
    try {
      if (await mergeGroup(db, storage, accountId, group, now, minFreed)) merged++;
    } catch (e) {
      console.error(
        'merging packs failed; they stay as they are',
        group.map((p) => p.id),
        e,
      );
    }
  }
  return merged;
}

async function readRange(storage: ObjectStorage, key: string, start: number, end: number) {
  const stream = await storage.getObject(key, { start, end });
  if (!stream) throw new Error(`pack ${key} is missing from storage`);
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  if (bytes.length !== end - start)
    throw new Error(`pack ${key}: read ${bytes.length} bytes of ${start}-${end}, not ${end - start}`);
  return bytes;
}

async function mergeGroup(
  db: Db,
  storage: ObjectStorage,
  accountId: string,
  group: MergeCandidate[],
  now: Date,
  minFreed: number,
): Promise<boolean> {
  const ids = group.map((p) => p.id);
  const found = await db
    .select({
      chunkId: dedupChunks.chunkId,
      packId: dedupChunks.packId,
      offset: dedupChunks.offset,
      length: dedupChunks.length,
    })
    .from(dedupChunks)
    .where(inArray(dedupChunks.packId, ids));
  // The new pack keeps the old packs' order (oldest first) and each pack's chunk order.
  const rank = new Map(ids.map((id, i) => [id, i]));
  const live = found.sort((a, b) => rank.get(a.packId)! - rank.get(b.packId)! || a.offset - b.offset);
  const size = live.reduce((n, c) => n + c.length, 0);
  const freed = group.reduce((n, p) => n + p.sizeBytes, 0) - size;
  if (size === 0 || freed < minFreed) return false;

  const body = new Uint8Array(size);
  const moves: { chunkId: string; packId: string; offset: number }[] = [];
  let at = 0;
  const keyOf = new Map(group.map((p) => [p.id, p.objectKey]));
  for (const read of mergeReads(live)) {
    const bytes = await readRange(storage, keyOf.get(read.packId)!, read.start, read.end);
    for (const c of read.chunks) {
      body.set(bytes.subarray(c.offset - read.start, c.offset - read.start + c.length), at);
      moves.push({ chunkId: c.chunkId, packId: c.packId, offset: at });
      at += c.length;
    }
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
  const sha256 = Buffer.from(digest).toString('base64');

  const packId = crypto.randomUUID();
  const objectKey = packKeyFor(accountId, packId);
  // The row first: a merge that dies after the PUT leaves an 'uploading' row without chunks, whose
  // object the collection deletes after UPLOAD_GRACE_MS.
  await db.insert(dedupPacks).values({
    id: packId,
    accountId,
    databaseId: group[0]!.databaseId,
    objectKey,
    uploadId: null,
    sizeBytes: size,
    checksum: sha256,
    status: 'uploading',
    createdAt: now,
  });
  const abandon = async () => {
    await storage.deleteObject(objectKey).catch(() => {});
    await db.delete(dedupPacks).where(and(eq(dedupPacks.id, packId), eq(dedupPacks.status, 'uploading')));
  };
  try {
    await storage.putObject(objectKey, body, sha256);
    // Read back: storage holds exactly the bytes hashed here.
    const read = await storage.readChecksum(objectKey);
    if (!read || read.size !== size || read.sha256 !== Buffer.from(digest).toString('hex'))
      throw new Error(`the merged pack read back has ${read?.size ?? 0} bytes and another SHA-256`);
  } catch (e) {
    await abandon();
    throw e;
  }
  const moved = await db
    .transaction(async (tx) => {
      await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, accountId)).for('update');
      const current = await tx.select().from(dedupPacks).where(inArray(dedupPacks.id, ids));
      // An old pack collected, locked meanwhile (a locked backup sealed) or merged or rewritten by
      // an overlapping run: leave them all.
      if (
        current.length !== ids.length ||
        current.some((p) => p.status !== 'stored' || p.retiredAt || (p.lockedUntil && p.lockedUntil > now))
      )
        return false;
      const [fresh] = await tx
        .update(dedupPacks)
        .set({ status: 'stored' })
        .where(and(eq(dedupPacks.id, packId), eq(dedupPacks.status, 'uploading')))
        .returning({ id: dedupPacks.id });
      if (!fresh) return false;
      for (let i = 0; i < moves.length; i += 1000) {
        const batch = moves.slice(i, i + 1000);
        await tx.execute(sql`
          update dedup_chunks c set pack_id = ${packId}::uuid, "offset" = m.new_offset
          from (select unnest(array[${sql.join(
            batch.map((m) => sql`${m.chunkId}`),
            sql`, `,
          )}]::text[]) as chunk_id,
                       unnest(array[${sql.join(
                         batch.map((m) => sql`${m.packId}`),
                         sql`, `,
                       )}]::uuid[]) as old_pack,
                       unnest(array[${sql.join(
                         batch.map((m) => sql`${m.offset}`),
                         sql`, `,
                       )}]::bigint[]) as new_offset) m
          where c.account_id = ${accountId}::uuid and c.pack_id = m.old_pack and c.chunk_id = m.chunk_id`);
      }
      // Every chunk still in an old pack was planned (rows are only added to a pack as it completes,
      // and a collection only deletes them): anything left means the plan is stale.
      const [left] = await tx
        .select({ n: sql<number>`count(*)::int` })
        .from(dedupChunks)
        .where(inArray(dedupChunks.packId, ids));
      if ((left?.n ?? 0) > 0) throw new Error('a pack changed while it was merged');
      await tx.update(dedupPacks).set({ retiredAt: now }).where(inArray(dedupPacks.id, ids));
      await tx
        .update(accounts)
        .set({ storageUsedBytes: sql`${accounts.storageUsedBytes} + ${size}` })
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
