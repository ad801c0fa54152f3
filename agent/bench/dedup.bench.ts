// `npm run bench:dedup [-- --days 7] [--scale 1] [--seed 42] [--avg 32]` (`--days 30`: the issue's month)
//
// A seeded, reproducible shop-like PostgreSQL workload (customers, orders with order_items,
// an append-only events table with retention deletes, documents as bytea, static products), one
// backup per simulated day, each day: +1 % orders (0.5 % of orders updated, mostly recent), 0.2 %
// of customers updated at random, +2 %/−1.5 % events, 0.1 % of documents replaced. Per day, on
// the same snapshot state:
//   today's pipeline: the parallel dump → zstd -3 → the version 2 archive, every byte stored;
//   deduplicated:     the parallel dump in key order → keyed chunks → only new chunks compressed,
//                     encrypted and packed (an in-memory chunk index stands in for the control
//                     plane; storage requests are counted, not timed).
// The packs and manifests then go to the local S3 server; the first, middle and last day are
// restored from it into empty databases, each restore in a process of its own (wall time, max
// RSS), and compared with the source's dump of that day. The last day is restored four ways:
// deduplicated with ranged reads straight from storage over --jobs sessions (restore --backup
// now), the same through one session (-j 1, as before the parallel restore), through the
// assembled single file, and today's whole file (--repeat n: the first and the last of these
// n times, alternating, with their medians). Prints stored bytes per day
// and in total, wall time and CPU of each backup (agent process plus pg_dump/psql/zstd children),
// the restores, decode time (all SQL out, to nowhere), requests and index rows. A benchmark, not a
// test: it prints (and exits 1 if a restore differs from its source).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { coalesceReads, type DedupReads } from '@resistro/contract';
import { AwsClient } from 'aws4fetch';
import pg from 'pg';
import { freePort } from '../../scripts/stack/ports.ts';
import { startPostgres } from '../../scripts/stack/postgres.ts';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, startS3 } from '../../scripts/stack/s3.ts';
import { runParallelPipeline } from '../src/backup/parallel.ts';
import type { ChunkerParams } from '../src/dedup/chunker.ts';
import { buildContainer, readContainerSql } from '../src/dedup/container.ts';
import { dedupKeys, dedupSecretOf } from '../src/dedup/keys.ts';
import { chunkRefs, encryptManifest, type Manifest } from '../src/dedup/manifest.ts';
import { runDedupPipeline } from '../src/dedup/pipeline.ts';
import { openRemoteBackup } from '../src/dedup/remote-read.ts';
import { MemoryChunkStore } from '../src/dedup/store.ts';
import { DedupWriter } from '../src/dedup/writer.ts';
import { getEngine } from '../src/engines/index.ts';
import {
  generateSymmetricKey,
  openArchive,
  parseEncryptionKey,
  readAllSections,
} from '../src/format/index.ts';
import { createAgents } from '../src/upload/http.ts';
import {
  dumpFingerprint as dumpFingerprintOf,
  firstFingerprintDifference,
  mutateDay,
  seedSql,
} from './dedup-workload.ts';

const { values: args } = parseArgs({
  options: {
    days: { type: 'string', default: '7' },
    scale: { type: 'string', default: '1' },
    seed: { type: 'string', default: '42' },
    avg: { type: 'string', default: '32' },
    jobs: { type: 'string', default: '2' },
    repeat: { type: 'string', default: '1' },
    hold: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  process.stdout.write(
    "npm run bench:dedup [-- --days <n>] [--scale <x, 1 ≈ 35 MB of SQL>] [--seed <n>] [--avg <KiB>] [--jobs <n>] [--repeat <n>: the last day's restores, alternating, n times] [--hold: keep the servers and write the last day's restore jobs to hold.json until Ctrl-C]\n",
  );
  process.exit(0);
}
const days = Number(args.days);
const repeat = Math.max(1, Number(args.repeat));
const scale = Number(args.scale);
const jobs = Number(args.jobs);
const avgKiB = Number(args.avg);
const chunking: ChunkerParams = { min: (avgKiB * 1024) / 4, avg: avgKiB * 1024, max: avgKiB * 1024 * 4 };
const MB = 1e6;

const ROOT = new URL('../..', import.meta.url).pathname;
mkdirSync(join(ROOT, '.test-data'), { recursive: true });
const dir = mkdtempSync(join(ROOT, '.test-data', 'bench-dedup-'));
const server = await startPostgres({ dir, port: await freePort(), fast: true });
const client = new pg.Client({ connectionString: server.url('postgres') });
await client.connect();
const q = (sql: string) => client.query(sql);

const workload = { scale, seed: Number(args.seed) };
await q(seedSql(workload));
await q('vacuum analyze');

const generatedKey = generateSymmetricKey();
const key = parseEncryptionKey(generatedKey);
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

// The restores read from the signature-checking local S3 server, as from real storage: each
// day's new packs and its manifest are uploaded there; the whole files of the days restored too.
const s3 = await startS3({ dir: join(dir, 's3'), port: await freePort(), bucket: 'bench' });
const aws = new AwsClient({
  accessKeyId: S3_ACCESS_KEY_ID,
  secretAccessKey: S3_SECRET_ACCESS_KEY,
  service: 's3',
  region: 'us-east-1',
});
const objectUrl = (key: string) => `${s3.url}/${s3.bucket}/${key}`;
async function put(key: string, body: Buffer) {
  const res = await aws.fetch(objectUrl(key), { method: 'PUT', body: new Uint8Array(body) });
  if (res.status !== 200) throw new Error(`PUT ${key}: ${res.status} ${await res.text()}`);
}
const presign = async (key: string) =>
  (await aws.sign(objectUrl(key), { method: 'GET', aws: { signQuery: true } })).url;
let packsUploaded = 0;
const packKey = (n: number) => `packs/${n}.pack`;

/** What GET /backups/{id}/dedup/reads answers for this manifest (the same coalescing). */
async function readPlan(manifest: Manifest, manifestKey: string): Promise<DedupReads> {
  const locations = [...chunkRefs(manifest)].map(({ ref }) => {
    const at = store.index.get(ref[0])!;
    return { pack: packKey(at.pack), offset: at.offset, length: at.length };
  });
  const { packs, runs } = coalesceReads(locations);
  return {
    manifestUrl: await presign(manifestKey),
    packs: await Promise.all(packs.map(presign)),
    runs,
    refs: locations.length,
    ttlSeconds: 86400,
    expiresAt: new Date(Date.now() + 86400_000).toISOString(),
  };
}

const agents = createAgents(8);
let restoreDb = 0;
async function freshDatabase(): Promise<string> {
  const name = `restored_${++restoreDb}`;
  await q(`create database ${name}`);
  return name;
}
const targetOf = (database: string) => ({ ...target, database });

const keyText = generatedKey;
/** The local S3 server's CPU ms so far (a child of this process; it serves the ranged reads). */
function storageCpuMs(): number {
  const children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8')
    .trim()
    .split(' ');
  for (const pid of children) {
    if (!pid || !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('s3-server')) continue;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  }
  return Number.NaN;
}

type ChildRestore = {
  wallMs: number;
  maxRssMB: number;
  agentCpuMs: number;
  /** psql and zstd */
  childCpuMs: number;
  storageCpuMs: number;
};
/** One restore in a process of its own (dedup-restore.ts): its wall time, peak RSS and CPU. */
async function restoreChild(job: Record<string, unknown>): Promise<ChildRestore> {
  const storage0 = storageCpuMs();
  const child = spawn(process.execPath, ['--no-warnings', join(import.meta.dirname, 'dedup-restore.ts')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin.end(JSON.stringify({ key: keyText, jobs, ...job }));
  let out = '';
  for await (const chunk of child.stdout) out += chunk;
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`the restore (${String(job.mode)}) exited with ${code}`);
  return { ...JSON.parse(out.trim().split('\n').pop()!), storageCpuMs: storageCpuMs() - storage0 };
}

const dumpFingerprint = (database: string) => dumpFingerprintOf(server, database);

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
};
type Restore = {
  day: number;
  how: string;
  wallMs: number;
  peakMB: number;
  identical: boolean;
  cpu: ChildRestore;
};
const rows: Row[] = [];
const restores: Restore[] = [];
const checkDays = new Set([1, Math.ceil(days / 2), days]);
const WHOLE = 'whole file: download, then restore';
let wholeTotal = 0;
let manifestTotal = 0;
let decodeWhole = 0;
let decodeDedup = 0;
let decodeRemote = 0;
/** --hold: the last day's restore jobs, for dedup-restore.ts run by hand (profiling) */
let held: Record<string, unknown> | undefined;
for (let day = 1; day <= days; day++) {
  if (day > 1) await q(mutateDay(workload, day));
  const keepWhole = checkDays.has(day);
  const whole = await measure(async () => {
    const sink = new Counter(keepWhole);
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
  // Storage gets the day's new packs and its manifest (outside the measured backup: both sides
  // leave the upload out).
  for (; packsUploaded < store.packs.length; packsUploaded++)
    await put(packKey(packsUploaded), store.packs[packsUploaded]!);
  const manifestKey = `manifests/day-${day}`;
  await put(manifestKey, dedup.value.file);
  if (keepWhole) {
    const source = await dumpFingerprint('postgres');
    const v2 = join(dir, 'whole.resistro');
    writeFileSync(v2, Buffer.concat(whole.value.parts));
    whole.value.parts = [];
    await put(`whole/day-${day}.resistro`, readFileSync(v2));
    const restoreInto = async (how: string, job: Record<string, unknown>) => {
      const database = await freshDatabase();
      const r = await restoreChild({ ...job, target: targetOf(database) });
      const restored = await dumpFingerprint(database);
      const identical = restored.digest === source.digest;
      if (!identical) {
        process.stderr.write(`day ${day}, ${how}: ${firstFingerprintDifference(source, restored)}\n`);
      }
      restores.push({ day, how, wallMs: r.wallMs, peakMB: r.maxRssMB, identical, cpu: r });
      await q(`drop database ${database}`);
      process.stderr.write(
        `day ${day}: ${how} ${(r.wallMs / 1000).toFixed(1)} s, ${identical ? 'identical' : 'DIFFERENT'}\n`,
      );
    };
    const plan = await readPlan(dedup.value.manifest, manifestKey);
    // Deduplicated, as restore --backup does it now: ranged reads straight from storage, the
    // sections over `jobs` sessions (each chunk a zstd frame for the zstd program).
    const remoteNow = `dedup: ranged reads from storage, ${jobs} sessions (now)`;
    await restoreInto(remoteNow, { mode: 'remote', plan });
    if (day === days) {
      // Today's whole file, as restore --backup does it: download it, then restore it (parallel).
      const wholeJob = {
        mode: 'whole',
        url: await presign(`whole/day-${day}.resistro`),
        path: join(dir, 'download.resistro'),
      };
      await restoreInto(WHOLE, wholeJob);
      held = { remote: { mode: 'remote', plan }, whole: wholeJob };
      // --repeat: the two again, alternating (a shared machine's load moves between runs)
      for (let run = 1; run < repeat; run++) {
        await restoreInto(remoteNow, { mode: 'remote', plan });
        await restoreInto(WHOLE, wholeJob);
      }
      // Deduplicated as restore --backup did it before the parallel restore: one psql session.
      await restoreInto('dedup: ranged reads from storage, one session (-j 1, before)', {
        mode: 'remote',
        plan,
        jobs: 1,
      });
      // Deduplicated, as restore --backup did it before: the single file the service streams
      // together from the packs (one ranged read after the other) downloaded first, then restored.
      await restoreInto('dedup: assembled file, download, then restore (before)', {
        mode: 'assembled',
        plan,
        path: join(dir, 'assembled.resistro'),
      });
      // Decoding alone (all SQL out, checked, to nowhere): from files on disk, and from storage.
      const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
      const v3 = join(dir, 'dedup.resistro');
      const blobs = [...chunkRefs(dedup.value.manifest)].map(({ ref }) => store.blob(ref[0])!);
      writeFileSync(v3, buildContainer(dedup.value.file, blobs));
      decodeWhole = (await measure(async () => pipeline(readAllSections(await openArchive(v2, key)), sink())))
        .wallMs;
      decodeDedup = (await measure(async () => pipeline(readContainerSql(v3, key), sink()))).wallMs;
      decodeRemote = (
        await measure(async () => {
          const remote = await openRemoteBackup({
            plan: () => readPlan(dedup.value.manifest, manifestKey),
            key,
            agents,
          });
          await pipeline(remote.open(), sink());
        })
      ).wallMs;
    }
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
  });
  process.stderr.write(`day ${day} done\n`);
}

const f = (x: number, d = 1) => x.toFixed(d).padStart(9);
process.stdout.write(
  `\nbench:dedup — ${days} days, scale ${scale}, seed ${args.seed}, chunks avg ${avgKiB} KiB, ${jobs} jobs (in-memory chunk index, packs in the local S3 server; wall/CPU in ms)\n\n`,
);
process.stdout.write(
  ' day    SQL MB  whole MB  whole wall  whole CPU   dedup MB  dedup wall  dedup CPU   chunks      new  requests\n',
);
for (const r of rows)
  process.stdout.write(
    `${String(r.day).padStart(4)} ${f(r.sqlMB)} ${f(r.wholeMB, 2)} ${f(r.wholeWall, 0)}   ${f(r.wholeCpu, 0)}  ${f(r.dedupNewMB, 2)}   ${f(r.dedupWall, 0)}  ${f(r.dedupCpu, 0)} ${String(r.chunks).padStart(8)} ${String(r.newChunks).padStart(8)} ${String(r.requests).padStart(9)}\n`,
  );
const dedupTotal = store.storedBytes + manifestTotal;
const logicalTotal = rows.reduce((n, r) => n + r.sqlMB * MB, 0);
const wholeRestore = restores.find((r) => r.how.startsWith('whole'));
process.stdout.write(
  `\nstored after ${days} backups: whole files ${(wholeTotal / MB).toFixed(1)} MB, deduplicated ${(dedupTotal / MB).toFixed(1)} MB (packs ${(store.storedBytes / MB).toFixed(1)} + manifests ${(manifestTotal / MB).toFixed(1)}) → ${(wholeTotal / dedupTotal).toFixed(2)}× less\n` +
    `logical size of the ${days} backups (their SQL): ${(logicalTotal / MB).toFixed(1)} MB; ${days} whole backups would take ${(wholeTotal / MB).toFixed(1)} MB\n` +
    `index rows (distinct chunks): ${store.index.size}; packs: ${store.packs.length}\n\n` +
    "restores (each in a process of its own, into an empty database; compared by dump: lines in order, each table's rows as a multiset):\n" +
    ' day  wall s   × whole   max RSS  identical  CPU s: agent  psql+zstd  storage  how\n',
);
for (const r of restores)
  process.stdout.write(
    `${String(r.day).padStart(4)} ${(r.wallMs / 1000).toFixed(1).padStart(7)} ${wholeRestore && r.day === wholeRestore.day ? `${(r.wallMs / wholeRestore.wallMs).toFixed(2)}×`.padStart(9) : '        -'} ${`${r.peakMB.toFixed(0)} MB`.padStart(9)}  ${(r.identical ? 'yes' : 'NO').padStart(9)} ${(r.cpu.agentCpuMs / 1000).toFixed(2).padStart(13)} ${(r.cpu.childCpuMs / 1000).toFixed(2).padStart(10)} ${(r.cpu.storageCpuMs / 1000).toFixed(2).padStart(8)}  ${r.how}\n`,
  );
if (repeat > 1) {
  const median = (how: string) => {
    const walls = restores
      .filter((r) => r.day === days && r.how === how)
      .map((r) => r.wallMs)
      .sort((a, b) => a - b);
    return walls[Math.floor(walls.length / 2)]!;
  };
  const dedupHow = restores.find((r) => r.day === days && r.how.endsWith('sessions (now)'))!.how;
  process.stdout.write(
    `\nday ${days}, median of ${repeat} alternating runs: whole file ${(median(WHOLE) / 1000).toFixed(1)} s, deduplicated ${(median(dedupHow) / 1000).toFixed(1)} s (${(median(dedupHow) / median(WHOLE)).toFixed(2)}×)\n`,
  );
}
process.stdout.write(
  `\ndecode of day ${days} (all SQL out, checked, to nowhere): whole file ${decodeWhole.toFixed(0)} ms, deduplicated file ${decodeDedup.toFixed(0)} ms (${(decodeDedup / decodeWhole).toFixed(2)}×), deduplicated from storage ${decodeRemote.toFixed(0)} ms (${(decodeRemote / decodeWhole).toFixed(2)}×)\n` +
    `peak RSS of the whole run (chunk index and packs of the in-memory store included): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`,
);
const failed = restores.filter((r) => !r.identical);
if (args.hold && held) {
  const file = join(dir, 'hold.json');
  writeFileSync(file, JSON.stringify({ ...held, key: keyText, jobs, target, url: server.url('postgres') }));
  process.stderr.write(`servers kept running; the last day's restore jobs are in ${file} (Ctrl-C ends)\n`);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
}
agents.destroy();
await client.end();
await server.stop();
await s3.stop();
rmSync(dir, { recursive: true, force: true });
if (failed.length > 0) {
  process.stderr.write(
    `restores NOT identical: ${failed.map((r) => `day ${r.day} (${r.how})`).join(', ')}\n`,
  );
  process.exit(1);
}
