// The single downloadable file of a deduplicated backup, version 3 (FORMAT.md §13.7): the
// control plane streams it together from stored ciphertext, without any key:
//
//   file   = magic (12) || 03 || 00 00 00 || u64be(manifest length) || manifest || record*
//   record = u32be(blob length) || blob                (one per chunk reference, in manifest order)
//
// Reading checks every record against the manifest (its length, then its authentication under the
// chunk's key with its id), so a missing, swapped, repeated or altered chunk is refused and named.
import { type FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import {
  ChunkCorruptError,
  type EncryptionKey,
  type FileHeader,
  MAGIC,
  MAX_HEADER_LENGTH,
  readHeader,
  TrailingDataError,
  TruncatedError,
  UnsupportedVersionError,
} from '../format/index.ts';
import { BlobError, openChunk, openChunkFrame } from './blob.ts';
import { type ChunkRef, decryptManifest, type Manifest, sectionName } from './manifest.ts';

export const CONTAINER_VERSION = 3;
export const CONTAINER_PREFIX_LENGTH = 24;
/** how much of the file one read takes in (many records at once) */
const READ_WINDOW = 1 << 20;
/** a manifest is a few bytes per chunk; 1 GiB is far beyond any database we back up */
const MAX_MANIFEST = 1 << 30;

export function containerPrefix(manifestLength: number): Buffer {
  const b = Buffer.alloc(CONTAINER_PREFIX_LENGTH);
  MAGIC.copy(b, 0);
  b[12] = CONTAINER_VERSION;
  b.writeBigUInt64BE(BigInt(manifestLength), 16);
  return b;
}

export function recordPrefix(blobLength: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(blobLength, 0);
  return b;
}

/** True when the file starts with the magic and version 3 (else the version 1/2 readers decide). */
export async function isContainerFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(13);
    const { bytesRead } = await fh.read(b, 0, 13, 0);
    return bytesRead === 13 && b.subarray(0, 12).equals(MAGIC) && b[12] === CONTAINER_VERSION;
  } finally {
    await fh.close();
  }
}

/** The header of the manifest inside a version 3 file (its key id and mode), read without a key. */
export async function containerHeader(path: string): Promise<FileHeader> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(CONTAINER_PREFIX_LENGTH + MAX_HEADER_LENGTH);
    const { bytesRead } = await fh.read(b, 0, b.length, 0);
    if (bytesRead < CONTAINER_PREFIX_LENGTH) throw new TruncatedError('the file ends inside its prefix');
    return readHeader(b.subarray(CONTAINER_PREFIX_LENGTH, bytesRead));
  } finally {
    await fh.close();
  }
}

/** The name of chunk `index` of section `section` in messages, with the start of its id. */
export function chunkLabel(m: Manifest, section: number, index: number): string {
  const s = m.sections[section]!;
  return `chunk ${index + 1} of ${s.chunks.length} in section "${sectionName(s)}" (id ${s.chunks[index]![0].slice(0, 12)}…)`;
}

/** Opens one stored blob against its manifest entry, or throws chunk_corrupt naming the chunk. */
export function openRef(m: Manifest, section: number, index: number, blob: Uint8Array): Buffer {
  const ref: ChunkRef = m.sections[section]!.chunks[index]!;
  try {
    if (blob.length !== ref[3])
      throw new BlobError(`it is ${blob.length} bytes, the manifest says ${ref[3]}`);
    return openChunk(blob, Buffer.from(ref[0], 'base64url'), Buffer.from(ref[1], 'base64url'), ref[2]);
  } catch (error) {
    if (!(error instanceof BlobError)) throw error;
    throw new ChunkCorruptError(`${chunkLabel(m, section, index)} is damaged: ${error.message}`, index);
  }
}

/** As openRef, but the chunk as one zstd frame (blob.ts openChunkFrame), for the zstd program. */
export function openRefFrame(m: Manifest, section: number, index: number, blob: Uint8Array): Buffer {
  const ref: ChunkRef = m.sections[section]!.chunks[index]!;
  try {
    if (blob.length !== ref[3])
      throw new BlobError(`it is ${blob.length} bytes, the manifest says ${ref[3]}`);
    return openChunkFrame(blob, Buffer.from(ref[0], 'base64url'), Buffer.from(ref[1], 'base64url'), ref[2]);
  } catch (error) {
    if (!(error instanceof BlobError)) throw error;
    throw new ChunkCorruptError(`${chunkLabel(m, section, index)} is damaged: ${error.message}`, index);
  }
}

export type OpenContainer = { manifest: Manifest; fh: FileHandle; size: number; bodyStart: number };

export async function openContainer(path: string, key: EncryptionKey): Promise<OpenContainer> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const prefix = Buffer.alloc(CONTAINER_PREFIX_LENGTH);
    const { bytesRead } = await fh.read(prefix, 0, prefix.length, 0);
    if (bytesRead < 13 || prefix[12] !== CONTAINER_VERSION)
      throw new UnsupportedVersionError(prefix[12] ?? 0);
    if (bytesRead < CONTAINER_PREFIX_LENGTH) throw new TruncatedError('the file ends inside its prefix');
    const length = Number(prefix.readBigUInt64BE(16));
    if (length > MAX_MANIFEST) throw new TruncatedError(`the manifest length ${length} is out of range`);
    if (CONTAINER_PREFIX_LENGTH + length > size)
      throw new TruncatedError('the file ends inside its manifest');
    const file = Buffer.alloc(length);
    await fh.read(file, 0, length, CONTAINER_PREFIX_LENGTH);
    const manifest = await decryptManifest(key, file);
    return { manifest, fh, size, bodyStart: CONTAINER_PREFIX_LENGTH + length };
  } catch (error) {
    await fh.close();
    throw error;
  }
}

/**
 * Every section's plaintext, in order, as one stream (for PostgreSQL: one plain SQL script).
 * Memory: one chunk. An error destroys the stream before anything unauthenticated is pushed.
 */
export function readContainerSql(
  path: string,
  key: EncryptionKey,
  counters: {
    onFileBytes?: (n: number) => void;
    onSqlBytes?: (n: number) => void;
    /** sees each chunk of plaintext as it is released; must not keep it */
    onSqlChunk?: (chunk: Buffer) => void;
  } = {},
): Readable {
  let gen: AsyncGenerator<Buffer> | undefined;
  return new Readable({
    highWaterMark: 1 << 20,
    async read() {
      gen ??= containerChunks(path, key, counters);
      try {
        const next = await gen.next();
        if (!next.done) counters.onSqlChunk?.(next.value);
        this.push(next.done ? null : next.value);
      } catch (error) {
        this.destroy(error as Error);
      }
    },
    destroy(error, callback) {
      void gen?.return(undefined);
      callback(error);
    },
  });
}

async function* containerChunks(
  path: string,
  key: EncryptionKey,
  counters: { onFileBytes?: (n: number) => void; onSqlBytes?: (n: number) => void },
): AsyncGenerator<Buffer> {
  const c = await openContainer(path, key);
  try {
    counters.onFileBytes?.(c.bodyStart);
    let pos = c.bodyStart;
    // Records are read through a window of READ_WINDOW bytes: one read per window, not two per chunk.
    let window = Buffer.alloc(0);
    let windowStart = 0;
    const bytesAt = async (at: number, n: number): Promise<Buffer> => {
      if (at < windowStart || at + n > windowStart + window.length) {
        const fresh = Buffer.allocUnsafe(Math.min(Math.max(n, READ_WINDOW), c.size - at));
        const { bytesRead } = await c.fh.read(fresh, 0, fresh.length, at);
        window = fresh.subarray(0, bytesRead);
        windowStart = at;
      }
      return window.subarray(at - windowStart, at - windowStart + n);
    };
    const m = c.manifest;
    for (let s = 0; s < m.sections.length; s++) {
      const chunks = m.sections[s]!.chunks;
      for (let i = 0; i < chunks.length; i++) {
        if (pos + 4 > c.size) throw new TruncatedError(`the file ends before ${chunkLabel(m, s, i)}`);
        const length = (await bytesAt(pos, 4)).readUInt32BE(0);
        if (length !== chunks[i]![3])
          throw new ChunkCorruptError(
            `${chunkLabel(m, s, i)} is missing or out of place: the record holds ${length} bytes, the manifest says ${chunks[i]![3]}`,
            i,
          );
        if (pos + 4 + length > c.size)
          throw new TruncatedError(`the file ends inside ${chunkLabel(m, s, i)}`);
        const blob = await bytesAt(pos + 4, length);
        pos += 4 + length;
        counters.onFileBytes?.(4 + length);
        const plain = openRef(m, s, i, blob);
        counters.onSqlBytes?.(plain.length);
        yield plain;
      }
    }
    if (pos !== c.size) throw new TrailingDataError(`${c.size - pos} bytes follow the last chunk`);
  } finally {
    await c.fh.close();
  }
}

/** Builds a container in memory (tests, and `resistro export` of small backups). */
export function buildContainer(manifestFile: Buffer, blobs: Buffer[]): Buffer {
  return Buffer.concat([
    containerPrefix(manifestFile.length),
    manifestFile,
    ...blobs.flatMap((b) => [recordPrefix(b.length), b]),
  ]);
}
