// One log segment as a .resistro file: a version 1 file, zstd, whose plaintext is
//   u32be(n) || n bytes of JSON {"kind":"log-segment", engine, stream, start, end, …} || log bytes
// The description travels inside the encryption, so a segment renamed, swapped for another or
// replayed in the wrong place is caught after decryption, not trusted from its object name.
// Segments are cut at most MAX_SEGMENT_BYTES of log, so one is handled in memory.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { UserError } from '../errors.ts';
import { createDecryptStream, createEncryptStream, type EncryptionKey } from '../format/index.ts';

export const MAX_SEGMENT_BYTES = 16 * 1024 * 1024;
const MAX_DESCRIPTION_BYTES = 4096;

export type LogSegmentMeta = {
  engine: 'mariadb' | 'mysql';
  /** the binlog file the bytes come from, e.g. "mysql-bin.000042" */
  stream: string;
  /** byte range [start, end) of that file */
  start: number;
  end: number;
  /** seconds since the epoch of its first and last event (0: none) */
  firstEventAt: number;
  lastEventAt: number;
  /** the range ends the file (its last event rotates to the next file or stops the server) */
  final: boolean;
};

export type EncodedSegment = { bytes: Buffer; sha256: string };

/** A segment that cannot be used for a restore; the message names it. */
export class SegmentError extends UserError {
  constructor(message: string, hint: string, options?: ErrorOptions) {
    super(message, hint, { ...options, code: 'segment_damaged' });
    this.name = 'SegmentError';
  }
}

/** "mysql-bin.000042 bytes 4–81920": how every message names a segment. */
export function segmentName(meta: Pick<LogSegmentMeta, 'stream' | 'start' | 'end'>): string {
  return `${meta.stream} bytes ${meta.start}–${meta.end}`;
}

async function collect(stream: NodeJS.ReadWriteStream, input: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(Readable.from([input]), stream, async (source: AsyncIterable<Buffer | string>) => {
    for await (const chunk of source) chunks.push(Buffer.from(chunk));
  });
  return Buffer.concat(chunks);
}

export async function encodeSegment(
  meta: LogSegmentMeta,
  log: Buffer,
  key: EncryptionKey,
): Promise<EncodedSegment> {
  if (log.length !== meta.end - meta.start)
    throw new Error(`segment ${segmentName(meta)} has ${log.length} bytes, not ${meta.end - meta.start}`);
  const description = Buffer.from(JSON.stringify({ kind: 'log-segment', ...meta }), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(description.length);
  const compressed = zstdCompressSync(Buffer.concat([length, description, log]));
  const bytes = await collect(createEncryptStream(key, { compression: 'zstd' }), compressed);
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * Decrypts a segment and checks it is the one expected (same stream and range). Throws a
 * SegmentError naming the segment for a damaged file or another segment's content; a FormatError
 * (wrong key and the like) passes through with its own hint.
 */
export async function decodeSegment(
  file: Buffer,
  key: EncryptionKey,
  expected: Pick<LogSegmentMeta, 'stream' | 'start' | 'end'>,
): Promise<{ meta: LogSegmentMeta; log: Buffer }> {
  const name = segmentName(expected);
  const damaged = (why: string, cause?: unknown) =>
    new SegmentError(
      `log segment ${name} is damaged: ${why}`,
      'The segment in storage is not what the agent uploaded. Restore to a point before it, or from a newer backup.',
      { cause },
    );
  let plain: Buffer;
  try {
    plain = zstdDecompressSync(await collect(createDecryptStream(key), file));
  } catch (error) {
    if ((error as { code?: string }).code === 'wrong_key') throw error;
    throw damaged((error as Error).message, error);
  }
  const length = plain.length >= 4 ? plain.readUInt32BE(0) : -1;
  if (length < 2 || length > MAX_DESCRIPTION_BYTES || 4 + length > plain.length)
    throw damaged('it has no segment description');
  let meta: LogSegmentMeta & { kind?: string };
  try {
    meta = JSON.parse(plain.subarray(4, 4 + length).toString('utf8'));
  } catch (error) {
    throw damaged('its description is not JSON', error);
  }
  if (meta.kind !== 'log-segment') throw damaged('it is not a log segment');
  if (meta.stream !== expected.stream || meta.start !== expected.start || meta.end !== expected.end)
    throw damaged(`it holds ${segmentName(meta)} instead`);
  const log = plain.subarray(4 + length);
  if (log.length !== meta.end - meta.start)
    throw damaged(`it holds ${log.length} bytes of log, not ${meta.end - meta.start}`);
  const { kind: _kind, ...rest } = meta;
  return { meta: rest, log };
}
