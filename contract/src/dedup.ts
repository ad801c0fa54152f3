// Deduplicated storage (docs/dedup.md): what the agent and the control plane exchange. Chunk ids are
// keyed HMACs (43 characters of base64url); nothing here carries plaintext or a key.
import * as v from 'valibot';

export const CHUNK_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const ChunkId = v.pipe(v.string(), v.regex(CHUNK_ID_PATTERN, 'must be a chunk id (43 base64url characters)'));
const Int = (min: number, max: number) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));
/** A SHA-256 (44 characters) or MD5 (24) digest in base64, as S3's checksum headers take it. */
const Digest = v.pipe(
  v.string(),
  v.regex(/^(?:[A-Za-z0-9+/]{43}=|[A-Za-z0-9+/]{22}==)$/, 'must be a base64 SHA-256 or MD5 digest'),
);

/** The engines whose backups can be deduplicated: the SQL dumps (docs/dedup.md). */
export const DEDUP_ENGINES: readonly string[] = ['postgres', 'mysql', 'mariadb'];

export const HAVE_MAX = 1000;
export const PACK_MAX_BYTES = 64 * 1024 * 1024;
export const PACK_MAX_CHUNKS = 20_000;
export const REFS_MAX = 5000;

/** "Which of these do you hold?" */
export const DedupHaveBody = v.strictObject({
  ids: v.pipe(v.array(ChunkId), v.minLength(1), v.maxLength(HAVE_MAX, `at most ${HAVE_MAX} ids per request`)),
});
/** per id, the stored blob's length, or null when the account's store does not hold it */
export const DedupHaveResponse = v.object({ lengths: v.array(v.nullable(v.number())) });

export const DedupPackBody = v.strictObject({
  sizeBytes: Int(1, PACK_MAX_BYTES),
  /** the pack's digest in the upload plan's checksum algorithm */
  checksum: Digest,
});
export const DedupPackResponse = v.object({ packId: v.string(), url: v.string(), expiresAt: v.string() });

export const DedupPackCompleteBody = v.strictObject({
  etag: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  /** [id, offset, length] of every chunk in the pack, in pack order */
  chunks: v.pipe(
    v.array(v.tuple([ChunkId, Int(0, PACK_MAX_BYTES), Int(1, PACK_MAX_BYTES)])),
    v.minLength(1),
    v.maxLength(PACK_MAX_CHUNKS),
  ),
});

/** The backup's ordered chunk references, appended from `start` (0, then where the last call ended). */
export const DedupRefsBody = v.strictObject({
  start: Int(0, 2 ** 31 - 1),
  ids: v.pipe(v.array(ChunkId), v.minLength(1), v.maxLength(REFS_MAX, `at most ${REFS_MAX} ids per request`)),
});

/** Marks a running backup as deduplicated, with its reference count and logical size. */
export const DedupSealBody = v.strictObject({
  refs: Int(1, 2 ** 31 - 1),
  logicalBytes: Int(0, Number.MAX_SAFE_INTEGER),
});

export type DedupHaveBody = v.InferInput<typeof DedupHaveBody>;
export type DedupHaveResponse = v.InferOutput<typeof DedupHaveResponse>;
export type DedupPackBody = v.InferInput<typeof DedupPackBody>;
export type DedupPackResponse = v.InferOutput<typeof DedupPackResponse>;
export type DedupPackCompleteBody = v.InferInput<typeof DedupPackCompleteBody>;
export type DedupRefsBody = v.InferInput<typeof DedupRefsBody>;
export type DedupSealBody = v.InferInput<typeof DedupSealBody>;

/**
 * GET /backups/{id}/dedup/reads: where a deduplicated backup's chunks are, for a restore that reads
 * them straight from storage (FORMAT.md §13.9). `runs` follow the manifest's chunk references in
 * order: [index into packs, first byte, end byte (exclusive), each chunk's offset from the first byte].
 */
export type DedupReads = {
  manifestUrl: string;
  packs: string[];
  runs: [pack: number, start: number, end: number, offsets: number[]][];
  refs: number;
  /** how long the URLs are valid from when they were issued */
  ttlSeconds: number;
  expiresAt: string;
};

/** A ranged read stops growing at this size (memory per read in flight on the agent). */
export const READ_RUN_BYTES = 4 << 20;
/** Dead bytes between two needed chunks of one pack that are read through rather than skipped. */
export const READ_GAP_BYTES = 256 << 10;

/**
 * The ranged reads of a backup's chunks, given where each lies in manifest order: neighbouring
 * chunks of one pack share a read (up to READ_RUN_BYTES, reading through gaps of at most
 * READ_GAP_BYTES). `packs` are the objects in order of first use; runs index into them.
 */
export function coalesceReads(locations: readonly { pack: string; offset: number; length: number }[]): {
  packs: string[];
  runs: DedupReads['runs'];
} {
  const packs: string[] = [];
  const packIndex = new Map<string, number>();
  const runs: DedupReads['runs'] = [];
  let last: DedupReads['runs'][number] | undefined;
  for (const r of locations) {
    let pack = packIndex.get(r.pack);
    if (pack === undefined) {
      pack = packs.push(r.pack) - 1;
      packIndex.set(r.pack, pack);
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
  return { packs, runs };
}

/** GET /dedup/usage: per database, what its deduplicated backups hold against what is stored. */
export type DedupUsage = {
  chunks: number;
  databases: {
    databaseId: string;
    backups: number;
    logicalBytes: number;
    storedBytes: number;
    packs: number;
  }[];
};
