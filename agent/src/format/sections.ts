// Version 2 of the .resistro format: one file, many independently readable sections (FORMAT.md §11).
//
//   file    = header (version 2) || segments ... || TOC records || trailer
//   segment = consecutive chunk records of one section (STREAM, as in version 1, under the
//             section's own key); segments of different sections interleave as they were written
//   TOC     = JSON, sealed as one more STREAM under the TOC key: every section's kind, name, sizes
//             and the file ranges of its segments
//   trailer = u64be(TOC offset) || u32be(TOC length) || "RTOC"
//
// The writer takes N section streams at once (the parallel dump's workers) and appends each
// section's records to the single output in segments of ~1 MiB, so memory is N segments however
// large the backup. The reader finds the TOC from the end and reads any one section without
// touching the others.
import { createCipheriv, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { type FileHandle, open } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createZstdDecompress } from 'node:zlib';
import { GCM_TAG_SIZE, LENGTH_FIELD_SIZE, nonceWithPrefix, setChunkNonce } from './chunk.ts';
import { DecryptStream } from './decrypt.ts';
import { type FileRandomness, freshRandomness, openHeader, type StreamKeys, sealHeader } from './envelope.ts';
import {
  FormatError,
  PayloadCorruptError,
  TocCorruptError,
  TrailingDataError,
  TruncatedError,
  UnsupportedVersionError,
} from './errors.ts';
import {
  type Compression,
  DEFAULT_CHUNK_SIZE,
  type FileHeader,
  isValidChunkSize,
  MAX_CHUNK_SIZE,
  MAX_HEADER_LENGTH,
  type ParsedHeader,
  parseHeader,
  publicHeader,
  SECTIONED_VERSION,
} from './header.ts';
import type { EncryptionKey } from './keys.ts';
import {
  parseTableStats,
  TABLE_STATS_FORMAT,
  TABLE_STATS_FORMAT_2,
  type TableStats,
  tableStatsObject,
} from './table-stats.ts';

export const TRAILER_MAGIC = Buffer.from('RTOC', 'latin1');
export const TRAILER_LENGTH = 16;
/** A TOC larger than this is refused before it is read (a hostile trailer cannot ask for more). */
export const MAX_TOC_LENGTH = 64 * 1024 * 1024;
export const DEFAULT_SEGMENT_SIZE = 1024 * 1024;
const READ_SIZE = 1024 * 1024;

/** What a section holds, in restore order: schema, table data, then indexes/constraints/triggers. */
export type SectionKind = 'pre-data' | 'data' | 'post-data';
const KINDS: readonly SectionKind[] = ['pre-data', 'data', 'post-data'];

export type SectionMeta = Record<string, string | number | boolean>;

/** One TOC entry (FORMAT.md §11.4). */
export type SectionEntry = {
  index: number;
  kind: SectionKind;
  /** '' for pre-data/post-data; the qualified table name(s) for data */
  name: string;
  /** payload bytes of the section (compressed, if the header says zstd) */
  plaintextBytes: number;
  chunks: number;
  /** [file offset, byte length] of each segment, in order */
  segments: [number, number][];
  meta?: SectionMeta;
};

/** `tableStats`: per-table row counts and hashes (FORMAT.md §12), absent in older files */
export type Toc = { sections: SectionEntry[]; meta?: SectionMeta; tableStats?: TableStats };

// ---------------------------------------------------------------------------------------------
// Writing

export type ArchiveOptions = {
  compression?: Compression;
  /** tests only */
  chunkSize?: number;
  /** ciphertext bytes a section collects before it is appended to the output */
  segmentSize?: number;
};

/**
 * Writes a version 2 file to `out`: call section() for every section (in restore order; each gets
 * its index now), write each section's payload into its stream (concurrently if you like), end
 * them all, then finish(). `out` is not ended. On any failure, destroy `out`: without the TOC and
 * trailer the file is recognisably incomplete.
 */
export class ArchiveWriter {
  readonly #out: Writable;
  readonly #keys: StreamKeys;
  readonly #chunkSize: number;
  readonly #segmentSize: number;
  readonly #sections: { entry: SectionEntry; done: boolean }[] = [];
  #nextOffset = 0;
  #queue: Promise<void> = Promise.resolve();
  #finished = false;

  constructor(key: EncryptionKey, out: Writable, options: ArchiveOptions = {}, randomness?: FileRandomness) {
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!isValidChunkSize(chunkSize))
      throw new RangeError(`chunkSize must be an integer in 1..${MAX_CHUNK_SIZE}`);
    const fresh = randomness ?? freshRandomness(key);
    try {
      const sealed = sealHeader(
        key,
        { compression: options.compression ?? 'zstd', chunkSize, version: SECTIONED_VERSION },
        fresh,
      );
      this.#keys = sealed;
      this.#out = out;
      this.#chunkSize = chunkSize;
      this.#segmentSize = options.segmentSize ?? DEFAULT_SEGMENT_SIZE;
      void this.#append([sealed.header]);
    } finally {
      // SECURITY: the raw data key and ephemeral scalar are not needed any more (tests pass their own).
      if (!randomness) {
        fresh.dataKey.fill(0);
        fresh.ephemeralPrivateKey?.fill(0);
      }
    }
  }

  /** A new section; its payload goes into the returned stream. */
  section(kind: SectionKind, name = '', meta?: SectionMeta): Writable {
    if (this.#finished) throw new Error('the archive is finished');
    const index = this.#sections.length;
    const entry: SectionEntry = {
      index,
      kind,
      name,
      plaintextBytes: 0,
      chunks: 0,
      segments: [],
      ...(meta && { meta }),
    };
    const state = { entry, done: false };
    this.#sections.push(state);
    return new SectionStream(this.#keys.sectionKey(index), this.#keys.noncePrefix, this.#chunkSize, {
      segmentSize: this.#segmentSize,
      append: async (buffers) => {
        const offset = this.#append(buffers);
        const length = buffers.reduce((n, b) => n + b.length, 0);
        const last = entry.segments.at(-1);
        // Consecutive segments of one section merge into one range.
        if (last && last[0] + last[1] === offset) last[1] += length;
        else entry.segments.push([offset, length]);
        await this.#queue;
      },
      done: (plaintextBytes, chunks) => {
        entry.plaintextBytes = plaintextBytes;
        entry.chunks = chunks;
        state.done = true;
      },
    });
  }

  /** Bytes handed to `out` so far (the whole file once finish() resolved). */
  get bytes(): number {
    return this.#nextOffset;
  }

  /** Writes the TOC and the trailer, after every section stream finished. */
  async finish(meta?: SectionMeta, tableStats?: TableStats): Promise<Toc> {
    const open = this.#sections.filter((s) => !s.done).map((s) => s.entry.index);
    if (open.length > 0) throw new Error(`sections ${open.join(', ')} did not finish`);
    this.#finished = true;
    await this.#queue;
    const toc: Toc = {
      sections: this.#sections.map((s) => s.entry),
      ...(meta && { meta }),
      ...(tableStats && { tableStats }),
    };
    const tocOffset = this.#nextOffset;
    const records = sealAll(this.#keys.tocKey(), this.#keys.noncePrefix, this.#chunkSize, encodeToc(toc));
    const tocLength = records.reduce((n, b) => n + b.length, 0);
    const trailer = Buffer.alloc(TRAILER_LENGTH);
    trailer.writeBigUInt64BE(BigInt(tocOffset), 0);
    trailer.writeUInt32BE(tocLength, 8);
    TRAILER_MAGIC.copy(trailer, 12);
    this.#append([...records, trailer]);
    await this.#queue;
    return toc;
  }

  /** Queues buffers for `out` (in call order, with back-pressure); returns their file offset. */
  #append(buffers: Buffer[]): number {
    const offset = this.#nextOffset;
    for (const b of buffers) this.#nextOffset += b.length;
    const out = this.#out;
    this.#queue = this.#queue.then(async () => {
      for (const b of buffers) {
        if (out.destroyed) throw out.errored ?? new Error('the archive output was closed');
        if (!out.write(b)) await once(out, 'drain');
      }
    });
    return offset;
  }
}

/** The TOC as bytes: UTF-8 JSON, keys in a fixed order (FORMAT.md §11.4). */
export function encodeToc(toc: Toc): Buffer {
  const sections = toc.sections.map((s) => ({
    kind: s.kind,
    name: s.name,
    plaintextBytes: s.plaintextBytes,
    chunks: s.chunks,
    segments: s.segments,
    ...(s.meta && { meta: s.meta }),
  }));
  return Buffer.from(
    JSON.stringify({
      format: 'resistro-toc-1',
      sections,
      ...(toc.meta && { meta: toc.meta }),
      // Format -2 under a key of its own: readers that know only -1 ignore it (unknown keys are
      // ignored) instead of refusing the TOC as malformed.
      ...(toc.tableStats &&
        (toc.tableStats.format === TABLE_STATS_FORMAT_2
          ? { tableStats2: tableStatsObject(toc.tableStats) }
          : { tableStats: tableStatsObject(toc.tableStats) })),
    }),
  );
}

/** Seals a whole (small) plaintext as one STREAM. */
function sealAll(key: KeyObject, noncePrefix: Buffer, chunkSize: number, plaintext: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const sealer = new ChunkSealer(key, noncePrefix, (b) => out.push(b));
  let offset = 0;
  while (plaintext.length - offset >= chunkSize) {
    sealer.seal(plaintext.subarray(offset, offset + chunkSize), false);
    offset += chunkSize;
  }
  sealer.seal(plaintext.subarray(offset), true);
  return out;
}

/** FORMAT.md §4, the same records as version 1, under a given key. */
class ChunkSealer {
  readonly #key: KeyObject;
  readonly #nonce: Buffer;
  readonly #push: (b: Buffer) => void;
  index = 0;

  constructor(key: KeyObject, noncePrefix: Buffer, push: (b: Buffer) => void) {
    this.#key = key;
    this.#nonce = nonceWithPrefix(noncePrefix);
    this.#push = push;
  }

  seal(plaintext: Buffer, last: boolean): void {
    // SECURITY: a fresh nonce per chunk of this key (prefix, index, last flag); setChunkNonce
    // refuses an index past 2^32 - 1, so it never wraps.
    const cipher = createCipheriv('aes-256-gcm', this.#key, setChunkNonce(this.#nonce, this.index, last));
    const lengthField = Buffer.allocUnsafe(LENGTH_FIELD_SIZE);
    lengthField.writeUInt32BE(plaintext.length, 0);
    this.#push(lengthField);
    if (plaintext.length > 0) this.#push(cipher.update(plaintext));
    cipher.final();
    this.#push(cipher.getAuthTag());
    this.index++;
  }
}

class SectionStream extends Writable {
  readonly #sealer: ChunkSealer;
  readonly #chunkSize: number;
  readonly #segmentSize: number;
  readonly #append: (buffers: Buffer[]) => Promise<void>;
  readonly #done: (plaintextBytes: number, chunks: number) => void;
  readonly #pending: Buffer;
  #pendingLength = 0;
  #records: Buffer[] = [];
  #recordBytes = 0;
  #plaintextBytes = 0;

  constructor(
    key: KeyObject,
    noncePrefix: Buffer,
    chunkSize: number,
    hooks: {
      segmentSize: number;
      append: (buffers: Buffer[]) => Promise<void>;
      done: (plaintextBytes: number, chunks: number) => void;
    },
  ) {
    super({ highWaterMark: 256 * 1024 });
    this.#sealer = new ChunkSealer(key, noncePrefix, (b) => {
      this.#records.push(b);
      this.#recordBytes += b.length;
    });
    this.#chunkSize = chunkSize;
    this.#segmentSize = hooks.segmentSize;
    this.#append = hooks.append;
    this.#done = hooks.done;
    this.#pending = Buffer.allocUnsafe(chunkSize);
  }

  override _write(data: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      this.#plaintextBytes += data.length;
      const size = this.#chunkSize;
      let offset = 0;
      if (this.#pendingLength > 0) {
        offset = data.copy(this.#pending, this.#pendingLength, 0, size - this.#pendingLength);
        this.#pendingLength += offset;
        if (this.#pendingLength === size) {
          // The pending buffer is reused: the cipher's output is a new buffer, so this is safe.
          this.#sealer.seal(this.#pending, false);
          this.#pendingLength = 0;
        }
      }
      while (data.length - offset >= size) {
        this.#sealer.seal(data.subarray(offset, offset + size), false);
        offset += size;
      }
      if (offset < data.length) this.#pendingLength = data.copy(this.#pending, this.#pendingLength, offset);
      if (this.#recordBytes < this.#segmentSize) {
        callback();
        return;
      }
      this.#flushSegment().then(() => callback(), callback);
    } catch (error) {
      callback(error as Error);
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    try {
      this.#sealer.seal(this.#pending.subarray(0, this.#pendingLength), true);
      this.#flushSegment().then(() => {
        this.#done(this.#plaintextBytes, this.#sealer.index);
        callback();
      }, callback);
    } catch (error) {
      callback(error as Error);
    }
  }

  #flushSegment(): Promise<void> {
    const records = this.#records;
    this.#records = [];
    this.#recordBytes = 0;
    return this.#append(records);
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

export type Archive = {
  path: string;
  header: FileHeader;
  toc: Toc;
  /** file size in bytes */
  size: number;
};

/** The version byte of a file, read without a key (1 or 2; anything else throws as readHeader does). */
export async function fileVersion(path: string): Promise<number> {
  return (await readParsedHeader(path)).version;
}

/**
 * Opens a version 2 file: checks the header with the key (as version 1 does), finds the TOC from the
 * trailer, authenticates and parses it, and checks that the sections tile the file. Reads no section.
 */
export async function openArchive(path: string, key: EncryptionKey): Promise<Archive & { keys: StreamKeys }> {
  const handle = await open(path, 'r');
  try {
    const parsed = await parsedHeaderOf(handle);
    if (parsed.version !== SECTIONED_VERSION)
      throw new UnsupportedVersionError(
        parsed.version,
        `this is a version ${parsed.version} file, not a sectioned one`,
      );
    const keys = openHeader(parsed, key);
    const { size } = await handle.stat();
    const toc = await readToc(handle, parsed, keys, size);
    return { path, header: publicHeader(parsed), toc, size, keys };
  } finally {
    await handle.close();
  }
}

async function parsedHeaderOf(handle: FileHandle): Promise<ParsedHeader> {
  const buffer = Buffer.alloc(MAX_HEADER_LENGTH);
  const { bytesRead } = await handle.read(buffer, 0, MAX_HEADER_LENGTH, 0);
  return parseHeader(buffer.subarray(0, bytesRead));
}

async function readParsedHeader(path: string): Promise<ParsedHeader> {
  const handle = await open(path, 'r');
  try {
    return await parsedHeaderOf(handle);
  } finally {
    await handle.close();
  }
}

async function readToc(
  handle: FileHandle,
  header: ParsedHeader,
  keys: StreamKeys,
  size: number,
): Promise<Toc> {
  const H = header.length;
  const chunkSize = header.chunkSize;
  if (size < H + TRAILER_LENGTH)
    throw new TruncatedError(`the file ends after ${size} bytes, before its trailer`);
  const trailer = Buffer.alloc(TRAILER_LENGTH);
  await handle.read(trailer, 0, TRAILER_LENGTH, size - TRAILER_LENGTH);
  if (!trailer.subarray(12).equals(TRAILER_MAGIC)) {
    // The trailer is the last thing written: without it the file was cut (or something appended).
    throw new TruncatedError(
      'the file does not end with the trailer of its table of contents: it was cut short (or bytes were appended)',
    );
  }
  const tocOffset = Number(trailer.readBigUInt64BE(0));
  const tocLength = trailer.readUInt32BE(8);
  const tocEnd = tocOffset + tocLength;
  if (tocOffset < H || tocLength > MAX_TOC_LENGTH || tocLength < LENGTH_FIELD_SIZE + GCM_TAG_SIZE) {
    throw new TocCorruptError(
      `the trailer points to a table of contents at ${tocOffset} (+${tocLength}) that cannot be`,
    );
  }
  if (tocEnd + TRAILER_LENGTH > size)
    throw new TruncatedError(
      `the file ends before its table of contents does (${tocEnd + TRAILER_LENGTH} > ${size})`,
    );
  if (tocEnd + TRAILER_LENGTH < size)
    throw new TrailingDataError(
      `${size - tocEnd - TRAILER_LENGTH} bytes lie between the table of contents and the trailer`,
    );
  const records = Buffer.alloc(tocLength);
  await handle.read(records, 0, tocLength, tocOffset);
  const plaintext = await decryptWhole(
    records,
    keys.tocKey(),
    keys.noncePrefix,
    chunkSize,
    'table of contents',
  );
  const toc = parseToc(plaintext);
  checkTiling(toc, H, tocOffset, chunkSize);
  return toc;
}

async function decryptWhole(
  records: Buffer,
  key: KeyObject,
  noncePrefix: Buffer,
  chunkSize: number,
  label: string,
): Promise<Buffer> {
  // The TOC key decrypts: the EncryptionKey argument only guards the public-key case, checked already.
  const stream = new DecryptStream({ kind: 'symmetric' } as EncryptionKey, {
    payloadKey: key,
    noncePrefix,
    chunkSize,
    label,
  });
  const parts: Buffer[] = [];
  stream.on('data', (b: Buffer) => parts.push(b));
  stream.end(records);
  await once(stream, 'end');
  return Buffer.concat(parts);
}

function parseToc(plaintext: Buffer): Toc {
  let raw: unknown;
  try {
    raw = JSON.parse(plaintext.toString('utf8'));
  } catch {
    throw new TocCorruptError('the table of contents is not JSON');
  }
  const bad = (what: string) => new TocCorruptError(`the table of contents is malformed: ${what}`);
  const object = raw as {
    format?: unknown;
    sections?: unknown;
    meta?: unknown;
    tableStats?: unknown;
    tableStats2?: unknown;
  };
  if (typeof raw !== 'object' || raw === null || object.format !== 'resistro-toc-1') throw bad('format');
  if (!Array.isArray(object.sections)) throw bad('sections');
  const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  const sections = object.sections.map((s: unknown, index): SectionEntry => {
    const e = s as Record<string, unknown>;
    if (typeof e !== 'object' || e === null) throw bad(`section ${index}`);
    if (!KINDS.includes(e.kind as SectionKind)) throw bad(`section ${index} kind`);
    if (typeof e.name !== 'string') throw bad(`section ${index} name`);
    if (!isCount(e.plaintextBytes) || !isCount(e.chunks) || e.chunks < 1) throw bad(`section ${index} sizes`);
    if (!Array.isArray(e.segments) || e.segments.length === 0) throw bad(`section ${index} segments`);
    const segments = e.segments.map((seg: unknown) => {
      if (!Array.isArray(seg) || seg.length !== 2 || !isCount(seg[0]) || !isCount(seg[1]) || seg[1] === 0)
        throw bad(`section ${index} segment`);
      return [seg[0], seg[1]] as [number, number];
    });
    const meta = e.meta === undefined ? undefined : (e.meta as SectionMeta);
    return {
      index,
      kind: e.kind as SectionKind,
      name: e.name,
      plaintextBytes: e.plaintextBytes,
      chunks: e.chunks,
      segments,
      ...(meta && { meta }),
    };
  });
  let tableStats: TableStats | undefined;
  try {
    const stored = object.tableStats2 ?? object.tableStats;
    tableStats = stored === undefined ? undefined : parseTableStats(stored);
    if (tableStats && (object.tableStats2 === undefined) !== (tableStats.format === TABLE_STATS_FORMAT))
      throw new Error('tableStats and tableStats2 hold formats -1 and -2');
  } catch (error) {
    throw bad((error as Error).message);
  }
  return {
    sections,
    ...(object.meta !== undefined && { meta: object.meta as SectionMeta }),
    ...(tableStats && { tableStats }),
  };
}

/**
 * The segments of all sections must cover [header end, TOC offset) exactly once, and each section's
 * bytes must be exactly its records: so no byte of the file is unaccounted for or read twice.
 */
function checkTiling(toc: Toc, start: number, end: number, chunkSize: number): void {
  const all = toc.sections.flatMap((s) => s.segments.map(([offset, length]) => ({ offset, length, s })));
  all.sort((a, b) => a.offset - b.offset);
  let at = start;
  for (const { offset, length, s } of all) {
    if (offset !== at) {
      throw new TocCorruptError(
        `section ${s.index} starts at ${offset}, but the previous one ends at ${at} (${offset > at ? 'gap' : 'overlap'})`,
      );
    }
    at += length;
  }
  if (at !== end)
    throw new TocCorruptError(`the sections end at ${at}, but the table of contents starts at ${end}`);
  for (const s of toc.sections) {
    const bytes = s.segments.reduce((n, [, length]) => n + length, 0);
    // Every chunk but the last is full; the last holds the rest (FORMAT.md §4).
    const expected = s.plaintextBytes + s.chunks * (LENGTH_FIELD_SIZE + GCM_TAG_SIZE);
    const fullChunks = Math.floor(s.plaintextBytes / chunkSize);
    if (bytes !== expected || s.chunks !== fullChunks + 1)
      throw new TocCorruptError(
        `section ${s.index} has ${bytes} bytes, which do not hold its ${s.chunks} chunks`,
      );
  }
}

export function sectionLabel(s: SectionEntry): string {
  return `section ${s.index} (${s.kind}${s.name ? ` ${s.name}` : ''})`;
}

/**
 * One section's payload as a stream, decompressed unless `decompress: false`; reads only that
 * section's bytes. Every chunk is authenticated before it is released, the final one only once the
 * section's end is reached, and a damaged section errors the stream (with the section in the message).
 */
export function readSection(
  archive: Archive & { keys: StreamKeys },
  index: number,
  options: { decompress?: boolean; onFileBytes?: (n: number) => void } = {},
): Readable {
  const section = archive.toc.sections[index];
  if (!section) throw new RangeError(`no section ${index}`);
  const decompress = (options.decompress ?? true) && archive.header.compression === 'zstd';
  let stages: Readable[] = [];
  let tail: Readable | undefined;

  // Nothing is read before the consumer asks for data: an error must never fire while nobody
  // listens (a restore creates a section's stream, then starts psql, then feeds it).
  const start = (out: Readable) => {
    const source = Readable.from(segmentBytes(archive.path, section.segments, options.onFileBytes), {
      objectMode: false,
    });
    const decrypt = new DecryptStream({ kind: 'symmetric' } as EncryptionKey, {
      payloadKey: archive.keys.sectionKey(index),
      noncePrefix: archive.keys.noncePrefix,
      chunkSize: archive.header.chunkSize,
      label: sectionLabel(section),
    });
    const zstd = decompress ? createZstdDecompress({ chunkSize: 256 * 1024 }) : undefined;
    let zstdError: unknown;
    zstd?.once('error', (error) => {
      zstdError ??= error;
    });
    stages = zstd ? [source, decrypt, zstd] : [source, decrypt];
    // Errors travel through the pipeline's promise to `out`; the stages themselves must not also
    // throw them as unhandled 'error' events.
    for (const stage of stages) stage.on('error', () => {});
    const last = zstd ?? decrypt;
    tail = last;
    last.on('data', (chunk: Buffer) => {
      if (!out.push(chunk)) last.pause();
    });
    last.once('end', () => out.push(null));
    (zstd ? pipeline(source, decrypt, zstd) : pipeline(source, decrypt)).catch((error: unknown) => {
      const mapped =
        error instanceof FormatError || error !== zstdError
          ? error
          : new PayloadCorruptError(
              `${sectionLabel(section)}: the decrypted payload is not valid zstd: ${(error as Error).message}`,
              { cause: error },
            );
      out.destroy(mapped as Error);
    });
  };

  return new Readable({
    highWaterMark: READ_SIZE,
    read() {
      if (!tail) start(this);
      else tail.resume();
    },
    destroy(error, callback) {
      // A consumer that stops early must not leave the file open.
      for (const stage of stages) if (!stage.destroyed) stage.destroy();
      callback(error);
    },
  });
}

async function* segmentBytes(
  path: string,
  segments: [number, number][],
  onFileBytes?: (n: number) => void,
): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  try {
    for (const [offset, length] of segments) {
      let at = 0;
      while (at < length) {
        const want = Math.min(READ_SIZE, length - at);
        const buffer = Buffer.allocUnsafe(want);
        const { bytesRead } = await handle.read(buffer, 0, want, offset + at);
        if (bytesRead === 0) throw new TruncatedError(`the file ends inside a section, at ${offset + at}`);
        at += bytesRead;
        onFileBytes?.(bytesRead);
        yield bytesRead === want ? buffer : buffer.subarray(0, bytesRead);
      }
    }
  } finally {
    await handle.close();
  }
}

/** Every section in TOC order, one after another, as one stream (what `decrypt` writes). */
export function readAllSections(
  archive: Archive & { keys: StreamKeys },
  options: {
    decompress?: boolean;
    onFileBytes?: (n: number) => void;
    onSectionBytes?: (n: number) => void;
  } = {},
): Readable {
  const sections = archive.toc.sections;
  return Readable.from(
    (async function* () {
      for (const s of sections) {
        for await (const chunk of readSection(archive, s.index, options)) {
          options.onSectionBytes?.((chunk as Buffer).length);
          yield chunk as Buffer;
        }
      }
    })(),
    { objectMode: false },
  );
}
