import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createZstdCompress } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import {
  ChunkCorruptError,
  createEncryptStream,
  parseEncryptionKey,
  WrongKeyError,
} from '../format/index.ts';
import { checkBackupFile, openSqlStream, peekBackupFile, sniffEngine } from './restore.ts';

const key = parseEncryptionKey(`resistro-key-1:${Buffer.alloc(32, 5).toString('base64url')}`);
const dir = mkdtempSync(join(tmpdir(), 'resistro-restore-'));

async function backupFile(sql: Buffer, name: string): Promise<string> {
  const path = join(dir, name);
  const bytes: Buffer[] = [];
  await pipeline(
    Readable.from([sql]),
    createZstdCompress(),
    createEncryptStream(key, { compression: 'zstd' }),
    new Writable({
      write(c, _e, cb) {
        bytes.push(c);
        cb();
      },
    }),
  );
  writeFileSync(path, Buffer.concat(bytes));
  return path;
}

// ~13 MB: enough that zstd still holds output when its input ends (where a stream once lost bytes)
const sql = Buffer.concat(
  Array.from({ length: 14000 }, (_, i) =>
    Buffer.from(
      `INSERT INTO t VALUES (${i}, '${randomBytes(300).toString('base64')}', 'STRICT_TRANS_TABLES');\n`.repeat(
        2,
      ),
    ),
  ),
);
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('reading a backup back', () => {
  test('delivers every byte to a slow consumer, in order', async () => {
    const path = await backupFile(
      Buffer.concat([Buffer.from('-- PostgreSQL database dump\n'), sql]),
      'slow.resistro',
    );
    for (const delay of ['immediate', 'timeout'] as const) {
      const hash = createHash('sha256');
      const stream = await openSqlStream(path, key);
      await new Promise((r) => setTimeout(r, 20)); // nothing may be lost before the consumer comes
      await pipeline(
        stream,
        new Writable({
          highWaterMark: 16384,
          write(c, _e, cb) {
            hash.update(c);
            if (delay === 'immediate') setImmediate(cb);
            else setTimeout(cb, 0);
          },
        }),
      );
      expect(hash.digest('hex')).toBe(
        sha(Buffer.concat([Buffer.from('-- PostgreSQL database dump\n'), sql])),
      );
    }
  });

  test('an error before anyone reads is not lost: the stream fails when it is read', async () => {
    const path = await backupFile(sql, 'cut.resistro');
    const cut = join(dir, 'cut-short.resistro');
    writeFileSync(cut, readFileSync(path).subarray(0, 5000));
    const stream = await openSqlStream(cut, key);
    await new Promise((r) => setTimeout(r, 50));
    await expect(pipeline(stream, new Writable({ write: (_c, _e, cb) => cb() }))).rejects.toThrow(
      /ends inside/,
    );
  });

  test('checkBackupFile reads everything; a flipped bit or a wrong key is refused with its own error', async () => {
    const path = await backupFile(
      Buffer.concat([Buffer.from('-- MariaDB dump 10.19\n'), sql]),
      'check.resistro',
    );
    const ok = await checkBackupFile(path, key);
    expect(ok.sqlBytes).toBe(sql.length + 22);
    expect(ok.engine).toBe('mariadb');
    const bytes = readFileSync(path);
    bytes[bytes.length - 100]! ^= 1;
    writeFileSync(join(dir, 'flipped.resistro'), bytes);
    await expect(checkBackupFile(join(dir, 'flipped.resistro'), key)).rejects.toBeInstanceOf(
      ChunkCorruptError,
    );
    const other = parseEncryptionKey(`resistro-key-1:${Buffer.alloc(32, 6).toString('base64url')}`);
    await expect(peekBackupFile(path, other)).rejects.toBeInstanceOf(WrongKeyError);
  });

  test('peek reads only the start and names the engine', async () => {
    const path = await backupFile(
      Buffer.concat([Buffer.from('--\n-- PostgreSQL database dump\n--\n'), sql]),
      'peek.resistro',
    );
    const peek = await peekBackupFile(path, key);
    expect(peek.engine).toBe('postgres');
    expect(peek.head.length).toBeLessThanOrEqual(8192);
  });

  test("sniffEngine reads the dump tools' first lines", () => {
    expect(sniffEngine('--\n-- PostgreSQL database dump\n--\n')).toBe('postgres');
    expect(
      sniffEngine(
        '/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump 10.19  Distrib 10.11.18-MariaDB',
      ),
    ).toBe('mariadb');
    expect(sniffEngine('-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)')).toBe('mysql');
    expect(sniffEngine('-- MySQL dump 10.19  Distrib 10.5.23-MariaDB')).toBe('mariadb');
    expect(sniffEngine('SELECT 1;')).toBeUndefined();
  });
});
