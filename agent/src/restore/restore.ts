// Reading a backup file back: read → decrypt → decompress as one stream of SQL. The decrypt stream
// authenticates every chunk before releasing it and holds the final chunk back until the end of the
// file proved there is nothing after it, so a damaged, cut or extended file errors the stream before
// its end reaches the database.
// - PostgreSQL restores in one transaction: on a stream error psql is killed before it could commit,
//   so a damaged file leaves nothing behind and needs no separate check.
// - MySQL/MariaDB cannot roll back DDL: the whole file is checked first (checkBackupFile), so a
//   damaged file is refused before the first statement reaches the server.
import { createReadStream, type ReadStream } from 'node:fs';
import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createZstdDecompress } from 'node:zlib';
import { CONTAINER_VERSION, containerHeader, isContainerFile, readContainerSql } from '../dedup/container.ts';
import type { EngineName } from '../engines/index.ts';
import {
  createDecryptStream,
  type EncryptionKey,
  type FileHeader,
  FormatError,
  openArchive,
  PayloadCorruptError,
  readAllSections,
  readFileHeader,
  readSection,
  SECTIONED_VERSION,
  StatsLineCatcher,
  type TableStats,
} from '../format/index.ts';
import { createBufferReleaser } from '../memory.ts';

const READ_SIZE = 1024 * 1024;
const SNIFF_BYTES = 8192;

export type CheckResult = {
  keyId: string;
  compression: 'none' | 'zstd';
  sqlBytes: number;
  /** which engine's dump tool wrote the SQL, read from its first lines */
  engine: EngineName | undefined;
  /** format version of the file (1: one stream; 2: sections) */
  version: number;
  /** per-table row counts and hashes (FORMAT.md §12); undefined in backups made before them */
  tableStats: TableStats | undefined;
};

/** The engine whose dump tool wrote this SQL, from the comment block it starts with. */
export function sniffEngine(head: string): EngineName | undefined {
  // the sources whose backups are files: a SQLite database, or a POSIX tar (Redis: its manifest first)
  if (head.startsWith('SQLite format 3\0')) return 'sqlite';
  if (head.slice(257, 262) === 'ustar')
    return /resistro-redis\.json/.test(head.slice(0, 2048)) ? 'redis' : 'directory';
  if (/PostgreSQL database dump/.test(head)) return 'postgres';
  if (/MariaDB dump|-MariaDB|enable the sandbox mode/.test(head)) return 'mariadb';
  if (/MySQL dump/.test(head)) return 'mysql';
  return undefined;
}

/**
 * The file's plaintext SQL as a stream; a damaged file or a wrong key errors the stream. Nothing is
 * read before the consumer asks for data: an error must never fire while nobody listens (the
 * restore first checks the target database, then pipes the stream into psql/mysql).
 */
export async function openSqlStream(
  path: string,
  key: EncryptionKey,
  counters: {
    onFileBytes?: (n: number) => void;
    onSqlBytes?: (n: number) => void;
    /** sees each chunk of SQL (the restore's phase watcher); must not keep it */
    onSqlChunk?: (chunk: Buffer) => void;
  } = {},
): Promise<Readable> {
  const { onFileBytes, onSqlBytes, onSqlChunk } = counters;
  // Version 3, a deduplicated backup's file: its sections in order, each chunk checked on the way.
  if (await isContainerFile(path)) {
    const release = createBufferReleaser();
    return readContainerSql(path, key, {
      ...(onFileBytes && { onFileBytes }),
      ...(onSqlChunk && { onSqlChunk }),
      onSqlBytes: (n) => {
        onSqlBytes?.(n);
        release(n);
      },
    });
  }
  const header = await readFileHeader(path);
  if (header.version === SECTIONED_VERSION) {
    // Version 2: every section in TOC order (pre-data, data, post-data), one plain SQL script.
    const archive = await openArchive(path, key);
    const release = createBufferReleaser();
    return readAllSections(archive, {
      onFileBytes,
      onSectionBytes: (n) => {
        onSqlBytes?.(n);
        release(n);
      },
    });
  }
  let read: ReadStream | undefined;
  let decrypt: Transform | undefined;
  let decompress: Transform | undefined;
  let last: Readable | undefined;

  const start = (out: Readable) => {
    read = createReadStream(path, { highWaterMark: READ_SIZE });
    const release = createBufferReleaser();
    if (onFileBytes) read.on('data', (b) => onFileBytes((b as Buffer).length));
    decrypt = createDecryptStream(key);
    // 256 KiB output chunks instead of zlib's 16 KiB: a sixteenth of the stream overhead.
    decompress = header.compression === 'zstd' ? createZstdDecompress({ chunkSize: 256 * 1024 }) : undefined;
    let zstdError: unknown;
    decompress?.once('error', (error) => {
      zstdError = error;
    });
    const tail = decompress ?? decrypt;
    last = tail;
    tail.on('data', (chunk: Buffer) => {
      onSqlBytes?.(chunk.length);
      onSqlChunk?.(chunk);
      // The SQL is the bulk of what streams through here (about 5× the ciphertext).
      release(chunk.length);
      if (!out.push(chunk)) tail.pause();
    });
    // The end of the SQL is the last stage's 'end' (after its last 'data'), not the pipeline's
    // promise: that settles once the input is consumed, possibly with output still buffered.
    tail.once('end', () => out.push(null));
    (decompress ? pipeline(read, decrypt, decompress) : pipeline(read, decrypt)).then(
      () => {},
      (error: unknown) => {
        // Authentic ciphertext whose content is not valid zstd: say so, not "Z_BUF_ERROR".
        const mapped =
          error instanceof FormatError || error !== zstdError
            ? error
            : new PayloadCorruptError(
                `the decrypted payload is not valid zstd: ${(error as Error).message}`,
                { cause: error },
              );
        out.destroy(mapped as Error);
      },
    );
  };

  return new Readable({
    highWaterMark: READ_SIZE,
    read() {
      if (!last) start(this);
      else last.resume();
    },
    destroy(error, callback) {
      // A consumer that stops early (peek, a failed restore) must not leave the file open.
      for (const stream of [read, decrypt, decompress]) if (stream && !stream.destroyed) stream.destroy();
      callback(error);
    },
  });
}

/**
 * The file's header; for a version 3 file (deduplicated) that of its manifest, with version 3: it
 * names the key, and the file reads as one stream.
 */
export async function readHeaderOf(path: string): Promise<FileHeader> {
  if (await isContainerFile(path)) return { ...(await containerHeader(path)), version: CONTAINER_VERSION };
  return readFileHeader(path);
}

/** Reads the whole file, checks everything, writes nothing. */
export async function checkBackupFile(
  path: string,
  key: EncryptionKey,
  onFileBytes?: (n: number) => void,
): Promise<CheckResult> {
  const header = await readHeaderOf(path);
  let head = '';
  let sqlBytes = 0;
  // Version 1 ends its payload with the statistics line; version 2 keeps them in the TOC.
  const catcher = header.version === SECTIONED_VERSION ? undefined : new StatsLineCatcher();
  await pipeline(
    await openSqlStream(path, key, { onFileBytes }),
    new Writable({
      write(chunk: Buffer, _e, cb) {
        if (head.length < SNIFF_BYTES) head += chunk.subarray(0, SNIFF_BYTES).toString('utf8');
        sqlBytes += chunk.length;
        catcher?.write(chunk);
        cb();
      },
    }),
  );
  const tableStats = catcher ? catcher.result() : (await openArchive(path, key)).toc.tableStats;
  return {
    keyId: header.keyId,
    compression: header.compression,
    sqlBytes,
    engine: sniffEngine(head),
    version: header.version,
    tableStats,
  };
}

/** The first SQL of the file (decrypting only its first chunks), and the engine that wrote it. */
export async function peekBackupFile(
  path: string,
  key: EncryptionKey,
): Promise<{ head: string; engine: EngineName | undefined }> {
  // Version 2: the first section alone (reading on into the others would be wasted, or worse,
  // run into a damaged section nobody is listening to any more).
  const header = await readHeaderOf(path);
  const sql =
    header.version === SECTIONED_VERSION
      ? readSection(await openArchive(path, key), 0)
      : await openSqlStream(path, key);
  let head = '';
  try {
    for await (const chunk of sql) {
      head += (chunk as Buffer).toString('utf8');
      if (head.length >= SNIFF_BYTES) break;
    }
  } finally {
    sql.destroy();
  }
  return { head: head.slice(0, SNIFF_BYTES), engine: sniffEngine(head) };
}
