// The golden vectors of the point-in-time recovery payloads (FORMAT.md §14, vectors/pitr/): each
// file decrypts through the reader the agent uses for it (the base backup through the ordinary
// decryptor and tar, the WAL and binlog segments through wal-fetch's and the binlog replay's
// decoders) to exactly the recorded content, re-encrypts byte for byte with its recorded
// randomness, and a segment asked for under another name is refused as damaged.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeSegment } from '../binlog/segment-file.ts';
import { decodeWal } from '../wal/segment.ts';
import { parseEncryptionKey } from './keys.ts';
import { decryptBuffer, encryptToBuffer } from './testing.ts';
import { baseBackupTar, type PitrVector, pattern, randomnessFor } from './vectors/pitr/generate.ts';

const directory = join(import.meta.dirname, 'vectors', 'pitr');
const vectors = JSON.parse(readFileSync(join(directory, 'vectors.json'), 'utf8')) as {
  key: string;
  valid: PitrVector[];
};
const keys = JSON.parse(readFileSync(join(import.meta.dirname, 'vectors', 'vectors.json'), 'utf8'))
  .keys as Record<string, { text: string }>;
const key = () => parseEncryptionKey(keys[vectors.key]!.text);
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const file = (name: string) => readFileSync(join(directory, `${name}.resistro`));

describe('point-in-time recovery vectors', () => {
  it('lists every payload kind of §14', () => {
    expect(vectors.valid.map((v) => v.kind).sort()).toEqual([
      'base-backup',
      'log-segment',
      'wal-segment',
      'wal-segment',
    ]);
  });

  it.each(vectors.valid)(
    '$name is the recorded file, a version 1 zstd file under the vector key',
    async (v) => {
      const bytes = file(v.name);
      expect(sha256(bytes)).toBe(v.fileSha256);
      const out = await decryptBuffer(key(), bytes);
      expect(out.error).toBeUndefined();
      expect(out.header).toMatchObject({ version: 1, compression: 'zstd', keyMode: 'symmetric' });
    },
  );

  it.each(vectors.valid)('$name re-encrypts byte for byte with its recorded randomness', async (v) => {
    const bytes = file(v.name);
    const { plaintext } = await decryptBuffer(key(), bytes);
    const again = await encryptToBuffer(key(), plaintext, {
      compression: 'zstd',
      randomness: randomnessFor(v.name),
    });
    expect(again.equals(bytes)).toBe(true);
  });

  it('base-backup: the tar pg_basebackup writes, backup_label first, as tar reads it', async () => {
    const v = vectors.valid.find((x) => x.kind === 'base-backup')!;
    const tar = zstdDecompressSync((await decryptBuffer(key(), file(v.name))).plaintext);
    expect(tar.length).toBe(v.contentLength);
    expect(sha256(tar)).toBe(v.contentSha256);
    expect(tar.equals(baseBackupTar())).toBe(true);
    const listed = execFileSync('tar', ['-tf', '-'], { input: tar }).toString().trim().split('\n');
    expect(listed).toEqual(['backup_label', 'PG_VERSION', 'global/pg_control', 'backup_manifest']);
  });

  it.each(vectors.valid.filter((v) => v.kind === 'wal-segment'))(
    '$name: wal-fetch reads exactly its WAL bytes, and refuses it under another name',
    async (v) => {
      const name = String(v.expect.name);
      const wal = await decodeWal(file(v.name), key(), name);
      expect(wal.length).toBe(v.contentLength);
      expect(sha256(wal)).toBe(v.contentSha256);
      const other = `${name.slice(0, 23)}${name.endsWith('9') ? '8' : '9'}`;
      await expect(decodeWal(file(v.name), key(), other)).rejects.toMatchObject({ code: 'segment_damaged' });
    },
  );

  it('wal-segment-partial: the file so far, zero-padded', async () => {
    const wal = await decodeWal(file('wal-segment-partial'), key(), '000000010000000000000004');
    expect(wal.equals(Buffer.concat([pattern(600, 5), Buffer.alloc(424)]))).toBe(true);
  });

  it('log-segment: the binlog replay reads exactly its range, and refuses it as another range', async () => {
    const v = vectors.valid.find((x) => x.kind === 'log-segment')!;
    const expected = v.expect as { stream: string; start: number; end: number };
    const { meta, log } = await decodeSegment(file(v.name), key(), expected);
    expect(meta).toMatchObject({ engine: 'mariadb', ...expected, final: false });
    expect(log.length).toBe(v.contentLength);
    expect(sha256(log)).toBe(v.contentSha256);
    await expect(decodeSegment(file(v.name), key(), { ...expected, end: expected.end + 1 })).rejects.toThrow(
      /damaged/,
    );
    // a WAL segment is not a binlog segment, and the other way round
    await expect(decodeSegment(file('wal-segment'), key(), expected)).rejects.toThrow(/not a log segment/);
    await expect(decodeWal(file(v.name), key(), '000000010000000000000003')).rejects.toMatchObject({
      code: 'segment_damaged',
    });
  });
});
