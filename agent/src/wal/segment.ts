// One PostgreSQL WAL segment as a .resistro file: a version 1 file, zstd, whose plaintext is
//   u32be(n) || n bytes of JSON {"kind":"wal-segment", timeline, name, start, partial} || WAL bytes
// as the binlog segments are (binlog/segment-file.ts): the description travels inside the
// encryption, so an object swapped for another segment is caught after decryption.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { zstdCompress, zstdDecompressSync } from 'node:zlib';
import { UserError } from '../errors.ts';
import { createDecryptStream, createEncryptStream, type EncryptionKey } from '../format/index.ts';

export type WalMeta = {
  kind: 'wal-segment';
  timeline: string;
  name: string;
  start: number;
  partial: boolean;
};

async function collect(stream: NodeJS.ReadWriteStream, input: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(Readable.from([input]), stream, async (source: AsyncIterable<Buffer | string>) => {
    for await (const chunk of source) chunks.push(Buffer.from(chunk));
  });
  return Buffer.concat(chunks);
}

const zstdAsync = promisify(zstdCompress);

export async function encodeWal(
  meta: Omit<WalMeta, 'kind'>,
  wal: Buffer,
  key: EncryptionKey,
): Promise<{ bytes: Buffer; sha256: string; md5: string }> {
  const description = Buffer.from(JSON.stringify({ kind: 'wal-segment', ...meta }), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(description.length);
  // in the thread pool: a 16 MB segment would block the daemon's event loop for a good part of a
  // second (the wal-push socket's answers, heartbeats)
  const compressed = await zstdAsync(Buffer.concat([length, description, wal]));
  const bytes = await collect(createEncryptStream(key, { compression: 'zstd' }), compressed);
  return {
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    md5: createHash('md5').update(bytes).digest('base64'),
  };
}

/** Decrypts a segment and checks it is `name`; a damaged or swapped one throws naming it. */
export async function decodeWal(file: Buffer, key: EncryptionKey, name: string): Promise<Buffer> {
  const damaged = (why: string, cause?: unknown) =>
    new UserError(
      `WAL segment ${name} is damaged: ${why}`,
      'Recovery stops here rather than end early. Restore to a point before this segment, or from an older base backup and its own copy of the log.',
      { cause, code: 'segment_damaged' },
    );
  let plain: Buffer;
  try {
    plain = zstdDecompressSync(await collect(createDecryptStream(key), file));
  } catch (e) {
    throw damaged((e as Error).message, e);
  }
  const n = plain.readUInt32BE(0);
  let meta: WalMeta;
  try {
    meta = JSON.parse(plain.subarray(4, 4 + n).toString('utf8'));
  } catch (e) {
    throw damaged('its description is unreadable', e);
  }
  if (meta.kind !== 'wal-segment' || meta.name !== name)
    throw damaged(`it holds ${meta.name ?? 'something else'}`);
  return plain.subarray(4 + n);
}

/** How far a (zero-padded) partial segment holds WAL: the end of its last non-zero byte. */
export function usedLength(wal: Buffer): number {
  let i = wal.length - 1;
  while (i >= 0 && wal[i] === 0) i--;
  return i + 1;
}
