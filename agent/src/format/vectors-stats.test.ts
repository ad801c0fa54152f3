// Golden vectors of the per-table statistics (FORMAT.md §12): the reader finds them where the
// format puts them, the figures follow the definition (checked here from first principles), the
// files re-create byte for byte, and files from before the statistics read as "none".
import { createCipheriv, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTableScanner } from '../backup/table-scan.ts';
import { checkBackupFile } from '../restore/restore.ts';
import { parseEncryptionKey } from './keys.ts';
import { encodeStatsLine, statsDigest, type TableStats } from './table-stats.ts';
import { archiveToBuffer, encryptToBuffer } from './testing.ts';

const dir = join(import.meta.dirname, 'vectors', 'stats');
const json = JSON.parse(readFileSync(join(dir, 'vectors.json'), 'utf8'));
const keys = JSON.parse(readFileSync(join(import.meta.dirname, 'vectors', 'vectors.json'), 'utf8')).keys;
const key = parseEncryptionKey(keys.symmetric.text);
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const randomness = (v: { dataKey: string; salt: string; noncePrefix: string }) => ({
  dataKey: Buffer.from(v.dataKey, 'hex'),
  salt: Buffer.from(v.salt, 'hex'),
  noncePrefix: Buffer.from(v.noncePrefix, 'hex'),
});
const vector = (name: string) => json.valid.find((v: { name: string }) => v.name === name);

describe('statistics vectors', () => {
  it('version 1 (MySQL/MariaDB): the last payload line; figures as defined', async () => {
    const v = vector('stats-v1-mysql');
    const file = await checkBackupFile(join(dir, v.file), key);
    expect(file.version).toBe(1);
    expect(file.tableStats).toEqual(v.tableStats);
    // rows = value tuples; sha256 over each INSERT from just after "VALUES" to before its ";"
    expect(v.tableStats.tables).toEqual([
      {
        name: 'orders',
        rows: 3,
        sha256: sha("\n(1,'first; (quoted)'),\n(2,'it\\'s'),\n(3,NULL)"),
        bytes: 45,
      },
      { name: 'empty', rows: 0, sha256: sha(''), bytes: 0 },
    ]);
    expect(encodeStatsLine(v.tableStats).toString('utf8')).toBe(v.statsLine);
    const again = await encryptToBuffer(key, Buffer.from(v.dump + v.statsLine), {
      compression: 'none',
      chunkSize: 64,
      randomness: randomness(v),
    });
    expect(again.equals(readFileSync(join(dir, v.file)))).toBe(true);
  });

  it('version 2 (PostgreSQL): the TOC key tableStats; figures as defined', async () => {
    const v = vector('stats-v2-postgres');
    const file = await checkBackupFile(join(dir, v.file), key);
    expect(file.version).toBe(2);
    expect(file.tableStats).toEqual(v.tableStats);
    // rows = lines of the COPY block; sha256 over them (newlines included)
    expect(v.tableStats.tables).toEqual([
      { name: 'public.orders', rows: 2, sha256: sha('1\tfirst\n2\t\\N\n'), bytes: 13 },
      { name: 'public."Odd"', rows: 0, sha256: sha(''), bytes: 0 },
    ]);
    const { file: again } = await archiveToBuffer(
      key,
      v.sections.map((s: { kind: 'data'; name: string; text: string }) => ({
        kind: s.kind,
        name: s.name,
        data: Buffer.from(s.text),
      })),
      {
        compression: 'none',
        chunkSize: 64,
        randomness: randomness(v),
        pieceSize: v.pieceSize,
        segmentSize: v.segmentSize,
        tableStats: v.tableStats as TableStats,
      },
    );
    expect(again.equals(readFileSync(join(dir, v.file)))).toBe(true);
  });

  it('the scanner reproduces the recorded figures from the dumps', () => {
    const mysql = createTableScanner('mysql');
    mysql.write(Buffer.from(vector('stats-v1-mysql').dump));
    expect(mysql.end()).toEqual(vector('stats-v1-mysql').tableStats.tables);
    const pg = createTableScanner('postgres');
    for (const s of vector('stats-v2-postgres').sections) pg.write(Buffer.from(s.text));
    expect(pg.end()).toEqual(vector('stats-v2-postgres').tableStats.tables);
  });

  it('files from before the statistics have none (version 1 and 2 vectors)', async () => {
    const old1 = await checkBackupFile(
      join(import.meta.dirname, 'vectors', 'symmetric-c64k-zstd.resistro'),
      key,
    );
    expect(old1.tableStats).toBeUndefined();
    const old2 = await checkBackupFile(
      join(import.meta.dirname, 'vectors', 'v2', 'v2-symmetric-c64k-zstd-sql.resistro'),
      key,
    );
    expect(old2.tableStats).toBeUndefined();
  });
});

// Format -2: the same two files with GMAC statistics under the vectors' fixed statistics key.
const dir2 = join(import.meta.dirname, 'vectors', 'stats2');
const json2 = JSON.parse(readFileSync(join(dir2, 'vectors.json'), 'utf8'));
const vector2 = (name: string) => json2.valid.find((v: { name: string }) => v.name === name);
/** GMAC as FORMAT.md §12.1 defines it, computed here independently of the scanner */
const gmac = (keyText: string, text: string) => {
  const c = createCipheriv('aes-256-gcm', Buffer.from(keyText, 'base64url'), Buffer.alloc(12));
  c.setAAD(Buffer.from(text));
  c.final();
  return c.getAuthTag().toString('hex');
};

describe('statistics vectors, format -2 (GMAC)', () => {
  it('version 1 (MySQL/MariaDB): the last payload line; figures as defined', async () => {
    const v = vector2('stats-v1-mysql');
    const file = await checkBackupFile(join(dir2, v.file), key);
    expect(file.tableStats).toEqual(v.tableStats);
    expect(v.tableStats.format).toBe('resistro-table-stats-2');
    const k = v.tableStats.key;
    expect(v.tableStats.tables).toEqual([
      {
        name: 'orders',
        rows: 3,
        gmac: gmac(k, "\n(1,'first; (quoted)'),\n(2,'it\\'s'),\n(3,NULL)"),
        bytes: 45,
      },
      { name: 'empty', rows: 0, gmac: gmac(k, ''), bytes: 0 },
    ]);
    expect(v.statsLine.startsWith('\n-- resistro-table-stats-2 {')).toBe(true);
    expect(encodeStatsLine(v.tableStats).toString('utf8')).toBe(v.statsLine);
    const again = await encryptToBuffer(key, Buffer.from(v.dump + v.statsLine), {
      compression: 'none',
      chunkSize: 64,
      randomness: randomness(v),
    });
    expect(again.equals(readFileSync(join(dir2, v.file)))).toBe(true);
  });

  it('version 2 (PostgreSQL): the TOC key tableStats2; figures as defined', async () => {
    const v = vector2('stats-v2-postgres');
    const file = await checkBackupFile(join(dir2, v.file), key);
    expect(file.tableStats).toEqual(v.tableStats);
    const k = v.tableStats.key;
    expect(v.tableStats.tables).toEqual([
      { name: 'public.orders', rows: 2, gmac: gmac(k, '1\tfirst\n2\t\\N\n'), bytes: 13 },
      { name: 'public."Odd"', rows: 0, gmac: gmac(k, ''), bytes: 0 },
    ]);
    const { file: again } = await archiveToBuffer(
      key,
      v.sections.map((s: { kind: 'data'; name: string; text: string }) => ({
        kind: s.kind,
        name: s.name,
        data: Buffer.from(s.text),
      })),
      {
        compression: 'none',
        chunkSize: 64,
        randomness: randomness(v),
        pieceSize: v.pieceSize,
        segmentSize: v.segmentSize,
        tableStats: v.tableStats as TableStats,
      },
    );
    expect(again.equals(readFileSync(join(dir2, v.file)))).toBe(true);
  });

  it('the scanner reproduces the recorded figures with the recorded key', () => {
    const v1 = vector2('stats-v1-mysql');
    const mysql = createTableScanner('mysql', statsDigest(v1.tableStats));
    mysql.write(Buffer.from(v1.dump));
    expect(mysql.end()).toEqual(v1.tableStats.tables);
    const v2 = vector2('stats-v2-postgres');
    const pg = createTableScanner('postgres', statsDigest(v2.tableStats));
    for (const s of v2.sections) pg.write(Buffer.from(s.text));
    expect(pg.end()).toEqual(v2.tableStats.tables);
  });
});
