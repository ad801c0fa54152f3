// The one object-storage seam of the control plane. Two implementations: s3.ts (any S3 API
// through aws4fetch: R2, Hetzner, AWS, MinIO, the local test server) and memory.ts (tests).
// Both pass the same contract suite (contract.ts). Backups are written only by the agents,
// through presigned part URLs; the control plane creates, completes, checks, lists and deletes,
// and writes one kind of object itself: a merged pack (putObject), bytes it read from other packs.

/**
 * How storage checks each part before it accepts it: its SHA-256 (`x-amz-checksum-sha256`; the
 * upload is started for it, and completes only with each part's checksum) or, for a provider
 * without that, its MD5 (`Content-MD5`). Either is signed into the part's presigned URL, so the
 * URL takes exactly the bytes the agent hashed; a part damaged on the way is refused (BadDigest).
 */
export type PartChecksum = 'sha256' | 'md5';
/** A part's checksum in the algorithm of its upload, base64 as S3 takes it. */
export type PartDigest = { algorithm: PartChecksum; value: string };

/** `checksumSha256`: the part's base64 SHA-256, required to complete an upload started for 'sha256'. */
export type UploadedPart = { partNumber: number; etag: string; checksumSha256?: string };

/**
 * How a completion ended when storage did not assemble the object:
 * - `upload_not_found`: no such upload (never created, aborted, or already completed: S3 cannot
 *   tell these apart, so the caller checks the object to know whether an earlier try completed);
 * - storage refusing the parts (wrong ETag, missing part, part too small) is an ApiError
 *   `conflict`, and storage being down an ApiError `storage_error`.
 */
export type CompleteResult = 'completed' | 'upload_not_found';

/**
 * S3 Object Lock in compliance mode (docs/object-lock.md): until `retainUntil` storage refuses to
 * delete or replace the object, for everyone, and the date can be moved later, never earlier.
 * Needs a bucket created with object lock.
 */
export type ObjectLock = { retainUntil: Date };

export interface ObjectStorage {
  /** Requests sent so far and the time spent waiting for them, for the cron stats and benchmarks. */
  readonly requestCount: number;
  readonly elapsedMs: number;
  /**
   * Starts a multipart upload (whose parts are checked by `checksum`, if given) and returns its id;
   * with `lock`, the object is locked from the moment the upload completes.
   */
  createMultipartUpload(key: string, checksum?: PartChecksum, lock?: ObjectLock): Promise<string>;
  /**
   * A URL the agent PUTs one part to, valid for `ttlSeconds`; with `digest`, only for a body with
   * that checksum, sent in the header the algorithm names.
   */
  presignPart(
    key: string,
    uploadId: string,
    partNumber: number,
    ttlSeconds: number,
    digest?: PartDigest,
  ): Promise<string>;
  /**
   * A URL the agent PUTs one whole (small) object to, valid for `ttlSeconds`; with `digest`, only
   * for a body with that checksum. Used for log segments (pitr/), where a multipart upload per
   * object would cost three requests more.
   */
  presignPut(key: string, ttlSeconds: number, digest?: PartDigest): Promise<string>;
  /**
   * Writes a whole object from the control plane (a merged pack, docs/dedup.md): one PUT, which
   * storage takes only if the body's SHA-256 is `sha256` (base64; sent as x-amz-checksum-sha256 and
   * signed as the payload hash). A body damaged on the way is refused (the ApiError `conflict`) and
   * nothing is written; storage down is `storage_error`. Bodies up to a few tens of MiB: buffered.
   */
  putObject(key: string, body: Uint8Array, sha256: string): Promise<void>;
  /** Joins the parts (in the order given) into the object. */
  completeMultipartUpload(key: string, uploadId: string, parts: UploadedPart[]): Promise<CompleteResult>;
  /** Drops the upload and its parts. Idempotent: an upload that is gone already is fine. */
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;
  /**
   * The object's bytes [start, end) as a stream (the whole object without a range), or undefined
   * when there is none. The deduplicated download reads chunks out of packs with it.
   */
  getObject(
    key: string,
    range?: { start: number; end: number },
  ): Promise<ReadableStream<Uint8Array> | undefined>;
  /** The object's size, or undefined when there is none. */
  headObject(key: string): Promise<{ size: number } | undefined>;
  /**
   * Idempotent: a missing object counts as deleted. A locked object is refused with the ApiError
   * `conflict` 'The backup is locked; storage refuses to delete it before its date'.
   */
  deleteObject(key: string): Promise<void>;
  /** Locks the object until `lock.retainUntil` or, if it is locked longer already, refuses (conflict). */
  putObjectLock(key: string, lock: ObjectLock): Promise<void>;
  /** The object's lock, or undefined when it has none (or no such object). */
  getObjectLock(key: string): Promise<ObjectLock | undefined>;
  /**
   * Deletes many keys (S3: up to 1,000 per request). Returns the keys that are gone (a missing
   * key counts as gone); keys storage reports as errors (a locked object among them) are left
   * for a later try.
   */
  deleteObjects(keys: string[]): Promise<Set<string>>;
  /** Up to `max` keys under the prefix, in key order, after `marker`. */
  listKeys(prefix: string, max?: number, marker?: string): Promise<{ keys: string[]; truncated: boolean }>;
  /** The bucket this store writes to (a server-side copy names it as its source). */
  readonly bucket: string;
  /**
   * The object's size and SHA-256 (hex), read back in full (a copy is verified this way);
   * undefined when there is none.
   */
  readChecksum(key: string): Promise<{ size: number; sha256: string } | undefined>;
  /**
   * UploadPartCopy: bytes `first`..`last` (inclusive) of `source`, an object in another bucket of
   * the same service that these credentials may read, become part `partNumber` of the upload,
   * without passing through the caller. Returns the part's ETag. Refusals (no access, no such
   * source) are the ApiError `conflict`, storage down is `storage_error`.
   */
  copyPart(
    key: string,
    uploadId: string,
    partNumber: number,
    source: { bucket: string; key: string },
    range: { first: number; last: number },
  ): Promise<string>;
  /** A URL that downloads the object as `fileName`, valid for `ttlSeconds`. */
  presignDownload(key: string, fileName: string, ttlSeconds: number): Promise<string>;
}

/** S3's limits, which every implementation keeps so that tests on memory hold on S3. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const DELETE_OBJECTS_MAX = 1000;
