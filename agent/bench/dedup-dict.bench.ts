// `npm run bench:dedup-dict [-- --days 7] [--scale 1] [--seed 42] [--avg 32] [--dict-kib 112] [--level 3]`
//
// Does a per-database zstd dictionary pay for deduplicated storage (issue 17)? The workload of
// `npm run bench:dedup` (dedup-workload.ts), one key-ordered parallel dump per simulated day, cut
// into keyed chunks as a deduplicated backup is; every chunk the store did not hold yet is sealed
// (compressed, padded to 64 bytes, authenticated) once per variant:
//   none:     zstd of each chunk on its own (what is stored today)
//   raw:      zstd with a raw-content dictionary: pieces of day 1's chunks, evenly spread (what the
//             agent can make itself: node:zlib has no trainer)
//   trained:  zstd with a dictionary `zstd --train` made from day 1's chunks (where the CLI is installed)
// Day 1's chunks themselves are sealed with the dictionary made from them (the dictionary is made
// before the first backup's chunks are sealed); the figures of day 1 and of the later days are
// printed apart. Also: the whole day's SQL compressed as one stream (what per-chunk compression
// loses against), CPU of sealing and of opening every chunk of the last day per variant.
// A benchmark, not a test: it prints.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { constants as zlib, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import pg from 'pg';
import { freePort } from '../../scripts/stack/ports.ts';
import { startPostgres } from '../../scripts/stack/postgres.ts';
import { Chunker, type ChunkerParams } from '../src/dedup/chunker.ts';
import { chunkIdentity, dedupKeys } from '../src/dedup/keys.ts';
import { getEngine } from '../src/engines/index.ts';
import { mutateDay, seedSql } from './dedup-workload.ts';

const { values: args } = parseArgs({
  options: {
    days: { type: 'string', default: '7' },
    scale: { type: 'string', default: '1' },
    seed: { type: 'string', default: '42' },
    avg: { type: 'string', default: '32' },
    'dict-kib': { type: 'string', default: '112' },
    level: { type: 'string', default: '3' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  process.stdout.write(
    'npm run bench:dedup-dict [-- --days <n>] [--scale <x>] [--seed <n>] [--avg <KiB>] [--dict-kib <KiB>] [--level <zstd level>]\n',
  );
  process.exit(0);
}
const days = Number(args.days);
const scale = Number(args.scale);
const seed = Number(args.seed);
const avgKiB = Number(args.avg);
const dictBytes = Number(args['dict-kib']) * 1024;
const level = Number(args.level);
const chunking: ChunkerParams = { min: (avgKiB * 1024) / 4, avg: avgKiB * 1024, max: avgKiB * 1024 * 4 };
const MB = 1e6;

const ROOT = new URL('../..', import.meta.url).pathname;
mkdirSync(join(ROOT, '.test-data'), { recursive: true });
const dir = mkdtempSync(join(ROOT, '.test-data', 'bench-dedup-dict-'));
const server = await startPostgres({ dir, port: await freePort(), fast: true });
const client = new pg.Client({ connectionString: server.url('postgres') });
await client.connect();
await client.query(seedSql({ seed, scale }));
await client.query('vacuum analyze');
const target = {
  engine: 'postgres' as const,
  host: '127.0.0.1',
  port: server.port,
  database: 'postgres',
  user: 'postgres',
};
const engine = getEngine('postgres');
const keys = dedupKeys(Buffer.alloc(32, 7));

/** Every chunk of today's key-ordered dump, sections in restore order. */
async function dayChunks(): Promise<Buffer[]> {
  const plan = await engine.parallelDump!(target, { keyOrder: true });
  const out: Buffer[] = [];
  try {
    for (let i = 0; i < plan.sections.length; i++) {
      const dump = await plan.start(i);
      const chunker = new Chunker(keys.gear, chunking);
      for await (const data of dump.stdout) out.push(...chunker.push(data as Buffer));
      const last = chunker.end();
      if (last) out.push(last);
      await dump.done;
    }
  } finally {
    await plan.close();
  }
  return out;
}

/** Stored length of a sealed chunk (blob.ts): flag, u32 length, data, padding to 64, GCM tag. */
const sealed = (data: number, plain: number) => Math.ceil((5 + Math.min(data, plain)) / 64) * 64 + 16;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

type Variant = {
  name: string;
  dict: Buffer | undefined;
  day1: number;
  later: number;
  sealMs: number;
  openMs: number;
};

function rawDictionary(chunks: Buffer[], size: number, piece: number): Buffer {
  const count = Math.max(1, Math.floor(size / piece));
  const parts: Buffer[] = [];
  for (let k = 0; k < count; k++) {
    const c = chunks[Math.floor(((k + 0.5) * chunks.length) / count)]!;
    parts.push(c.subarray(0, piece));
  }
  return Buffer.concat(parts).subarray(0, size);
}

function trainedDictionary(chunks: Buffer[], size: number): { dict: Buffer | undefined; ms: number } {
  const samples = join(dir, 'samples');
  mkdirSync(samples, { recursive: true });
  for (const [i, c] of chunks.entries()) writeFileSync(join(samples, String(i)), c);
  const t0 = performance.now();
  const r = spawnSync(
    'zstd',
    ['--train', '-q', `--maxdict=${size}`, '-o', join(dir, 'trained.dict'), '-r', samples],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const ms = performance.now() - t0;
  rmSync(samples, { recursive: true, force: true });
  if (r.status !== 0) return { dict: undefined, ms };
  return { dict: readFileSync(join(dir, 'trained.dict')), ms };
}

const compress = (c: Buffer, dict: Buffer | undefined) =>
  zstdCompressSync(c, {
    params: { [zlib.ZSTD_c_compressionLevel]: level },
    ...(dict && { dictionary: dict }),
  });

const seen = new Set<string>();
const variants: Variant[] = [];
let wholeDay1 = 0;
let chunkedDay1Plain = 0;
let trainMs = 0;
const perDay: { day: number; sqlMB: number; newChunks: number; sizes: number[] }[] = [];
let lastDay: Buffer[] = [];
for (let day = 1; day <= days; day++) {
  if (day > 1) await client.query(mutateDay({ seed, scale }, day));
  const chunks = await dayChunks();
  const fresh: Buffer[] = [];
  for (const c of chunks) {
    const id = chunkIdentity(keys, c).id.toString('base64url');
    if (seen.has(id)) continue;
    seen.add(id);
    fresh.push(c);
  }
  if (day === 1) {
    wholeDay1 = compress(Buffer.concat(chunks), undefined).length;
    chunkedDay1Plain = chunks.reduce((n, c) => n + c.length, 0);
    const trained = trainedDictionary(chunks, dictBytes);
    trainMs = trained.ms;
    variants.push({ name: 'none', dict: undefined, day1: 0, later: 0, sealMs: 0, openMs: 0 });
    for (const piece of [512, 2048, 8192])
      variants.push({
        name: `raw ${piece} B pieces`,
        dict: rawDictionary(chunks, dictBytes, piece),
        day1: 0,
        later: 0,
        sealMs: 0,
        openMs: 0,
      });
    if (trained.dict)
      variants.push({
        name: 'trained (zstd --train)',
        dict: trained.dict,
        day1: 0,
        later: 0,
        sealMs: 0,
        openMs: 0,
      });
  }
  const sizes: number[] = [];
  for (const v of variants) {
    const c0 = cpuMs();
    let bytes = 0;
    for (const c of fresh) bytes += sealed(compress(c, v.dict).length, c.length);
    v.sealMs += cpuMs() - c0;
    if (day === 1) v.day1 = bytes;
    else v.later += bytes;
    sizes.push(bytes);
  }
  perDay.push({ day, sqlMB: chunks.reduce((n, c) => n + c.length, 0) / MB, newChunks: fresh.length, sizes });
  if (day === days) lastDay = chunks;
  process.stderr.write(`day ${day}: ${fresh.length} new of ${chunks.length} chunks\n`);
}
// Opening (decompressing) every chunk of the last day, as a restore does.
for (const v of variants) {
  const blobs = lastDay.map((c) => compress(c, v.dict));
  const c0 = cpuMs();
  for (const b of blobs) zstdDecompressSync(b, v.dict ? { dictionary: v.dict } : {});
  v.openMs = cpuMs() - c0;
}

const f = (x: number, d = 2) => x.toFixed(d).padStart(10);
process.stdout.write(
  `\nbench:dedup-dict — ${days} days, scale ${scale}, seed ${seed}, chunks avg ${avgKiB} KiB, zstd level ${level}, dictionaries ${dictBytes / 1024} KiB\n` +
    `day 1: ${(chunkedDay1Plain / MB).toFixed(1)} MB of SQL; compressed as one stream ${(wholeDay1 / MB).toFixed(2)} MB\n` +
    `zstd --train on day 1's chunks: ${trainMs.toFixed(0)} ms\n\n`,
);
process.stdout.write(` day  SQL MB  new chunks ${variants.map((v) => v.name.padStart(24)).join('')}\n`);
for (const d of perDay)
  process.stdout.write(
    `${String(d.day).padStart(4)} ${d.sqlMB.toFixed(1).padStart(7)} ${String(d.newChunks).padStart(11)} ${d.sizes.map((s) => `${(s / MB).toFixed(3)} MB`.padStart(24)).join('')}\n`,
  );
const none = variants[0]!;
process.stdout.write(
  '\nvariant                     day 1 MB  vs stream   days 2.. MB  vs none  total MB  vs none  seal CPU ms  open CPU ms (last day)\n',
);
for (const v of variants) {
  const total = v.day1 + v.later;
  process.stdout.write(
    `${v.name.padEnd(26)} ${f(v.day1 / MB)} ${`${((v.day1 / wholeDay1 - 1) * 100).toFixed(1)} %`.padStart(10)} ${f(v.later / MB, 3)} ${`${((v.later / none.later - 1) * 100).toFixed(1)} %`.padStart(9)} ${f(total / MB)} ${`${((total / (none.day1 + none.later) - 1) * 100).toFixed(1)} %`.padStart(8)} ${f(v.sealMs, 0)}   ${f(v.openMs, 0)}\n`,
  );
}
await client.end();
await server.stop();
rmSync(dir, { recursive: true, force: true });
