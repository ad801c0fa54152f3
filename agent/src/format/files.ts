import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createZstdDecompress } from 'node:zlib';
import { createDecryptStream, type DecryptStream } from './decrypt.ts';
import { openHeader, recipientCannotDecrypt } from './envelope.ts';
import { FormatError, PayloadCorruptError } from './errors.ts';
import {
  type FileHeader,
  MAX_HEADER_LENGTH,
  type ParsedHeader,
  parseHeader,
  publicHeader,
  SECTIONED_VERSION,
} from './header.ts';
import type { EncryptionKey } from './keys.ts';
import { openArchive, readAllSections } from './sections.ts';

// Whole-file helpers for `resistro decrypt` / `resistro verify`. Reads are 1 MiB at a time: fewer,
// larger reads are measurably faster and still keep memory flat.
const READ_SIZE = 1024 * 1024;

export type DecryptionResult = {
  header: FileHeader;
  /** Decrypted payload bytes (still compressed if the header says so). */
  plaintextBytes: number;
  chunks: number;
  /** Bytes after zstd decompression, when the payload was decompressed. */
  decompressedBytes: number | undefined;
  /** version 2: how many sections the file has */
  sections?: number;
};

/** The header of a file, checked for layout and checksum; needs no key. */
export async function readFileHeader(path: string): Promise<FileHeader> {
  return publicHeader(await readParsedHeader(path));
}

/**
 * Reads the whole file and checks everything: header, key, every chunk, the end of file, and (unless
 * `decompress: false`) that the payload decompresses. Writes nothing.
 */
export async function verifyFile(
  path: string,
  key: EncryptionKey,
  options: FileOptions = {},
): Promise<DecryptionResult> {
  const header = await readKeyedHeader(path, key);
  const discard = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  if (header.version === SECTIONED_VERSION)
    return await sectionsInto(path, key, decompressionOf(header, options), discard, options.onBytes);
  return await decryptInto(path, key, decompressionOf(header, options), discard, options.onBytes);
}

/**
 * Decrypts `inPath` (and zstd-decompresses it unless `decompress: false`) into `outPath`. The output
 * goes to a temporary file beside `outPath` that is renamed only after the whole file verified, so a
 * damaged or wrong-key file never leaves an output file behind. An existing `outPath` is replaced.
 */
export async function decryptFile(
  inPath: string,
  outPath: string,
  key: EncryptionKey,
  options: FileOptions = {},
): Promise<DecryptionResult> {
  // The key is checked against the header before anything is created on disk.
  const header = await readKeyedHeader(inPath, key);
  const temporary = `${outPath}.${randomBytes(6).toString('hex')}.partial`;
  // SECURITY: the output is a plaintext database dump: readable by its owner only, and created
  // exclusively so that a file planted at the temporary name is never written through.
  const output = createWriteStream(temporary, { flags: 'wx', mode: 0o600, flush: true });
  try {
    const decompress = decompressionOf(header, options);
    const result =
      header.version === SECTIONED_VERSION
        ? await sectionsInto(inPath, key, decompress, output, options.onBytes)
        : await decryptInto(inPath, key, decompress, output, options.onBytes);
    await rename(temporary, outPath);
    return result;
  } catch (error) {
    output.destroy();
    await rm(temporary, { force: true });
    throw error;
  }
}

function decompressionOf(header: FileHeader, options: { decompress?: boolean }): boolean {
  return (options.decompress ?? true) && header.compression === 'zstd';
}

export type FileOptions = {
  /** false: write the zstd stream as it is (default: decompress) */
  decompress?: boolean;
  /** called with the number of file bytes read, as reading goes (for a progress bar) */
  onBytes?: (n: number) => void;
};

async function decryptInto(
  path: string,
  key: EncryptionKey,
  decompress: boolean,
  sink: Writable,
  onBytes?: (n: number) => void,
): Promise<DecryptionResult> {
  const decrypt = createDecryptStream(key);
  const read = createReadStream(path, { highWaterMark: READ_SIZE });
  if (onBytes) read.on('data', (chunk) => onBytes(chunk.length));
  if (!decompress) {
    await pipeline(read, decrypt, sink);
    return { ...statsOf(decrypt), decompressedBytes: undefined };
  }
  const decompressor = createZstdDecompress();
  let decompressError: unknown;
  decompressor.once('error', (error) => {
    decompressError = error;
  });
  let decompressedBytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      decompressedBytes += chunk.length;
      callback(null, chunk);
    },
  });
  try {
    await pipeline(read, decrypt, decompressor, count, sink);
  } catch (error) {
    // The decompressor also reports errors it was destroyed with (a full disk, an output that
    // cannot be written): those carry a syscall and are about the output, not the backup.
    const fromOutput = typeof (error as NodeJS.ErrnoException)?.syscall === 'string';
    if (error === decompressError && !(error instanceof FormatError) && !fromOutput) {
      throw new PayloadCorruptError(`the decrypted payload is not valid zstd: ${(error as Error).message}`, {
        cause: error,
      });
    }
    throw error;
  }
  return { ...statsOf(decrypt), decompressedBytes };
}

/**
 * Version 2: every section in TOC order, each decompressed on its own; the output is the sections'
 * payloads one after another (for a PostgreSQL backup: pre-data, the tables' data, post-data, which
 * together are a plain SQL script psql accepts).
 */
async function sectionsInto(
  path: string,
  key: EncryptionKey,
  decompress: boolean,
  sink: Writable,
  onBytes?: (n: number) => void,
): Promise<DecryptionResult> {
  const archive = await openArchive(path, key);
  onBytes?.(archive.header.length);
  let decompressedBytes = 0;
  await pipeline(
    readAllSections(archive, {
      decompress,
      onFileBytes: onBytes,
      onSectionBytes: (n) => (decompressedBytes += n),
    }),
    sink,
  );
  const sections = archive.toc.sections;
  return {
    header: archive.header,
    plaintextBytes: sections.reduce((n, s) => n + s.plaintextBytes, 0),
    chunks: sections.reduce((n, s) => n + s.chunks, 0),
    decompressedBytes: decompress ? decompressedBytes : undefined,
    sections: sections.length,
  };
}

function statsOf(decrypt: DecryptStream): Omit<DecryptionResult, 'decompressedBytes'> {
  return { header: decrypt.header!, plaintextBytes: decrypt.plaintextBytes, chunks: decrypt.chunks };
}

async function readKeyedHeader(path: string, key: EncryptionKey): Promise<FileHeader> {
  if (key.kind === 'recipient') throw recipientCannotDecrypt();
  const parsed = await readParsedHeader(path);
  openHeader(parsed, key);
  return publicHeader(parsed);
}

async function readParsedHeader(path: string): Promise<ParsedHeader> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(MAX_HEADER_LENGTH);
    const { bytesRead } = await handle.read(buffer, 0, MAX_HEADER_LENGTH, 0);
    return parseHeader(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}
