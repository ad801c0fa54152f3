// `npm run bench:dedup-mariadb [-- --days 7] [--scale 1] [--seed 42]`
//
// Deduplicated MariaDB backups (docs/dedup.md, "MySQL and MariaDB") on a seeded shop-like workload
// (customers, orders, order_items, an append-only events table with retention deletes, documents
// as blobs, static products), one backup per simulated day; each day +1 % orders (0.4 % of
// orders updated, mostly recent), 0.2 % of customers updated at random, +2 %/−1.5 % events, a few
// documents replaced. Per day, one mariadb-dump (--single-transaction --order-by-primary, as the
// agent runs it) is taken into memory and stored three ways:
//   whole file (today):     zstd -3 of the dump, every byte stored;
//   deduplicated, by table: cut into a section per table as it streams (dedup/sql-sections.ts),
//                           keyed chunks, only new chunks compressed, encrypted and packed;
//   deduplicated, one piece: the same chunks over the whole dump as one section (for comparison);
//   deduplicated, row INSERTs: a second dump with --skip-extended-insert (one INSERT per row, which
//                           the agent does not use), cut by table: what the tool's grouping of rows
//                           into ~1 MB statements costs deduplication.
// An in-memory chunk index stands in for the control plane. The last day's deduplicated backup is
// then read back out of the store and restored into an empty database, and its mariadb-dump is
// compared with the source's. A benchmark, not a test: it prints (and exits 1 if the restore
// differs from its source).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { zstdCompressSync } from 'node:zlib';
import { type MariadbServer, startMariadb } from '../../scripts/stack/mariadb.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import { buildContainer, readContainerSql } from '../src/dedup/container.ts';
import { dedupKeys, dedupSecretOf } from '../src/dedup/keys.ts';
import { encryptManifest, type Manifest } from '../src/dedup/manifest.ts';
import { writeSplitDump } from '../src/dedup/sql-sections.ts';
import { MemoryChunkStore } from '../src/dedup/store.ts';
import { storedBlobs } from '../src/dedup/testing.ts';
import { DedupWriter } from '../src/dedup/writer.ts';
import { getEngine } from '../src/engines/index.ts';
import { generateSymmetricKey, parseEncryptionKey } from '../src/format/index.ts';

const { values: args } = parseArgs({
  options: {
    days: { type: 'string', default: '7' },
    scale: { type: 'string', default: '1' },
    seed: { type: 'string', default: '42' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  process.stdout.write(
    'npm run bench:dedup-mariadb [-- --days <n>] [--scale <x, 1 ≈ 45 MB of SQL>] [--seed <n>]\n',
  );
  process.exit(0);
}
const days = Number(args.days);
const scale = Number(args.scale);
const seed = Number(args.seed);
const n = (x: number) => Math.max(1, Math.round(x * scale));
const MB = 1e6;

const ROOT = new URL('../..', import.meta.url).pathname;
mkdirSync(join(ROOT, '.test-data'), { recursive: true });
const dir = mkdtempSync(join(ROOT, '.test-data', 'bench-dedup-maria-'));
const server: MariadbServer = await startMariadb({
  dir: join(dir, 'data'),
  port: await freePort(),
  fast: true,
});
try {
  await run();
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}

async function run(): Promise<void> {
  await server.createDatabase('shop');
  const q = (sql: string) => server.query(sql, 'shop');
  // RAND(seed) once seeds the session's generator; every later RAND() follows from it.
  await q(`DO RAND(${seed});
CREATE TABLE products (id INT PRIMARY KEY, name VARCHAR(100), price DECIMAL(10,2), description TEXT) ENGINE=InnoDB;
INSERT INTO products SELECT seq, CONCAT('Produkt ', seq), ROUND(RAND() * 200, 2), REPEAT(MD5(seq), 6) FROM seq_1_to_${n(5000)};
CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(100), email VARCHAR(100), city VARCHAR(40), updated DATETIME) ENGINE=InnoDB;
INSERT INTO customers SELECT seq, CONCAT('Kunde ', seq), CONCAT('k', seq, '@example.test'), ELT(1 + FLOOR(RAND() * 5), 'Köln', 'Berlin', 'Wien', 'Zürich', 'Graz'), '2026-01-01' FROM seq_1_to_${n(40000)};
CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id INT, status VARCHAR(10), total DECIMAL(12,2), created DATETIME) ENGINE=InnoDB;
INSERT INTO orders SELECT seq, 1 + FLOOR(RAND() * ${n(40000)}), 'paid', ROUND(RAND() * 500, 2), '2026-01-01' + INTERVAL seq MINUTE FROM seq_1_to_${n(200000)};
CREATE TABLE order_items (order_id BIGINT, line INT, product_id INT, qty INT, PRIMARY KEY (order_id, line)) ENGINE=InnoDB;
INSERT INTO order_items SELECT o.seq, l.seq, 1 + FLOOR(RAND() * ${n(5000)}), 1 + FLOOR(RAND() * 4) FROM seq_1_to_${n(200000)} o, seq_1_to_3 l;
CREATE TABLE events (id BIGINT PRIMARY KEY, at DATETIME, kind VARCHAR(10), payload JSON) ENGINE=InnoDB;
INSERT INTO events SELECT seq, '2026-01-01' + INTERVAL seq * 10 SECOND, ELT(1 + FLOOR(RAND() * 3), 'view', 'cart', 'pay'), JSON_OBJECT('ip', CONCAT('10.0.', FLOOR(RAND() * 255), '.', FLOOR(RAND() * 255)), 'n', seq) FROM seq_1_to_${n(150000)};
CREATE TABLE documents (id INT PRIMARY KEY, body BLOB) ENGINE=InnoDB;
INSERT INTO documents SELECT seq, UNHEX(REPEAT(MD5(seq), 40)) FROM seq_1_to_${n(1500)};`);

  const mutateDay = (day: number) => `DO RAND(${seed + day});
SET @m = (SELECT MAX(id) FROM orders);
INSERT INTO orders SELECT @m + seq, 1 + FLOOR(RAND() * ${n(40000)}), 'new', ROUND(RAND() * 500, 2), NOW() FROM seq_1_to_${n(2000)};
INSERT INTO order_items SELECT @m + o.seq, l.seq, 1 + FLOOR(RAND() * ${n(5000)}), 1 FROM seq_1_to_${n(2000)} o, seq_1_to_3 l;
UPDATE orders SET status = 'shipped' WHERE status = 'new' ORDER BY RAND() LIMIT ${n(800)};
UPDATE orders SET total = total + 1 WHERE id IN (SELECT * FROM (SELECT FLOOR(@m - RAND() * @m * 0.05) FROM seq_1_to_${n(160)}) x);
UPDATE orders SET total = total + 1 WHERE id IN (SELECT * FROM (SELECT FLOOR(1 + RAND() * @m) FROM seq_1_to_${n(40)}) x);
UPDATE customers SET city = 'Linz', updated = NOW() WHERE id IN (SELECT * FROM (SELECT FLOOR(1 + RAND() * ${n(40000)}) FROM seq_1_to_${n(80)}) x);
SET @e = (SELECT MAX(id) FROM events);
INSERT INTO events SELECT @e + seq, NOW(), 'view', JSON_OBJECT('n', @e + seq) FROM seq_1_to_${n(3000)};
DELETE FROM events ORDER BY id LIMIT ${n(2250)};
UPDATE documents SET body = CONCAT(UNHEX(MD5(RAND())), body) WHERE id IN (SELECT * FROM (SELECT FLOOR(1 + RAND() * ${n(1500)}) FROM seq_1_to_2) x);`;

  const key = parseEncryptionKey(generateSymmetricKey());
  const keys = dedupKeys(dedupSecretOf(key)!);
  const engine = getEngine('mariadb');
  const target = {
    engine: 'mariadb' as const,
    host: '127.0.0.1',
    port: server.port,
    database: 'shop',
    user: server.user,
    password: server.password,
  };
  const byTable = new MemoryChunkStore();
  const onePiece = new MemoryChunkStore();
  const rowInserts = new MemoryChunkStore();
  const totals = { whole: 0, table: 0, one: 0, rows: 0, sql: 0 };
  let last: { manifest: Manifest; manifestFile: Buffer; sql: Buffer } | undefined;
  const rows: string[] = [];
  const pad = (s: string, w: number) => s.padStart(w);
  const mb = (b: number) => `${(b / MB).toFixed(2)} MB`;
  process.stdout.write(
    `MariaDB ${(await server.query('SELECT VERSION()'))[0]![0]}, ${days} days, scale ${scale}, seed ${seed}\n`,
  );
  for (let day = 1; day <= days; day++) {
    if (day > 1) await q(mutateDay(day));
    const dump = await engine.dump(target, { keyOrder: true });
    const parts: Buffer[] = [];
    for await (const b of dump.stdout) parts.push(b as Buffer);
    await dump.done;
    const sql = Buffer.concat(parts);
    const t0 = performance.now();
    const whole = zstdCompressSync(sql).length;
    const wholeMs = performance.now() - t0;
    const t1 = performance.now();
    const a = new DedupWriter(keys, byTable, { level: 3 });
    await writeSplitDump(a, Readable.from(pieces(sql)));
    const manifest = await a.finish({ engine: 'mariadb' });
    const manifestFile = await encryptManifest(key, manifest);
    const tableMs = performance.now() - t1;
    const b = new DedupWriter(keys, onePiece, { level: 3 });
    await b.write(b.section('data', ''), Readable.from(pieces(sql)));
    const oneManifest = await encryptManifest(key, await b.finish({ engine: 'mariadb' }));
    const c = new DedupWriter(keys, rowInserts, { level: 3 });
    await writeSplitDump(c, Readable.from(pieces(await rowInsertDump())));
    const rowsManifest = await encryptManifest(key, await c.finish({ engine: 'mariadb' }));
    const perRow = c.stats.uploadedBytes + rowsManifest.length;
    totals.rows += perRow;
    const table = a.stats.uploadedBytes + manifestFile.length;
    const one = b.stats.uploadedBytes + oneManifest.length;
    totals.whole += whole;
    totals.table += table;
    totals.one += one;
    totals.sql += sql.length;
    rows.push(
      `${pad(String(day), 3)}  ${pad(mb(sql.length), 10)}  ${pad(mb(whole), 10)} ${pad(`${Math.round(wholeMs)} ms`, 8)}  ${pad(mb(table), 10)} ${pad(`${a.stats.newChunks}/${a.stats.chunks}`, 11)} ${pad(`${Math.round(tableMs)} ms`, 8)}  ${pad(mb(one), 10)} ${pad(`${b.stats.newChunks}/${b.stats.chunks}`, 11)}  ${pad(mb(perRow), 10)} ${pad(`${c.stats.newChunks}/${c.stats.chunks}`, 11)}`,
    );
    process.stdout.write(`${rows.at(-1)}\n`);
    last = { manifest, manifestFile, sql };
  }
  process.stdout.write(
    `\n${'day'.padStart(3)}  ${'SQL'.padStart(10)}  ${'whole zstd'.padStart(10)} ${'time'.padStart(8)}  ${'by table'.padStart(10)} ${'new/chunks'.padStart(11)} ${'time'.padStart(8)}  ${'one piece'.padStart(10)} ${'new/chunks'.padStart(11)}  ${'row INSERTs'.padStart(10)} ${'new/chunks'.padStart(11)}\n${rows.join('\n')}\n`,
  );
  process.stdout.write(
    `\nstored after ${days} days: whole files ${mb(totals.whole)}; deduplicated by table ${mb(totals.table)} (${(totals.whole / totals.table).toFixed(1)}× less); one piece ${mb(totals.one)} (${(totals.whole / totals.one).toFixed(1)}× less); one INSERT per row ${mb(totals.rows)} (${(totals.whole / totals.rows).toFixed(1)}× less); SQL over all days ${mb(totals.sql)}\n`,
  );

  // The last day, read back out of the store (as the single file) into an empty database.
  const { manifest, manifestFile } = last!;
  const file = join(dir, 'last.resistro');
  writeFileSync(file, buildContainer(manifestFile, storedBlobs(byTable, manifest)));
  await server.createDatabase('restored');
  await engine.restore({ ...target, database: 'restored' }, readContainerSql(file, key));
  const [source, restored] = await Promise.all([dumpOf('shop'), dumpOf('restored')]);
  const same = source === restored;
  process.stdout.write(
    `restore of day ${days} (${manifest.sections.length} sections) into an empty database: ${same ? 'identical' : 'DIFFERENT'} to the source's mariadb-dump\n`,
  );
  if (!same) process.exitCode = 1;
}

function* pieces(data: Buffer): Generator<Buffer> {
  for (let i = 0; i < data.length; i += 65536) yield data.subarray(i, i + 65536);
}

/** The agent's dump, but one INSERT per row (--skip-extended-insert). */
function rowInsertDump(): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    execFile(
      'mariadb-dump',
      [
        '--no-defaults',
        `--socket=${server.socket}`,
        '--user=root',
        '--single-transaction',
        '--quick',
        '--routines',
        '--triggers',
        '--events',
        '--hex-blob',
        '--order-by-primary',
        '--skip-extended-insert',
        'shop',
      ],
      { maxBuffer: 1 << 30, encoding: 'buffer' },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    ),
  );
}

function dumpOf(database: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      'mariadb-dump',
      [
        '--no-defaults',
        `--socket=${server.socket}`,
        '--user=root',
        '--skip-dump-date',
        '--skip-comments',
        database,
      ],
      { maxBuffer: 1 << 30, encoding: 'utf8' },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    ),
  );
}
