// Writes the golden vectors of the per-table statistics (FORMAT.md §12):
//   node agent/src/format/vectors/stats/generate.ts           format -1 (SHA-256) into this folder
//   node agent/src/format/vectors/stats/generate.ts --gmac    format -2 (GMAC) into ../stats2
// Released vectors never change: this refuses to overwrite an existing vectors.json. The keys are
// those of version 1 (../vectors.json). Payloads are uncompressed so the vectors do not depend on a
// zstd version; the agent writes the same structures zstd-compressed.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTableScanner, statsObject } from '../../../backup/table-scan.ts';
import type { FileRandomness } from '../../envelope.ts';
import { parseEncryptionKey } from '../../keys.ts';
import { encodeStatsLine, type TableDigest, type TableStats } from '../../table-stats.ts';
import { archiveToBuffer, encryptToBuffer } from '../../testing.ts';

const here = dirname(fileURLToPath(import.meta.url));
const GMAC = process.argv.includes('--gmac');
const directory = GMAC ? join(here, '..', 'stats2') : here;
const keys = JSON.parse(readFileSync(join(here, '..', 'vectors.json'), 'utf8')).keys as Record<
  string,
  { text: string }
>;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest();

// SECURITY: deterministic per-file secrets, so the vectors are reproducible; only for vectors.
function randomnessFor(name: string): FileRandomness {
  return {
    dataKey: sha256(`resistro stats${GMAC ? '2' : ''} vector ${name} data key`),
    salt: sha256(`resistro stats${GMAC ? '2' : ''} vector ${name} salt`),
    noncePrefix: sha256(`resistro stats${GMAC ? '2' : ''} vector ${name} nonce prefix`).subarray(0, 7),
  };
}

/** The statistics key of the -2 vectors (SECURITY: fixed for vectors only; backups draw theirs). */
export const VECTOR_GMAC_KEY = sha256('resistro stats vector gmac key');
const DIGEST: TableDigest = GMAC ? { alg: 'gmac', key: VECTOR_GMAC_KEY } : { alg: 'sha256' };

/** A tiny mariadb-dump: one-tuple-per-line INSERTs, a quoted ';' and '(' , an empty table. */
export const MYSQL_DUMP = `-- MariaDB dump 10.19-11.0  Distrib 10.11.14-MariaDB
/*!40101 SET NAMES utf8mb4 */;
CREATE TABLE \`orders\` (
  \`id\` int(11) NOT NULL,
  \`note\` text DEFAULT NULL,
  PRIMARY KEY (\`id\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO \`orders\` VALUES
(1,'first; (quoted)'),
(2,'it\\'s'),
(3,NULL);
CREATE TABLE \`empty\` (
  \`id\` int(11) DEFAULT NULL
) ENGINE=InnoDB;
-- Dump completed
`;

/** pg_dump sections as the agent splits them: schema, one table's data, the rest, post-data. */
export const PG_SECTIONS = [
  [
    'pre-data',
    '',
    'CREATE TABLE public.orders (id integer NOT NULL, note text);\nCREATE TABLE public."Odd" (x integer);\n',
  ],
  ['data', 'public.orders', 'COPY public.orders (id, note) FROM stdin;\n1\tfirst\n2\t\\N\n\\.\n'],
  ['data', '*', 'COPY public."Odd" (x) FROM stdin;\n\\.\n'],
  ['post-data', '', 'ALTER TABLE ONLY public.orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id);\n'],
] as const;

function scan(dialect: TableStats['dialect'], text: string): TableStats {
  const scanner = createTableScanner(dialect, DIGEST);
  scanner.write(Buffer.from(text));
  return statsObject(dialect, DIGEST, scanner.end());
}

async function main(): Promise<void> {
  const index = join(directory, 'vectors.json');
  await mkdir(directory, { recursive: true });
  if (existsSync(index) && !process.argv.includes('--force'))
    throw new Error('vectors.json exists; released vectors never change');
  const key = parseEncryptionKey(keys.symmetric!.text);

  const v1Stats = scan('mysql', MYSQL_DUMP);
  const v1Plaintext = Buffer.concat([Buffer.from(MYSQL_DUMP), encodeStatsLine(v1Stats)]);
  const v1Random = randomnessFor('stats-v1-mysql');
  const v1 = await encryptToBuffer(key, v1Plaintext, {
    compression: 'none',
    chunkSize: 64,
    randomness: v1Random,
  });
  await writeFile(join(directory, 'stats-v1-mysql.resistro'), v1);

  const v2Stats = scan('postgres', PG_SECTIONS.map(([, , text]) => text).join(''));
  const v2Random = randomnessFor('stats-v2-postgres');
  const { file: v2 } = await archiveToBuffer(
    key,
    PG_SECTIONS.map(([kind, name, text]) => ({ kind, name, data: Buffer.from(text) })),
    {
      compression: 'none',
      chunkSize: 64,
      randomness: v2Random,
      pieceSize: 16,
      segmentSize: 1,
      tableStats: v2Stats,
    },
  );
  await writeFile(join(directory, 'stats-v2-postgres.resistro'), v2);

  const randomness = (r: FileRandomness) => ({
    dataKey: hex(r.dataKey),
    salt: hex(r.salt),
    noncePrefix: hex(r.noncePrefix),
  });
  const vectors = {
    description: GMAC
      ? 'Per-table statistics, format resistro-table-stats-2 (FORMAT.md §12): GMAC under the statistics key in each tableStats. v1: the payload is the dump, then the statistics line. v2: the statistics are the TOC key tableStats2. Key: symmetric of ../vectors.json; compression none; chunk size 64.'
      : 'Per-table statistics (FORMAT.md §12). v1: the payload is the dump, then the statistics line. v2: the statistics are the TOC key tableStats. Key: symmetric of ../vectors.json; compression none; chunk size 64.',
    valid: [
      {
        name: 'stats-v1-mysql',
        file: 'stats-v1-mysql.resistro',
        version: 1,
        dump: MYSQL_DUMP,
        statsLine: encodeStatsLine(v1Stats).toString('utf8'),
        tableStats: v1Stats,
        ...randomness(v1Random),
        fileSha256: hex(sha256(v1)),
      },
      {
        name: 'stats-v2-postgres',
        file: 'stats-v2-postgres.resistro',
        version: 2,
        sections: PG_SECTIONS.map(([kind, name, text]) => ({ kind, name, text })),
        pieceSize: 16,
        segmentSize: 1,
        tableStats: v2Stats,
        ...randomness(v2Random),
        fileSha256: hex(sha256(v2)),
      },
    ],
  };
  await writeFile(index, `${JSON.stringify(vectors, null, 2)}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
