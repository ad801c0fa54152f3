import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { entryDigest, StatsLineCatcher, statsDigest, type TableDigest } from '../format/index.ts';
import {
  copyTableName,
  createTableScanner,
  type Dialect,
  newStatsDigest,
  type TableStat,
  tapTableStats,
} from './table-scan.ts';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** Every way of cutting the text into chunks must give the same stats. */
function scanAllSplits(dialect: Dialect, text: string, digest?: TableDigest): TableStat[] {
  const bytes = Buffer.from(text);
  const whole = createTableScanner(dialect, digest);
  whole.write(bytes);
  const expected = whole.end();
  for (let a = 0; a <= bytes.length; a++) {
    for (const size of [1, 2, 3, 7]) {
      const s = createTableScanner(dialect, digest);
      s.write(bytes.subarray(0, a));
      for (let i = a; i < bytes.length; i += size) s.write(bytes.subarray(i, i + size));
      expect(s.end(), `split at ${a}, then ${size}-byte pieces`).toEqual(expected);
    }
  }
  return expected;
}

const PG_DUMP = `--
-- PostgreSQL database dump
--
SET statement_timeout = 0;

COPY public.orders (id, note) FROM stdin;
1\tfirst
2\twith \\\\. inside
3\t\\N
\\.


COPY "Odd schema"."Tab ""x""" (a) FROM stdin;
\\.


COPY public.tags (t) FROM stdin;
\\.x
\\.

SELECT pg_catalog.setval('public.orders_id_seq', 3, true);
`;

describe('PostgreSQL COPY blocks', () => {
  it('counts each table’s lines and hashes them, however the stream is cut', () => {
    const stats = scanAllSplits('postgres', PG_DUMP);
    expect(stats).toEqual([
      {
        name: 'public.orders',
        rows: 3,
        sha256: sha('1\tfirst\n2\twith \\\\. inside\n3\t\\N\n'),
        bytes: Buffer.byteLength('1\tfirst\n2\twith \\\\. inside\n3\t\\N\n'),
      },
      { name: '"Odd schema"."Tab ""x"""', rows: 0, sha256: sha(''), bytes: 0 },
      { name: 'public.tags', rows: 1, sha256: sha('\\.x\n'), bytes: 4 },
    ]);
  });

  it('a changed or missing row changes the table’s figures and only its own', () => {
    const base = scanAllSplits('postgres', PG_DUMP);
    const changed = scanAllSplits('postgres', PG_DUMP.replace('2\twith', '2\tWith'));
    expect(changed[0]!.rows).toBe(3);
    expect(entryDigest(changed[0]!)).not.toBe(entryDigest(base[0]!));
    expect(changed.slice(1)).toEqual(base.slice(1));
    const lost = scanAllSplits('postgres', PG_DUMP.replace('3\t\\N\n', ''));
    expect(lost[0]!.rows).toBe(2);
  });

  it('reads table names as pg_dump quotes them', () => {
    expect(copyTableName('COPY public.t (a, b) FROM stdin;')).toBe('public.t');
    expect(copyTableName('COPY "a b"."c.d" (x) FROM stdin;')).toBe('"a b"."c.d"');
    expect(copyTableName('COPY public.t  FROM stdin;')).toBe('public.t');
    expect(copyTableName('-- COPY public.t (a) FROM stdin;')).toBeUndefined();
  });
});

const MY_DUMP = `-- MariaDB dump 10.19
/*!40101 SET NAMES utf8mb4 */;
DROP TABLE IF EXISTS \`items\`;
CREATE TABLE \`items\` (
  \`id\` int(11) NOT NULL,
  \`note\` text
) ENGINE=InnoDB;
LOCK TABLES \`items\` WRITE;
INSERT INTO \`items\` VALUES (1,'a (b), c'),(2,'it\\'s (x)'),(3,NULL);
INSERT INTO \`items\` VALUES (4,'x''y (z)');
UNLOCK TABLES;
CREATE TABLE \`empty\` (
  \`id\` int(11)
);
CREATE TABLE \`gen\` (\`a\` int, \`b\` int GENERATED ALWAYS AS (a+1) VIRTUAL);
INSERT INTO \`gen\` (\`a\`) VALUES (1),(2);
INSERT INTO \`we\`\`ird\` VALUES (0x28,'\\\\');
INSERT INTO \`multi\` VALUES
(1,'a;b'),
(2,'c\\nd');
`;

describe('MySQL/MariaDB INSERT statements', () => {
  it('counts value tuples outside strings and lists empty tables, however the stream is cut', () => {
    const stats = scanAllSplits('mysql', MY_DUMP);
    const items = " (1,'a (b), c'),(2,'it\\'s (x)'),(3,NULL) (4,'x''y (z)')";
    const multi = "\n(1,'a;b'),\n(2,'c\\nd')";
    expect(stats).toEqual([
      { name: 'items', rows: 4, sha256: sha(items), bytes: Buffer.byteLength(items) },
      { name: 'empty', rows: 0, sha256: sha(''), bytes: 0 },
      { name: 'gen', rows: 2, sha256: sha(' (1),(2)'), bytes: 8 },
      { name: 'we`ird', rows: 1, sha256: sha(" (0x28,'\\\\')"), bytes: 12 },
      { name: 'multi', rows: 2, sha256: sha(multi), bytes: Buffer.byteLength(multi) },
    ]);
  });
});

// GMAC of `text` as defined in FORMAT.md §12.1, computed independently: AES-256-GCM, 12 zero bytes
// of nonce, the rows as associated data given at once, no plaintext; the tag in hex.
const gmac = (key: Buffer, text: string) => {
  const c = createCipheriv('aes-256-gcm', key, Buffer.alloc(12));
  c.setAAD(Buffer.from(text));
  c.final();
  return c.getAuthTag().toString('hex');
};

describe('GMAC statistics (format -2)', () => {
  const key = randomBytes(32);
  const digest: TableDigest = { alg: 'gmac', key };

  it('digest the same row bytes as SHA-256 does, however the stream is cut', () => {
    const stats = scanAllSplits('postgres', PG_DUMP, digest);
    const sha256 = scanAllSplits('postgres', PG_DUMP);
    expect(stats.map((t) => [t.name, t.rows, t.bytes])).toEqual(sha256.map((t) => [t.name, t.rows, t.bytes]));
    expect(stats[0]).toEqual({
      name: 'public.orders',
      rows: 3,
      gmac: gmac(key, '1\tfirst\n2\twith \\\\. inside\n3\t\\N\n'),
      bytes: Buffer.byteLength('1\tfirst\n2\twith \\\\. inside\n3\t\\N\n'),
    });
    expect(stats[1]).toEqual({ name: '"Odd schema"."Tab ""x"""', rows: 0, gmac: gmac(key, ''), bytes: 0 });
  });

  it('a changed row changes the GMAC; another key gives other GMACs', () => {
    const base = scanAllSplits('postgres', PG_DUMP, digest);
    const changed = scanAllSplits('postgres', PG_DUMP.replace('2\twith', '2\tWith'), digest);
    expect(entryDigest(changed[0]!)).not.toBe(entryDigest(base[0]!));
    expect(changed.slice(1)).toEqual(base.slice(1));
    const other = scanAllSplits('postgres', PG_DUMP, { alg: 'gmac', key: randomBytes(32) });
    expect(entryDigest(other[0]!)).not.toBe(entryDigest(base[0]!));
  });

  it('a backup records format -2 with its key, and the statistics line reads back with it', async () => {
    const tap = tapTableStats(Readable.from([Buffer.from(PG_DUMP)]), 'postgres', { line: true });
    const out: Buffer[] = [];
    for await (const chunk of tap.output) out.push(chunk as Buffer);
    const stats = tap.stats();
    expect(stats.format).toBe('resistro-table-stats-2');
    const recorded = statsDigest(stats);
    expect(recorded.alg).toBe('gmac');
    // the test restore recomputes them from the same rows with the recorded key
    expect(scanAllSplits('postgres', PG_DUMP, recorded)).toEqual(stats.tables);
    const catcher = new StatsLineCatcher();
    for (const b of out) catcher.write(b);
    expect(catcher.result()).toEqual(stats);
    expect(Buffer.concat(out).toString().startsWith(PG_DUMP)).toBe(true);
  });

  it('each backup draws a key of its own', () => {
    const a = newStatsDigest();
    const b = newStatsDigest();
    if (a.alg !== 'gmac' || b.alg !== 'gmac') throw new Error('not GMAC');
    expect(a.key.length).toBe(32);
    expect(a.key.equals(b.key)).toBe(false);
  });
});
