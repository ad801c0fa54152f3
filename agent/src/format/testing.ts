// Helpers for the format's tests and vector generator (not used by the agent itself).
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDecryptStream } from './decrypt.ts';
import { createEncryptStream, createEncryptStreamWithRandomness, type EncryptOptions } from './encrypt.ts';
import type { FileRandomness } from './envelope.ts';
import type { FileHeader } from './header.ts';
import type { EncryptionKey } from './keys.ts';
import {
  type ArchiveOptions,
  ArchiveWriter,
  type SectionKind,
  type SectionMeta,
  type Toc,
} from './sections.ts';
import type { TableStats } from './table-stats.ts';

/** Splits `data` into pieces whose sizes cycle through `sizes`, as an unpredictable pipe would. */
export function* pieces(data: Buffer, sizes: readonly number[] = [data.length || 1]): Generator<Buffer> {
  let offset = 0;
  for (let i = 0; offset < data.length; i++) {
    const size = sizes[i % sizes.length]!;
    yield data.subarray(offset, offset + size);
    offset += size;
  }
}

export async function encryptToBuffer(
  key: EncryptionKey,
  plaintext: Buffer,
  options: EncryptOptions & { randomness?: FileRandomness; writeSizes?: readonly number[] } = {},
): Promise<Buffer> {
  // SECURITY: injected randomness is for golden vectors only; everything else draws fresh secrets.
  const stream = options.randomness
    ? createEncryptStreamWithRandomness(key, options, options.randomness)
    : createEncryptStream(key, options);
  const output: Buffer[] = [];
  await pipeline(Readable.from(pieces(plaintext, options.writeSizes)), stream, collect(output));
  return Buffer.concat(output);
}

export type DecryptOutcome = {
  plaintext: Buffer;
  header: FileHeader | undefined;
  /** 'header' and 'data' events in the order they happened. */
  events: string[];
  error: unknown;
};

/** Decrypts and reports what happened, including a failure, instead of throwing. */
export async function decryptBuffer(
  key: EncryptionKey,
  file: Buffer,
  writeSizes?: readonly number[],
): Promise<DecryptOutcome> {
  const output: Buffer[] = [];
  const events: string[] = [];
  let header: FileHeader | undefined;
  let error: unknown;
  try {
    const stream = createDecryptStream(key);
    stream.on('header', (value: FileHeader) => {
      header = value;
      events.push('header');
    });
    stream.on('data', () => events.push('data'));
    await pipeline(Readable.from(pieces(file, writeSizes)), stream, collect(output));
  } catch (caught) {
    error = caught;
  }
  return { plaintext: Buffer.concat(output), header, events, error };
}

function collect(output: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      output.push(chunk);
      callback();
    },
  });
}

export type SectionSpec = { kind: SectionKind; name?: string; data: Buffer };

/**
 * A version 2 file in memory. The sections are written round-robin, `pieceSize` bytes at a time,
 * each write awaited: with a small `segmentSize` their segments interleave, deterministically.
 */
export async function archiveToBuffer(
  key: EncryptionKey,
  sections: readonly SectionSpec[],
  options: ArchiveOptions & {
    randomness?: FileRandomness;
    pieceSize?: number;
    meta?: SectionMeta;
    tableStats?: TableStats;
  } = {},
): Promise<{ file: Buffer; toc: Toc }> {
  const output: Buffer[] = [];
  const out = collect(output);
  const writer = new ArchiveWriter(key, out, options, options.randomness);
  const streams = sections.map((s) => writer.section(s.kind, s.name ?? '', undefined));
  const pieceSize = options.pieceSize ?? 7;
  const longest = Math.max(0, ...sections.map((s) => s.data.length));
  for (let at = 0; at < longest; at += pieceSize) {
    for (const [i, s] of sections.entries()) {
      const piece = s.data.subarray(at, at + pieceSize);
      if (piece.length === 0) continue;
      await new Promise<void>((resolve, reject) =>
        streams[i]!.write(piece, (error) => (error ? reject(error) : resolve())),
      );
    }
  }
  for (const stream of streams) await new Promise<void>((resolve) => stream.end(resolve));
  const toc = await writer.finish(options.meta, options.tableStats);
  return { file: Buffer.concat(output), toc };
}
