// `npm run bench:dedup [-- --days 7] [--scale 1] [--seed 42] [--avg 32]`
//
// A seeded, reproducible shop-like PostgreSQL workload (customers, orders with order_items,
// an append-only events table with retention deletes, documents as bytea, static products), one
// backup per simulated day, each day: +1 % orders (0.5 % of orders updated, mostly recent), 0.2 %
// of customers updated at random, +2 %/−1.5 % events, 0.1 % of documents replaced. Per day, on
// the same snapshot state:
//   today's pipeline: the parallel dump → zstd -3 → the version 2 archive, every byte stored;
//   deduplicated:     the parallel dump in key order → keyed chunks → only new chunks compressed,
//                     encrypted and packed (an in-memory store: the control plane and S3 are left
//                     out of both sides; storage requests are counted, not sent).
// Prints stored bytes per day and in total, wall time and CPU of each backup (agent process plus
// pg_dump/psql/zstd children), restore-side decode time (all SQL out of the file), requests and
// index rows. A benchmark, not a test: it prints.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { freePort } from '../../scripts/stack/ports.ts';
import { startPostgres } from '../../scripts/stack/postgres.ts';
import { runParallelPipeline } from '../src/backup/parallel.ts';
import type { ChunkerParams } from '../src/dedup/chunker.ts';
import { buildContainer, readContainerSql } from '../src/dedup/container.ts';
import { dedupKeys, dedupSecretOf } from '../src/dedup/keys.ts';
import { chunkRefs, encryptManifest } from '../src/dedup/manifest.ts';
import { runDedupPipeline } from '../src/dedup/pipeline.ts';
import { MemoryChunkStore } from '../src/dedup/store.ts';
import { DedupWriter } from '../src/dedup/writer.ts';
import { getEngine } from '../src/engines/index.ts';
import {
  generateSymmetricKey,
  openArchive,
  parseEncryptionKey,
  readAllSections,
} from '../src/format/index.ts';

const { values: args } = parseArgs({
  options: {
    days: { type: 'string', default: '7' },
    scale: { type: 'string', default: '1' },
    seed: { type: 'string', default: '42' },
    avg: { type: 'string', default: '32' },
    jobs: { type: 'string', default: '2' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  process.stdout.write(
    'npm run bench:dedup [-- --days <n>] [--scale <x, 1 ≈ 60 MB of SQL>] [--seed <n>] [--avg <KiB>] [--jobs <n>]\n',
  );
  process.exit(0);
}
const days = Number(args.days);
const scale = Number(args.scale);
const jobs = Number(args.jobs);
const avgKiB = Number(args.avg);
const chunking: ChunkerParams = { min: (avgKiB * 1024) / 4, avg: avgKiB * 1024, max: avgKiB * 1024 * 4 };
const MB = 1e6;
const n = (x: number) => Math.round(x * scale);

const ROOT = new URL('../..', import.meta.url).pathname;
mkdirSync(join(ROOT, '.test-data'), { recursive: true });
const dir = mkdtempSync(join(ROOT, '.test-data', 'bench-dedup-'));
const server = await startPostgres({ dir, port: await freePort(), fast: true });
const client = new pg.Client({ connectionString: server.url('postgres') });
await client.connect();
const q = (sql: string) => client.query(sql);

await q(`select setseed(${(Number(args.seed) % 1000) / 1000})`);
await q(`create table products (id int primary key, name text, price numeric(10,2), description text);
insert into products select g, 'Produkt ' || g, (random() * 200)::numeric(10,2), repeat(md5(g::text), 6) from generate_series(1, ${n(5000)}) g;
create table customers (id int primary key, name text, email text, city text, updated timestamptz);
insert into customers select g, 'Kunde ' || g, 'k' || g || '@example.test', (array['Köln','Berlin','Wien','Zürich','Graz'])[1 + (random() * 4)::int], '2026-01-01' from generate_series(1, ${n(40000)}) g;
create table orders (id bigint primary key, customer_id int, status text, total numeric(12,2), created timestamptz);
insert into orders select g, 1 + (random() * ${n(40000) - 1})::int, 'paid', (random() * 500)::numeric(12,2), '2026-01-01'::timestamptz + g * interval '1 minute' from generate_series(1, ${n(200000)}) g;
create table order_items (order_id bigint, line int, product_id int, qty int, primary key (order_id, line));
insert into order_items select o, l, 1 + (random() * ${n(5000) - 1})::int, 1 + (random() * 4)::int from generate_series(1, ${n(200000)}) o, generate_series(1, 3) l;
create table events (id bigint primary key, at timestamptz, kind text, payload jsonb);
insert into events select g, '2026-01-01'::timestamptz + g * interval '10 seconds', (array['view','cart','pay'])[1 + (random() * 2)::int], jsonb_build_object('ip', '10.0.' || (random() * 255)::int || '.' || (random() * 255)::int, 'n', g) from generate_series(1, ${n(150000)}) g;
create table documents (id int primary key, body bytea);
insert into documents select g, decode(string_agg(md5(g::text || x::text), ''), 'hex') from generate_series(1, ${n(1500)}) g, generate_series(1, 40) x group by g;`);
await q('vacuum analyze');

function mutateDay(day: number): string {
  return `select setseed(${((Number(args.seed) + day) % 1000) / 1000});
insert into orders select m + g, 1 + (random() * ${n(40000) - 1})::int, 'new', (random() * 500)::numeric(12,2), now() from (select max(id) m from orders) x, generate_series(1, ${n(2000)}) g;
insert into order_items select o.id, l, 1 + (random() * ${n(5000) - 1})::int, 1 from orders o, generate_series(1, 3) l where o.status = 'new' and not exists (select 1 from order_items i where i.order_id = o.id);
update orders set status = 'shipped' where id in (select id from orders where status = 'new' order by random() limit ${n(800)});
update orders set total = total + 1 where id in (select (m - random() * m * 0.05)::bigint from (select max(id) m from orders) x, generate_series(1, ${n(160)}));
update orders set total = total + 1 where id in (select (random() * (select max(id) from orders))::bigint from generate_series(1, ${n(40)}));
update customers set city = 'Linz', updated = now() where id in (select (1 + random() * ${n(40000) - 1})::int from generate_series(1, ${n(80)}));
insert into events select m + g, now(), 'view', jsonb_build_object('n', m + g) from (select max(id) m from events) x, generate_series(1, ${n(3000)}) g;
delete from events where id in (select id from events order by id limit ${n(2250)});
update documents set body = decode(md5(random()::text) || md5(random()::text), 'hex') || body where id in (select (1 + random() * ${n(1500) - 1})::int from generate_series(1, ${Math.max(1, n(2))}));`;
}

const key = parseEncryptionKey(generateSymmetricKey());
const keys = dedupKeys(dedupSecretOf(key)!);
const store = new MemoryChunkStore();
const target = {
  engine: 'postgres' as const,
  host: '127.0.0.1',
  port: server.port,
  database: 'postgres',
  user: 'postgres',
};
const engine = getEngine('postgres');

/** wall ms and CPU ms of this process and its finished children (the server is not counted) */
async function measure<T>(fn: () => Promise<T>): Promise<{ value: T; wallMs: number; cpuMs: number }> {
  const cpu = () => {
    const own = process.cpuUsage();
    return (own.user + own.system) / 1000;
  };
  const childCpu = readChildCpu;
  const c0 = cpu() + childCpu();
  const t0 = performance.now();
  const value = await fn();
  return { value, wallMs: performance.now() - t0, cpuMs: cpu() + childCpu() - c0 };
}
/** CPU of reaped children (pg_dump, psql, zstd) from /proc/self/stat fields cutime+cstime */
function readChildCpu(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[13]) + Number(fields[14]);
  return (ticks * 1000) / 100;
}

class Counter extends Writable {
  bytes = 0;
  parts: Buffer[] = [];
  keep: boolean;
  constructor(keep: boolean) {
    super();
    this.keep = keep;
  }
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void) {
    this.bytes += chunk.length;
    if (this.keep) this.parts.push(chunk);
    cb();
  }
}

type Row = {
  day: number;
  sqlMB: number;
  wholeMB: number;
  wholeWall: number;
  wholeCpu: number;
  dedupNewMB: number;
  dedupWall: number;
  dedupCpu: number;
  chunks: number;
  newChunks: number;
  requests: number;
  restoreWhole: number;
  restoreDedup: number;
};
const rows: Row[] = [];
let wholeTotal = 0;
let manifestTotal = 0;
for (let day = 1; day <= days; day++) {
  if (day > 1) await q(mutateDay(day));
  const whole = await measure(async () => {
    const sink = new Counter(day === days);
    const plan = await engine.parallelDump!(target);
    await runParallelPipeline({ plan, target, key, level: 3, compressor: 'auto', jobs, sink });
    return sink;
  });
  const storedBefore = store.storedBytes;
  const requestsBefore = store.requests;
  const dedup = await measure(async () => {
    const writer = new DedupWriter(keys, store, { level: 3, chunking });
    const plan = await engine.parallelDump!(target, { keyOrder: true });
    const manifest = await runDedupPipeline({ plan, writer, jobs });
    const file = await encryptManifest(key, manifest);
    return { writer, manifest, file };
  });
  wholeTotal += whole.value.bytes;
  manifestTotal += dedup.value.file.length;
  let restoreWhole = 0;
  let restoreDedup = 0;
  if (day === days) {
    // Restore-side decode, both from a file on disk: every section's SQL, checked, to nowhere.
    const v2 = join(dir, 'whole.resistro');
    writeFileSync(v2, Buffer.concat(whole.value.parts));
    const v3 = join(dir, 'dedup.resistro');
    const blobs = [...chunkRefs(dedup.value.manifest)].map(({ ref }) => store.blob(ref[0])!);
    writeFileSync(v3, buildContainer(dedup.value.file, blobs));
    const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
    restoreWhole = (await measure(async () => pipeline(readAllSections(await openArchive(v2, key)), sink())))
      .wallMs;
    restoreDedup = (await measure(async () => pipeline(readContainerSql(v3, key), sink()))).wallMs;
  }
  const s = dedup.value.writer.stats;
  rows.push({
    day,
    sqlMB: s.logicalBytes / MB,
    wholeMB: whole.value.bytes / MB,
    wholeWall: whole.wallMs,
    wholeCpu: whole.cpuMs,
    dedupNewMB: (store.storedBytes - storedBefore + dedup.value.file.length) / MB,
    dedupWall: dedup.wallMs,
    dedupCpu: dedup.cpuMs,
    chunks: s.chunks,
    newChunks: s.newChunks,
    requests: store.requests - requestsBefore + 1,
    restoreWhole,
    restoreDedup,
  });
  process.stderr.write(`day ${day} done\n`);
}

const f = (x: number, d = 1) => x.toFixed(d).padStart(9);
process.stdout.write(
  `\nbench:dedup — ${days} days, scale ${scale}, seed ${args.seed}, chunks avg ${avgKiB} KiB, ${jobs} jobs (in-memory store; wall/CPU in ms)\n\n`,
);
process.stdout.write(
  ' day    SQL MB  whole MB  whole wall  whole CPU   dedup MB  dedup wall  dedup CPU   chunks      new  requests\n',
);
for (const r of rows)
  process.stdout.write(
    `${String(r.day).padStart(4)} ${f(r.sqlMB)} ${f(r.wholeMB, 2)} ${f(r.wholeWall, 0)}   ${f(r.wholeCpu, 0)}  ${f(r.dedupNewMB, 2)}   ${f(r.dedupWall, 0)}  ${f(r.dedupCpu, 0)} ${String(r.chunks).padStart(8)} ${String(r.newChunks).padStart(8)} ${String(r.requests).padStart(9)}\n`,
  );
const dedupTotal = store.storedBytes + manifestTotal;
const last = rows[rows.length - 1]!;
process.stdout.write(
  `\nstored after ${days} backups: whole files ${(wholeTotal / MB).toFixed(1)} MB, deduplicated ${(dedupTotal / MB).toFixed(1)} MB (packs ${(store.storedBytes / MB).toFixed(1)} + manifests ${(manifestTotal / MB).toFixed(1)}) → ${(wholeTotal / dedupTotal).toFixed(2)}× less\n` +
    `index rows (distinct chunks): ${store.index.size}; packs: ${store.packs.length}\n` +
    `restore decode of day ${days} (all SQL out of the file, checked): whole ${last.restoreWhole.toFixed(0)} ms, deduplicated ${last.restoreDedup.toFixed(0)} ms (${(last.restoreDedup / last.restoreWhole).toFixed(2)}×)\n`,
);
await client.end();
await server.stop();
rmSync(dir, { recursive: true, force: true });
