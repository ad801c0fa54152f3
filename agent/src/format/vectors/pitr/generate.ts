// Writes the golden vectors of the point-in-time recovery payloads (FORMAT.md §14): a PostgreSQL
// base backup, a WAL segment (complete and partial) and a MariaDB binlog segment, each an ordinary
// version 1 file: node agent/src/format/vectors/pitr/generate.ts
// Released vectors never change: this refuses to overwrite an existing vectors.json. The key is the
// symmetric key of version 1 (../vectors.json). The zstd frames are stored inside the files, so the
// vectors do not depend on a zstd version; the tar of the base backup is made here by hand (ustar).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zstdCompressSync } from 'node:zlib';
import type { FileRandomness } from '../../envelope.ts';
import { parseEncryptionKey } from '../../keys.ts';
import { encryptToBuffer } from '../../testing.ts';

const directory = dirname(fileURLToPath(import.meta.url));
const keys = JSON.parse(readFileSync(join(directory, '..', 'vectors.json'), 'utf8')).keys as Record<
  string,
  { text: string }
>;
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest();
const hex = (data: Uint8Array) => Buffer.from(data).toString('hex');

// SECURITY: deterministic per-file secrets, so the vectors are reproducible; only for vectors.
export function randomnessFor(name: string): FileRandomness {
  return {
    dataKey: sha256(`resistro pitr vector ${name} data key`),
    salt: sha256(`resistro pitr vector ${name} salt`),
    noncePrefix: sha256(`resistro pitr vector ${name} nonce prefix`).subarray(0, 7),
  };
}

/** Byte i is (i + seed) mod 251. */
export function pattern(length: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => (i + seed) % 251));
}

/** One ustar entry (a regular file, mode 0600, owner 0, mtime fixed) padded to 512 bytes. */
function tarEntry(name: string, body: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const field = (offset: number, length: number, text: string) => header.write(text, offset, length, 'ascii');
  const octal = (offset: number, length: number, value: number) =>
    field(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
  field(0, 100, name);
  octal(100, 8, 0o600);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, body.length);
  octal(136, 12, 1_764_547_200); // 2025-12-01T00:00:00Z
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 8, 'ustar\u000000');
  let sum = 0;
  for (const b of header) sum += b;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  const padded = Buffer.alloc(Math.ceil(body.length / 512) * 512);
  body.copy(padded);
  return Buffer.concat([header, padded]);
}

/** A base backup as `pg_basebackup -Ft -X none` writes it: backup_label first, the manifest last. */
export function baseBackupTar(): Buffer {
  const label = Buffer.from(
    'START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n' +
      'CHECKPOINT LOCATION: 0/2000060\nBACKUP METHOD: streamed\nBACKUP FROM: primary\n' +
      'START TIME: 2025-12-01 00:00:00 UTC\nLABEL: resistro\nSTART TIMELINE: 1\n',
  );
  return Buffer.concat([
    tarEntry('backup_label', label),
    tarEntry('PG_VERSION', Buffer.from('15\n')),
    tarEntry('global/pg_control', pattern(64, 7)),
    tarEntry('backup_manifest', Buffer.from('{ "PostgreSQL-Backup-Manifest-Version": 1, "Files": [] }\n')),
    Buffer.alloc(1024), // two zero blocks end the archive
  ]);
}

/** `u32be(n) || n bytes of JSON || log bytes`, as the WAL and binlog segments are (§14). */
export function segmentPlaintext(description: object, log: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(description), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  return Buffer.concat([length, json, log]);
}

export type PitrVector = {
  name: string;
  kind: 'base-backup' | 'wal-segment' | 'log-segment';
  /** what the reader is told to expect (the WAL name, or the binlog range) */
  expect: Record<string, unknown>;
  /** SHA-256 of the decompressed plaintext (the tar, or the segment's log bytes) */
  contentSha256: string;
  contentLength: number;
  /** SHA-256 of the file */
  fileSha256: string;
};

async function main() {
  const path = join(directory, 'vectors.json');
  if (existsSync(path)) throw new Error(`${path} exists: released vectors never change`);
  const key = parseEncryptionKey(keys.symmetric!.text);
  const wal = pattern(1024, 3);
  const partial = Buffer.concat([pattern(600, 5), Buffer.alloc(424)]);
  const log = pattern(300, 11);
  const binlog = {
    engine: 'mariadb',
    stream: 'mysql-bin.000042',
    start: 256,
    end: 556,
    firstEventAt: 1_764_547_200,
    lastEventAt: 1_764_547_260,
    final: false,
  };
  const cases: {
    name: string;
    kind: PitrVector['kind'];
    expect: Record<string, unknown>;
    content: Buffer;
    plain: Buffer;
  }[] = [
    {
      name: 'base-backup',
      kind: 'base-backup',
      expect: {},
      content: baseBackupTar(),
      plain: baseBackupTar(),
    },
    {
      name: 'wal-segment',
      kind: 'wal-segment',
      expect: { name: '000000010000000000000003' },
      content: wal,
      plain: segmentPlaintext(
        {
          kind: 'wal-segment',
          timeline: '00000001',
          name: '000000010000000000000003',
          start: 50331648,
          partial: false,
        },
        wal,
      ),
    },
    {
      name: 'wal-segment-partial',
      kind: 'wal-segment',
      expect: { name: '000000010000000000000004' },
      content: partial,
      plain: segmentPlaintext(
        {
          kind: 'wal-segment',
          timeline: '00000001',
          name: '000000010000000000000004',
          start: 67108864,
          partial: true,
        },
        partial,
      ),
    },
    {
      name: 'log-segment',
      kind: 'log-segment',
      expect: { stream: binlog.stream, start: binlog.start, end: binlog.end },
      content: log,
      plain: segmentPlaintext({ kind: 'log-segment', ...binlog }, log),
    },
  ];
  const valid: PitrVector[] = [];
  for (const c of cases) {
    const file = await encryptToBuffer(key, zstdCompressSync(c.plain), {
      compression: 'zstd',
      randomness: randomnessFor(c.name),
    });
    await writeFile(join(directory, `${c.name}.resistro`), file);
    valid.push({
      name: c.name,
      kind: c.kind,
      expect: c.expect,
      contentSha256: hex(sha256(c.content)),
      contentLength: c.content.length,
      fileSha256: hex(sha256(file)),
    });
  }
  const vectors = {
    description:
      'Golden vectors of the point-in-time recovery payloads (FORMAT.md §14), version 1 files under the symmetric key of ../vectors.json. Never edit: add new vectors instead.',
    key: 'symmetric',
    randomness:
      'sha256("resistro pitr vector <name> data key" | "… salt" | "… nonce prefix")[0..7 for the prefix]',
    valid,
  };
  await writeFile(path, `${JSON.stringify(vectors, null, 2)}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
