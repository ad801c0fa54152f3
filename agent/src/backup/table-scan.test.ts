import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { copyTableName, createTableScanner, type Dialect, type TableStat } from './table-scan.ts';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** Every way of cutting the text into chunks must give the same stats. */
function scanAllSplits(dialect: Dialect, text: string): TableStat[] {
  const bytes = Buffer.from(text);
  const whole = createTableScanner(dialect);
  whole.write(bytes);
  const expected = whole.end();
  for (let a = 0; a <= bytes.length; a++) {
    for (const size of [1, 2, 3, 7]) {
      const s = createTableScanner(dialect);
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
    expect(changed[0]!.sha256).not.toBe(base[0]!.sha256);
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
