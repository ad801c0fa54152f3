// `npm run bench:agent [-- --size 1] [--runs 1] [--plan business|enterprise] [--reuse]`
//
// Generates a PostgreSQL database whose plain dump is at least --size GiB (pgbench tables plus a
// table of mixed text/jsonb/bytea, compressible about 4–5×), then measures on the same data, in one
// run: `pg_dump > /dev/null` (the floor), `pg_dump | gzip` (what customers script), `pg_dump -Fc`,
// `pg_dump | zstd -3` (reference), and `resistro backup` to the local S3 server through the real
// control plane (with the zstd program, and with node:zlib as the fallback); then restore time of
// `psql -f plain.sql` against `resistro restore`. For each: wall time, client CPU time (user+sys of
// every client process, not the PostgreSQL server), output bytes, and peak RSS of the largest
// process (GNU time's %M) and of the resistro process itself. A benchmark, not a test: it prints.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { freePort } from '../../scripts/stack/ports.ts';
import { startPostgres } from '../../scripts/stack/postgres.ts';
import { startStack } from '../../scripts/stack/stack.ts';
import { buildExecutables } from '../sea/build.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
// The single-file build, as installed on servers (running the .ts sources would add the type
// stripper's ~35 MB to every measurement). Built at the start of each run.
const CLI = join(ROOT, 'agent/dist/resistro.mjs');
const GiB = 1024 ** 3;

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '1' },
    runs: { type: 'string', default: '1' },
    plan: { type: 'string', default: 'business' },
    reuse: { type: 'boolean', default: false },
    json: { type: 'string' },
    // e.g. --only resistro: the floor plus the pipelines whose name contains one of the words
    only: { type: 'string' },
    // a folder: every resistro process writes a V8 CPU profile there (node --cpu-prof)
    'cpu-prof': { type: 'string' },
    // only the parallel round trip against its peers: the floor, `pg_dump -Fc`, resistro's parallel
    // backup, `pg_restore -j` and resistro's parallel restore, each restore compared by dump
    roundtrip: { type: 'boolean', default: false },
    // another build of the agent (e.g. of an earlier commit): its parallel restore runs as one more
    // row, interleaved with the others run by run, for a before/after on the same machine and data
    'restore-cli': { type: 'string' },
    // --roundtrip without pg_dump -Fc and pg_restore (for large sizes on a busy machine)
    'skip-peer': { type: 'boolean', default: false },
    // how often each restore runs (default: --runs), interleaved: pg_restore, resistro, ... again
    'restore-runs': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  process.stdout.write(`npm run bench:agent [-- --size <GiB>] [--runs <n>] [--plan business|enterprise] [--reuse]
                    [--only <word,word>] [--roundtrip [--skip-peer]] [--restore-cli <resistro.mjs>] [--json <file>]
                    [--restore-runs <n>] [--cpu-prof <dir>]

Measures resistro backup and restore against pg_dump, gzip, zstd and psql on a generated
PostgreSQL database of --size GiB (default 1); prints wall time, CPU time, bytes and peak RSS.
--roundtrip: only the parallel backup and restore against pg_dump -Fc / pg_restore -j (cores),
each restored database compared with the original by a plain dump (SHA-256).
`);
  process.exit(0);
}
const sizeGiB = Number(args.size);
const runs = Math.max(1, Number(args.runs));
const only = args.only?.split(',').filter(Boolean);
if (!(sizeGiB > 0)) throw new Error('--size must be a positive number of GiB');
const dataDir = join(ROOT, '.data', `bench-agent-${sizeGiB}g`);
const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

// ---------------------------------------------------------------- the database

mkdirSync(dataDir, { recursive: true });
const built = spawnSync(process.execPath, ['--no-warnings', join(ROOT, 'agent/build.ts')], {
  encoding: 'utf8',
});
if (built.status !== 0) throw new Error(`agent build failed: ${built.stderr}`);
// The self-contained executable, as install-agent.sh installs it: measured next to the JavaScript
// build (Node from node_modules runs the latter; the executable carries the same Node version).
const [EXE] = await buildExecutables([process.arch === 'arm64' ? 'arm64' : 'x64'], join(dataDir, 'dist'));
const pgPort = await freePort();
const server = await startPostgres({ dir: join(dataDir, 'pg'), port: pgPort, fast: true });
let stopStack: (() => Promise<void>) | undefined;
let scratchDir: string | undefined;
const shutdown = async () => {
  await stopStack?.().catch(() => {});
  await server.stop().catch(() => {});
  if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
};
process.on('SIGINT', () => void shutdown().then(() => process.exit(130)));
process.on('uncaughtException', (error) => {
  console.error(error);
  void shutdown().then(() => process.exit(1));
});
process.on('unhandledRejection', (error) => {
  console.error(error);
  void shutdown().then(() => process.exit(1));
});
const binDir = server.binDir;
const sqlOn = async (database: string, text: string) => {
  const client = new pg.Client({ connectionString: server.url(database) });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
};

const WORDS = [
  'Rechnung',
  'Kunde',
  'Lieferung',
  'invoice',
  'order',
  'payment',
  'Straße',
  'Zahlung',
  'shipped',
  'pending',
  'Berlin',
  'München',
  'Hamburg',
  'Köln',
  'the',
  'and',
  'für',
  'mit',
  'status',
  'total',
  'amount',
  'Artikel',
  'Menge',
  'Preis',
  'Steuer',
  'customer',
  'address',
  'delivered',
  'returned',
  'Nürnberg',
  'bitte',
  'danke',
  'open',
  'closed',
  'Versand',
  'Lager',
  'Konto',
  'Bank',
  'IBAN',
  'Mahnung',
];

async function generate(): Promise<void> {
  const exists = await sqlOn('postgres', "select 1 from pg_database where datname = 'bench'");
  if (exists.rowCount && args.reuse) {
    const done = await sqlOn('bench', "select 1 from pg_tables where tablename = 'bench_done'").catch(() => ({
      rowCount: 0,
    }));
    if (done.rowCount) {
      log('reusing the generated database');
      return;
    }
  }
  await sqlOn('postgres', 'drop database if exists bench');
  await sqlOn('postgres', 'create database bench');
  // ~9.7 MB of plain dump per pgbench scale unit; ~650 bytes per documents row.
  const scale = Math.ceil(50 * sizeGiB);
  const documentBatches = Math.ceil(10 * sizeGiB);
  log(
    `generating: pgbench -i -s ${scale} and ${documentBatches * 100_000} documents (about ${(sizeGiB * 1.1).toFixed(1)} GB of plain dump)`,
  );
  const t0 = Date.now();
  const r = spawnSync(
    join(binDir, 'pgbench'),
    // G: the rows are generated inside the server (the same rows as pgbench's client-side default)
    [
      '-i',
      '-q',
      '-I',
      'dtGvp',
      '-s',
      String(scale),
      '-h',
      '127.0.0.1',
      '-p',
      String(pgPort),
      '-U',
      'postgres',
      'bench',
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`pgbench failed: ${r.stderr}`);
  await sqlOn(
    'bench',
    'create table documents (id bigint primary key, title text not null, body text not null, attrs jsonb not null, blob bytea not null, created_at timestamptz not null)',
  );
  const words = `array[${WORDS.map((w) => `'${w}'`).join(',')}]`;
  // Two batches at a time (each seeds its own session): the same rows in about half the time. The
  // heap's page layout then depends on the two sessions' timing (as it does on autovacuum's, and on
  // any table's deletes and updates); the parallel restore still reproduces the physical order, as
  // each data section's COPY appends into storage new in its transaction (freshTablesSql).
  let nextBatch = 0;
  let batchesDone = 0;
  const insertBatch = async (b: number) => {
    await sqlOn(
      'bench',
      `select setseed(${(b + 1) / (documentBatches + 2)});
       insert into documents
       select i,
         'Dokument ' || i || ' – ' || substr(md5(i::text), 1, 12),
         (select string_agg((${words})[1 + floor(random() * ${WORDS.length})::int], ' ') from generate_series(1, 30 + (i % 50)) k),
         jsonb_build_object('customer', 'Kunde ' || (i % 5000), 'tags', jsonb_build_array('tag' || (i % 17), 'tag' || (i % 5)), 'amount', (i % 100000) / 100.0, 'active', i % 3 = 0, 'ref', md5((i * 31)::text)),
         decode(md5(i::text) || md5((i + 1)::text), 'hex'),
         timestamptz '2026-01-01' + i * interval '17 seconds'
       from generate_series(${b * 100_000 + 1}, ${(b + 1) * 100_000}) i`,
    );
    process.stderr.write(`\r[bench] documents ${++batchesDone}/${documentBatches}`);
  };
  await Promise.all(
    [0, 1].map(async () => {
      while (nextBatch < documentBatches) await insertBatch(nextBatch++);
    }),
  );
  process.stderr.write('\n');
  await sqlOn('bench', 'vacuum analyze');
  await sqlOn('bench', 'create table bench_done ()');
  log(`generated in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
await generate();

function countBytes(cmd: string, argv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let n = 0;
    child.stdout.on('data', (b: Buffer) => {
      n += b.length;
    });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(n) : reject(new Error(`${cmd} exited ${code}`))));
  });
}
const pgArgs = ['-h', '127.0.0.1', '-p', String(pgPort), '-U', 'postgres'];
const plainBytes = await countBytes(join(binDir, 'pg_dump'), ['-Fp', ...pgArgs, 'bench']);
log(`plain dump: ${(plainBytes / 1e6).toFixed(0)} MB (${(plainBytes / GiB).toFixed(2)} GiB)`);
if (plainBytes < sizeGiB * GiB) log(`WARNING: the plain dump is smaller than ${sizeGiB} GiB`);

// ---------------------------------------------------------------- the service and the agent
// From here on nothing may block the event loop: the local stack's WebSocket proxy (the worker's
// way to its database) runs in this process. Hence spawn, never spawnSync.

function exec(
  cmd: string,
  argv: string[],
  env?: Record<string, string>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString()).slice(-1_000_000);
    });
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const stackDir = join(dataDir, 'stack');
rmSync(stackDir, { recursive: true, force: true });
// Outputs (the S3 server's objects, the gzip and -Fc files) go to RAM when the machine has a
// tmpfs: the floor writes to /dev/null, and real storage is another machine, not this one's disk.
// Every program's CPU still counts, the S3 server's included.
const scratch = existsSync('/dev/shm')
  ? mkdtempSync('/dev/shm/resistro-bench-')
  : mkdtempSync(join(dataDir, 'scratch-'));
scratchDir = scratch;
const stack = await startStack({ dataDir: stackDir, fast: true, s3Dir: join(scratch, 's3') });
stopStack = () => stack.stop();
const origin = stack.url;
let cookie = '';
async function call<T>(path: string, method = 'GET', body?: unknown): Promise<T> {
  const res = await fetch(`${origin}/api/v1${path}`, {
    method,
    headers: { origin, cookie, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const set = res.headers.get('set-cookie');
  if (set) cookie = set.split(';')[0]!;
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}
await call('/auth/signup', 'POST', {
  email: `bench-${randomBytes(4).toString('hex')}@example.test`,
  password: 'correct horse battery staple',
  plan: args.plan,
});
const apiKey = (await call<{ secret: string }>('/api-keys', 'POST', { name: 'bench', scope: 'agent' }))
  .secret;
const agentDir = join(dataDir, 'agent');
rmSync(agentDir, { recursive: true, force: true });
mkdirSync(agentDir, { recursive: true });
const envFile = join(agentDir, 'env');
writeFileSync(
  envFile,
  `RESISTRO_API_KEY=${apiKey}\nRESISTRO_ENDPOINT=${origin}/api\nRESISTRO_ENCRYPTION_KEY=resistro-key-1:${randomBytes(32).toString('base64url')}\nRESISTRO_STATE_DIR=${join(agentDir, 'state')}\n`,
  { mode: 0o600 },
);
const agentEnv: Record<string, string> = {
  PATH: process.env.PATH!,
  HOME: agentDir,
  RESISTRO_ENV_FILE: envFile,
  RESISTRO_LOG_FORMAT: 'json',
  ...(args['cpu-prof'] && { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${args['cpu-prof']}` }),
};
const status = await exec(process.execPath, ['--no-warnings', CLI, 'status'], agentEnv);
if (status.status !== 0) throw new Error(`resistro status failed: ${status.stdout}${status.stderr}`);
const agents = await call<{ items: { id: string }[] }>('/agents');
await call('/databases', 'POST', {
  name: 'bench',
  engine: 'postgres',
  host: '127.0.0.1',
  port: pgPort,
  database: 'bench',
  user: 'postgres',
  credentials: { mode: 'local' },
  schedule: { kind: 'daily', time: '03:00', timezone: 'UTC' },
  agentId: agents.items[0]!.id,
});

// ---------------------------------------------------------------- measuring

type Measure = {
  wall: number;
  cpu: number;
  maxRssKb: number;
  outBytes: number | undefined;
  agentRssKb?: number;
  /** CPU seconds of the resistro process alone (without pg_dump and zstd) */
  agentCpu?: number;
  /** seconds resistro waited for the control plane's complete (the local S3 assembling the parts) */
  completeS?: number;
  /** CPU seconds of every part of the machine during a resistro backup */
  machine?: Record<string, number>;
};

/** Runs `script` under bash, timed by GNU time: wall, user+sys of all processes, largest peak RSS. */
async function timed(
  script: string,
  env: Record<string, string> = {},
): Promise<{ wall: number; cpu: number; maxRssKb: number; stderr: string }> {
  const stats = join(dataDir, 'time.txt');
  const r = await exec(
    '/usr/bin/time',
    ['-f', '%e %U %S %M', '-o', stats, 'bash', '-o', 'pipefail', '-c', script],
    { ...(process.env as Record<string, string>), ...env },
  );
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${script}\n${r.stderr.slice(-3000)}`);
  const [wall, user, sys, rss] = readFileSync(stats, 'utf8')
    .trim()
    .split('\n')
    .at(-1)!
    .split(' ')
    .map(Number);
  return { wall: wall!, cpu: user! + sys!, maxRssKb: rss!, stderr: r.stderr };
}

const pgDump = `${join(binDir, 'pg_dump')} ${pgArgs.join(' ')}`;
const out = (name: string) => join(scratch, name);
const size = (path: string) => statSync(path).size;
const dirSize = (path: string) => readdirSync(path).reduce((n, f) => n + statSync(join(path, f)).size, 0);

/**
 * CPU seconds (own + reaped children, from /proc) of the machine's processes, by role: what the
 * client side ran (this process reaps `time`, bash, pg_dump, zstd, resistro), the PostgreSQL
 * server (the postmaster reaps its backends), the local S3 server, the control plane (workerd),
 * and the kernel's own threads (writeback of the S3 server's files).
 */
const CORES = availableParallelism();
const ROLES = ['client', 'postgres', 's3', 'worker', 'kernel'] as const;
type Role = (typeof ROLES)[number];
const postmasterPid = () =>
  Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
/** The PostgreSQL server's children: pid → state (R, S, Z ...). */
function serverChildren(): Map<number, string> {
  const postmaster = postmasterPid();
  const children = new Map<number, string>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === postmaster) children.set(Number(pid), f[0]!);
    } catch {}
  }
  return children;
}
// The server's own processes (checkpointer, walwriter, ...), there before any measurement.
const serverBaseline = new Set(serverChildren().keys());
/**
 * Waits (at most 10 s) until every backend of the last measurement has exited AND been reaped by
 * the postmaster. A backend's CPU moves into the postmaster's children's time (cutime) only when the
 * postmaster reaps it; on a loaded machine that comes a while after the client exited, and a
 * snapshot taken in between saw neither (a zombie reports no CPU time): the server column then
 * showed 0.0 for one command and the CPU turned up in the next one's.
 */
async function serverSettled(): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const pending = [...serverChildren()].filter(([pid, state]) => !serverBaseline.has(pid) || state === 'Z');
    // Autovacuum workers come and go on their own; only client backends and zombies are waited for.
    if (pending.every(([pid, state]) => state !== 'Z' && isAutovacuum(pid))) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
function isAutovacuum(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('autovacuum');
  } catch {
    return true; // gone
  }
}
async function cpuByRole(): Promise<Map<string, { role: Role | undefined; cpu: number }>> {
  await serverSettled();
  const m = new Map<string, { role: Role | undefined; cpu: number }>();
  // Other people's processes on a shared machine (their own PostgreSQL servers, S3 servers and
  // workerd) are not ours: a process counts only if it descends from this benchmark or from its
  // PostgreSQL server's postmaster.
  const postmaster = postmasterPid();
  const procs = new Map<number, { ppid: number; comm: string; cpu: number }>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime stime cutime cstime (fields 14–17) in USER_HZ (100 on Linux)
      const cpu = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
      procs.set(Number(pid), { ppid: Number(f[1]), comm, cpu });
    } catch {}
  }
  const descendsFrom = (pid: number, root: number) => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = procs.get(p)?.ppid ?? 0, hops++)
      if (p === root) return true;
    return false;
  };
  for (const [pid, { comm, cpu }] of procs) {
    let role: Role | undefined;
    if (comm.startsWith('kworker') || comm.startsWith('jbd2')) role = 'kernel';
    else if (pid === postmaster || descendsFrom(pid, postmaster)) role = 'postgres';
    else if (pid === process.pid) role = 'client';
    else if (descendsFrom(pid, process.pid)) {
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {}
      role = cmd.includes('s3-server.ts') ? 's3' : comm === 'workerd' ? 'worker' : undefined;
    }
    m.set(`${pid} ${comm}`, { role, cpu });
  }
  return m;
}
async function cpuSince(before: Awaited<ReturnType<typeof cpuByRole>>): Promise<Record<Role, number>> {
  const out = Object.fromEntries(ROLES.map((r) => [r, 0])) as Record<Role, number>;
  for (const [k, { role, cpu }] of await cpuByRole()) {
    if (!role) continue;
    out[role] += Math.max(0, cpu - (before.get(k)?.cpu ?? 0));
  }
  return out;
}

async function resistroBackup(
  compressor: 'zstd' | 'node',
  program: 'js' | 'exe' = 'js',
  jobs: number | 'auto' = 'auto',
  tableStats: 'on' | 'off' = 'on',
): Promise<Measure> {
  const cpuBefore = await cpuByRole();
  const command = program === 'exe' ? EXE! : `${process.execPath} --no-warnings ${CLI}`;
  const t = await timed(`${command} backup --database bench`, {
    ...agentEnv,
    RESISTRO_COMPRESSOR: compressor,
    RESISTRO_LOG_LEVEL: 'debug',
    RESISTRO_JOBS: String(jobs),
    RESISTRO_TABLE_STATS: tableStats,
  });
  // The agent's own timeline (JSON lines with times), for reading where the time went.
  writeFileSync(
    join(dataDir, `resistro-backup-${compressor}-${program}-${jobs}-stats-${tableStats}.log`),
    t.stderr,
  );
  const machine = await cpuSince(cpuBefore);
  log(
    `    machine CPU: ${ROLES.map((r) => `${r} ${machine[r].toFixed(2)} s`).join(', ')} (${(t.wall * CORES).toFixed(1)} CPU-s available: ${t.wall.toFixed(2)} s × ${CORES} cores)`,
  );
  const event = t.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map(
      (l) =>
        JSON.parse(l) as {
          event: string;
          sizeBytes?: number;
          maxRssKb?: number;
          completeMs?: number;
          agentCpuMs?: number;
        },
    )
    .find((e) => e.event === 'backup.succeeded');
  if (!event) throw new Error(`resistro backup did not succeed:\n${t.stderr.slice(-3000)}`);
  return {
    wall: t.wall,
    cpu: t.cpu,
    maxRssKb: t.maxRssKb,
    outBytes: event.sizeBytes,
    agentRssKb: event.maxRssKb,
    agentCpu: event.agentCpuMs === undefined ? undefined : event.agentCpuMs / 1000,
    completeS: event.completeMs === undefined ? undefined : event.completeMs / 1000,
    machine,
  };
}

const backupPipelines: { name: string; run: () => Promise<Measure> }[] = [
  {
    name: '`pg_dump -Fp > /dev/null` (the floor)',
    run: async () => ({ ...(await timed(`${pgDump} -Fp bench > /dev/null`)), outBytes: undefined }),
  },
  {
    name: '`pg_dump -Fp | gzip`',
    run: async () => ({
      ...(await timed(`${pgDump} -Fp bench | gzip > ${out('plain.sql.gz')}`)),
      outBytes: size(out('plain.sql.gz')),
    }),
  },
  {
    name: '`pg_dump -Fc`',
    run: async () => ({
      ...(await timed(`${pgDump} -Fc -f ${out('custom.dump')} bench`)),
      outBytes: size(out('custom.dump')),
    }),
  },
  {
    name: '`pg_dump -Fp | zstd -3` (reference)',
    run: async () => ({
      ...(await timed(`${pgDump} -Fp bench | zstd -q -3 > ${out('plain.sql.zst')}`)),
      outBytes: size(out('plain.sql.zst')),
    }),
  },
  { name: '**`resistro backup`** (zstd program → AES-GCM → S3)', run: () => resistroBackup('zstd') },
  // Issue 14: the per-table row counts and hashes read from the dump as it streams past; without
  // them the dump's pipe goes straight into zstd and never passes through the agent.
  {
    name: '`resistro backup`, RESISTRO_TABLE_STATS=off (no per-table counts)',
    run: () => resistroBackup('zstd', 'js', 'auto', 'off'),
  },
  { name: '`resistro backup`, node:zlib fallback', run: () => resistroBackup('node') },
  {
    name: '`resistro backup`, the executable (zstd program → AES-GCM → S3)',
    run: () => resistroBackup('zstd', 'exe'),
  },
  // Issue 15: the parallel peers and Resistro's parallel backup, for N = 1 and N = the cores.
  ...[...new Set([1, CORES])].flatMap((n) => [
    {
      name: `\`pg_dump -Fd -j ${n}\` (gzip inside pg_dump)`,
      run: async () => ({
        ...(await timed(`rm -rf ${out('dir')} && ${pgDump} -Fd -j ${n} -f ${out('dir')} bench`)),
        outBytes: dirSize(out('dir')),
      }),
    },
    {
      name: `\`pg_dump -Fd -j ${n} -Z0\` + \`zstd -3 -T${n}\` of its files (dump, then compress)`,
      run: async () => ({
        ...(await timed(
          `rm -rf ${out('dir')} && ${pgDump} -Fd -j ${n} -Z0 -f ${out('dir')} bench && zstd -q -3 -T${n} --rm ${out('dir')}/*.dat`,
        )),
        outBytes: dirSize(out('dir')),
      }),
    },
    {
      name: `**\`resistro backup\`, RESISTRO_JOBS=${n}** (sections from one snapshot → zstd → AES-GCM → S3)`,
      run: () => resistroBackup('zstd', 'js', n),
    },
    {
      name: `\`resistro backup\`, RESISTRO_JOBS=${n}, RESISTRO_TABLE_STATS=off (no per-table counts)`,
      run: () => resistroBackup('zstd', 'js', n, 'off'),
    },
  ]),
];

const mb = (b: number | undefined) =>
  b === undefined ? '—' : (b / 1e6).toLocaleString('en', { maximumFractionDigits: 0 });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function collect(
  pipelines: { name: string; run: () => Promise<Measure> }[],
): Promise<{ name: string; m: Measure }[]> {
  const all = new Map<string, Measure[]>();
  for (let i = 0; i < runs; i++) {
    for (const p of pipelines) {
      log(`run ${i + 1}/${runs}: ${p.name}`);
      const before = await cpuByRole();
      const m = await p.run();
      m.machine ??= await cpuSince(before);
      log(
        `  ${m.wall.toFixed(2)} s wall, ${m.cpu.toFixed(1)} s CPU, ${(m.maxRssKb / 1024).toFixed(0)} MB peak`,
      );
      all.set(p.name, [...(all.get(p.name) ?? []), m]);
    }
  }
  return pipelines.map((p) => {
    const ms = all.get(p.name)!;
    const pick = (f: (m: Measure) => number | undefined) => {
      const xs = ms.map(f).filter((x): x is number => x !== undefined);
      return xs.length ? median(xs) : undefined;
    };
    return {
      name: p.name,
      m: {
        wall: pick((m) => m.wall)!,
        cpu: pick((m) => m.cpu)!,
        maxRssKb: pick((m) => m.maxRssKb)!,
        outBytes: pick((m) => m.outBytes),
        agentRssKb: pick((m) => m.agentRssKb),
        agentCpu: pick((m) => m.agentCpu),
        // the run with the median wall time
        machine: [...ms].sort((a, b) => a.wall - b.wall)[Math.floor(ms.length / 2)]!.machine,
        completeS: pick((m) => m.completeS),
      },
    };
  });
}

// The executable against the JavaScript build, paired: the two run back to back in alternating
// order (JavaScript first, then the executable first, ...) and each pair gives one ratio, so drift
// over the run (other load on a shared machine, the page cache, the S3 server's folder growing)
// does not land on one side. The figure is the median ratio with its spread.
const PAIRS = Math.max(4, runs * 2);
type Ratio = { median: number; min: number; max: number };
const ratio = (xs: number[]): Ratio => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
const showRatio = (r: Ratio) => `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})`;
async function paired(
  label: string,
  run: (program: 'js' | 'exe') => Promise<{ wall: number; cpu: number; agentCpu?: number }>,
) {
  const wall: number[] = [];
  const cpu: number[] = [];
  const agentCpu: number[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const order = i % 2 === 0 ? (['js', 'exe'] as const) : (['exe', 'js'] as const);
    const m: Partial<Record<'js' | 'exe', { wall: number; cpu: number; agentCpu?: number }>> = {};
    for (const program of order) {
      log(`pair ${i + 1}/${PAIRS}, ${label}: ${program === 'js' ? 'JavaScript build' : 'executable'}`);
      m[program] = await run(program);
    }
    wall.push(m.exe!.wall / m.js!.wall);
    cpu.push(m.exe!.cpu / m.js!.cpu);
    if (m.exe!.agentCpu && m.js!.agentCpu) agentCpu.push(m.exe!.agentCpu / m.js!.agentCpu);
  }
  return { wall: ratio(wall), cpu: ratio(cpu), agentCpu: agentCpu.length ? ratio(agentCpu) : undefined };
}
const pairedBackup = () => paired('backup', (program) => resistroBackup('zstd', program));

/** Issue 15: the client side of resistro backup against `pg_dump | zstd -3`, per GB of plain dump. */
function clientCpuLines(): string[] {
  const reference = backups.find((b) => b.name.includes('(reference)'))?.m;
  const gb = plainBytes / 1e9;
  const mine = backups.filter(
    (b) => b.name.includes('`resistro backup`**') || b.name.includes('RESISTRO_JOBS='),
  );
  if (!reference || mine.length === 0) return [];
  return [
    '',
    `Client CPU of \`resistro backup\` above \`pg_dump | zstd -3\` (${reference.cpu.toFixed(1)} CPU-s), per GB of plain dump (target < 1 CPU-s/GB): ` +
      mine
        .map(
          ({ name, m }) =>
            `${name.replace(/\*\*/g, '').split(' (')[0]} ${m.cpu.toFixed(1)} CPU-s, ${((m.cpu - reference.cpu) / gb).toFixed(2)} CPU-s/GB ${(m.cpu - reference.cpu) / gb < 1 ? 'MET' : 'MISSED'}` +
            (m.agentCpu === undefined ? '' : ` (the resistro process itself ${m.agentCpu.toFixed(1)} CPU-s)`),
        )
        .join('; ') +
      '.',
  ];
}

/**
 * Issue 14: what the per-table statistics cost, each backup with them beside the same backup
 * without (RESISTRO_TABLE_STATS=off: the dump's pipe then goes straight into zstd).
 */
function tableStatsLines(): string[] {
  const gb = plainBytes / 1e9;
  const pairs = [
    ['**`resistro backup`**', '`resistro backup`, RESISTRO_TABLE_STATS=off'],
    ...[...new Set([1, CORES])].map((n) => [
      `**\`resistro backup\`, RESISTRO_JOBS=${n}**`,
      `\`resistro backup\`, RESISTRO_JOBS=${n}, RESISTRO_TABLE_STATS=off`,
    ]),
  ];
  const rows = pairs.flatMap(([on, off]) => {
    const a = backups.find((b) => b.name.startsWith(on!))?.m;
    const b = backups.find((x) => x.name.startsWith(off!))?.m;
    if (!a || !b) return [];
    const label = on!.replace(/\*\*/g, '');
    const agent = (m: Measure) => (m.agentCpu === undefined ? '—' : m.agentCpu.toFixed(2));
    const extra = (x: number | undefined, y: number | undefined) =>
      x === undefined || y === undefined ? '—' : ((x - y) / gb).toFixed(2);
    return [
      `| ${label} with table stats | ${a.wall.toFixed(2)} | ${a.cpu.toFixed(2)} | ${agent(a)} | ${extra(a.agentCpu, b.agentCpu)} | ${extra(a.cpu, b.cpu)} |`,
      `| ${label} without (RESISTRO_TABLE_STATS=off) | ${b.wall.toFixed(2)} | ${b.cpu.toFixed(2)} | ${agent(b)} | | |`,
    ];
  });
  if (rows.length === 0) return [];
  return [
    '',
    `Per-table statistics (row counts and GMACs read from the dump as it streams past), ${(plainBytes / 1e9).toFixed(2)} GB of plain dump:`,
    '',
    '| backup | wall s | client CPU s | the resistro process CPU s | statistics cost, resistro process CPU-s/GB | statistics cost, client CPU-s/GB |',
    '|---|---|---|---|---|---|',
    ...rows,
  ];
}

const roundtrip = args.roundtrip;
const inRoundtrip = (name: string) =>
  (name.includes('`pg_dump -Fc`') && !args['skip-peer']) || name.includes(`RESISTRO_JOBS=${CORES}**`);
const backups = await collect(
  roundtrip
    ? backupPipelines.filter((p, i) => i === 0 || inRoundtrip(p.name))
    : only
      ? backupPipelines.filter((p, i) => i === 0 || only.some((w) => p.name.includes(w)))
      : backupPipelines,
);
if (only) {
  // A quick look while working on the agent: no restores, no full report.
  for (const { name, m } of backups)
    process.stdout.write(
      `${name}: ${m.wall.toFixed(2)} s = ${(m.wall / backups[0]!.m.wall).toFixed(2)}× bare, ${m.cpu.toFixed(1)} s CPU, server ${m.machine ? m.machine.postgres.toFixed(1) : '—'} s${m.agentCpu === undefined ? '' : ` (the resistro process ${m.agentCpu.toFixed(1)} s)`}${m.completeS === undefined ? '' : `, complete ${m.completeS.toFixed(2)} s`}\n`,
    );
  for (const line of [...clientCpuLines(), ...tableStatsLines()]) if (line) process.stdout.write(`${line}\n`);
  if (only.includes('executable')) {
    const b = await pairedBackup();
    process.stdout.write(
      `executable ÷ JavaScript build, ${PAIRS} pairs in alternating order: backup wall ${showRatio(b.wall)}, client CPU ${showRatio(b.cpu)}, the resistro process's own CPU ${b.agentCpu ? showRatio(b.agentCpu) : '—'}\n`,
    );
  }
  process.stdout.write(`agent logs: ${dataDir}/resistro-backup-*.log\n`);
  await shutdown();
  process.exit(0);
}

// Restore: plain SQL with psql, against resistro restore of the backup just made.
log('preparing restores');
if (!roundtrip) await exec('bash', ['-c', `${pgDump} -Fp -f ${out('plain.sql')} bench`]);
const latest = await call<{ items: { id: string; status: string }[] }>('/backups?limit=1&status=succeeded');
const link = await call<{ url: string }>(`/backups/${latest.items[0]!.id}/download`);
writeFileSync(out('backup.resistro'), Buffer.from(await (await fetch(link.url)).arrayBuffer()));
let restoreRun = 0;
const freshDb = async () => {
  const name = `restore_${restoreRun++}`;
  await sqlOn('postgres', `drop database if exists ${name}`);
  await sqlOn('postgres', `create database ${name}`);
  return name;
};
const resistroRestore = async (
  db: string,
  jobs: number,
  compressor = 'auto',
  cli = CLI,
): Promise<Measure> => {
  const t = await timed(
    `${process.execPath} --no-warnings ${cli} restore --file ${out('backup.resistro')} --host 127.0.0.1 --port ${pgPort} --database ${db} --user postgres -j ${jobs}`,
    { ...agentEnv, RESISTRO_COMPRESSOR: compressor, RESISTRO_LOG_LEVEL: 'debug' },
  );
  // The restore's timeline (restore.step events: each session's work, its start and length).
  writeFileSync(
    join(dataDir, `resistro-restore-j${jobs}-${compressor}${cli === CLI ? '' : '-other-build'}.log`),
    t.stderr,
  );
  const done = t.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .find((e) => e.event === 'restore.done');
  return {
    wall: t.wall,
    cpu: t.cpu,
    maxRssKb: t.maxRssKb,
    outBytes: undefined,
    agentRssKb: done?.maxRssKb,
    agentCpu: done?.agentCpuMs === undefined ? undefined : done.agentCpuMs / 1000,
  };
};
const allRestorePipelines: { name: string; run: (db: string) => Promise<Measure> }[] = [
  {
    name: '`psql -f plain.sql`',
    run: async (db) => ({
      ...(await timed(
        `${join(binDir, 'psql')} -X -q -v ON_ERROR_STOP=1 ${pgArgs.join(' ')} -f ${out('plain.sql')} ${db} > /dev/null`,
      )),
      outBytes: undefined,
    }),
  },
  {
    name: '**`resistro restore --file -j 1`** (decrypt → zstd -d → psql, one stream, one transaction: the single-stream restore)',
    run: (db) => resistroRestore(db, 1),
  },
  ...[...new Set([1, CORES])].flatMap((n) => [
    {
      name: `\`pg_restore -j ${n}\` of the \`pg_dump -Fc\` file (what the peer does)`,
      run: async (db: string) => ({
        ...(await timed(
          `${join(binDir, 'pg_restore')} -j ${n} ${pgArgs.join(' ')} -d ${db} ${out('custom.dump')}`,
        )),
        outBytes: undefined,
      }),
    },
  ]),
  ...(CORES > 1
    ? [
        {
          name: `**\`resistro restore --file -j ${CORES}\`** (sections over ${CORES} sessions: \`zstd -d\` straight into each \`psql\`; a table's indexes as soon as its data is in)`,
          run: (db: string) => resistroRestore(db, CORES),
        },
        {
          name: `\`resistro restore --file -j ${CORES}\`, RESISTRO_COMPRESSOR=node (the SQL decompressed in the agent and piped to each \`psql\`)`,
          run: (db: string) => resistroRestore(db, CORES, 'node'),
        },
      ]
    : []),
];
if (args['restore-cli'])
  allRestorePipelines.push({
    name: `\`resistro restore --file -j ${CORES}\` of the other build (${args['restore-cli']})`,
    run: (db: string) => resistroRestore(db, CORES, 'auto', args['restore-cli']),
  });
const restorePipelines = roundtrip
  ? allRestorePipelines.filter(
      (p) =>
        (p.name.includes(`pg_restore -j ${CORES}\``) && !args['skip-peer']) ||
        p.name.includes(`resistro restore --file -j ${CORES}\`**`) ||
        p.name.includes('of the other build'),
    )
  : allRestorePipelines;

/**
 * SHA-256 of the plain dump of `database`, without pg_dump's \restrict/\unrestrict lines (a random
 * key per dump since 15.14): two databases with the same hash hold the same schema and rows.
 */
function dumpHash(database: string): Promise<{ sha256: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(binDir, 'pg_dump'), ['-Fp', ...pgArgs, database], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const hash = createHash('sha256');
    let bytes = 0;
    let carry = '';
    const add = (text: string) => hash.update(text.replace(/^\\(un)?restrict .*$/gm, ''));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      bytes += Buffer.byteLength(text);
      const whole = carry + text;
      const cut = whole.lastIndexOf('\n') + 1;
      add(whole.slice(0, cut));
      carry = whole.slice(cut);
    });
    child.once('error', reject);
    child.once('close', (code) => {
      add(carry);
      if (code === 0) resolve({ sha256: hash.digest('hex'), bytes });
      else reject(new Error(`pg_dump exited ${code}`));
    });
  });
}
// Every restore with resistro (and, in --roundtrip, the peer's) is compared with the original.
const compared = (name: string) =>
  name.includes('resistro restore') || (roundtrip && name.includes('pg_restore'));
const sourceDump = restorePipelines.some((p) => compared(p.name)) ? await dumpHash('bench') : undefined;
const comparisons: { name: string; identical: boolean }[] = [];
const restoreResults: { name: string; m: Measure }[] = [];
const restoreRuns = Math.max(1, Number(args['restore-runs'] ?? runs));
for (let i = 0; i < restoreRuns; i++) {
  for (const p of restorePipelines) {
    const db = await freshDb();
    log(`restore run ${i + 1}/${restoreRuns}: ${p.name}`);
    const before = await cpuByRole();
    const m = await p.run(db);
    m.machine = await cpuSince(before);
    log(
      `  ${m.wall.toFixed(2)} s wall, ${m.cpu.toFixed(1)} s client CPU, ${m.machine.postgres.toFixed(1)} s server CPU`,
    );
    restoreResults.push({ name: p.name, m });
    // Compared in the first run (the same file restores the same way in the others).
    if (sourceDump && compared(p.name) && i === 0) {
      const copy = await dumpHash(db);
      const identical = copy.sha256 === sourceDump.sha256;
      comparisons.push({ name: p.name, identical });
      log(
        `  dump comparison: ${identical ? 'identical' : `DIFFERENT (${copy.bytes} bytes against ${sourceDump.bytes})`}`,
      );
    }
    await sqlOn('postgres', `drop database ${db}`);
  }
}
const comparisonLine = sourceDump
  ? `Dump comparison (SHA-256 of \`pg_dump -Fp\`, ${mb(sourceDump.bytes)} MB, of the original and of each restored database): ` +
    comparisons
      .map((c) => `${c.name.replace(/\*\*/g, '').split(' (')[0]} ${c.identical ? 'identical' : 'DIFFERENT'}`)
      .join('; ') +
    '.'
  : undefined;
const restoreSummary = restorePipelines.map((p) => {
  const ms = restoreResults.filter((r) => r.name === p.name).map((r) => r.m);
  return {
    kind: p.name,
    wall: median(ms.map((m) => m.wall)),
    cpu: median(ms.map((m) => m.cpu)),
    server: median(ms.map((m) => m.machine?.postgres ?? 0)),
    rss: median(ms.map((m) => m.maxRssKb)),
    agentRss: ms[0]?.agentRssKb,
    agentCpu: ms.some((m) => m.agentCpu !== undefined) ? median(ms.map((m) => m.agentCpu ?? 0)) : undefined,
    /** client + server CPU: what the restore costs the machine, the figure least moved by others' load */
    total: median(ms.map((m) => m.cpu + (m.machine?.postgres ?? 0))),
    walls: ms.map((m) => m.wall),
  };
});

if (roundtrip) {
  const row = (
    name: string,
    m: { wall: number; cpu: number; maxRssKb: number },
    server: number | undefined,
    agentCpu: number | undefined,
    agentRssKb: number | undefined,
    outBytes?: number,
  ) =>
    `| ${name} | ${m.wall.toFixed(2)} | ${m.cpu.toFixed(1)}${agentCpu === undefined ? '' : ` (${agentCpu.toFixed(1)})`} | ${server === undefined ? '—' : server.toFixed(1)} | ${server === undefined ? '—' : (m.cpu + server).toFixed(1)} | ${(m.maxRssKb / 1024).toFixed(0)} | ${agentRssKb ? (agentRssKb / 1024).toFixed(0) : '—'} | ${mb(outBytes)} |`;
  const report = [
    `Parallel round trip: plain dump ${mb(plainBytes)} MB (${(plainBytes / GiB).toFixed(2)} GiB), ${CORES} cores, backups ${runs} run(s), restores ${restoreRuns} run(s) interleaved (median)`,
    '',
    '| step | wall s | client CPU s (of it the resistro process) | server CPU s | client + server CPU s | peak RSS MB (largest process) | resistro process peak RSS MB | output MB |',
    '|---|---|---|---|---|---|---|---|',
    ...backups.map(({ name, m }) => row(name, m, m.machine?.postgres, m.agentCpu, m.agentRssKb, m.outBytes)),
    ...restoreSummary.map((r) =>
      row(r.kind, { wall: r.wall, cpu: r.cpu, maxRssKb: r.rss }, r.server, r.agentCpu, r.agentRss),
    ),
    '',
    ...(restoreRuns > 1
      ? [
          `Restore wall times run by run: ${restoreSummary.map((r) => `${r.kind.replace(/\*\*/g, '').split(' (')[0]} ${r.walls.map((w) => w.toFixed(1)).join(' / ')} s`).join('; ')}.`,
          '',
        ]
      : []),
    ...(comparisonLine ? [comparisonLine] : []),
  ].join('\n');
  process.stdout.write(`${report}\n`);
  await shutdown();
  for (const f of ['custom.dump', 'backup.resistro', 'time.txt'])
    rmSync(out(f), { force: true, recursive: true });
  rmSync(stackDir, { recursive: true, force: true });
  rmSync(agentDir, { recursive: true, force: true });
  process.exit(comparisons.every((c) => c.identical) ? 0 : 1);
}

// ---------------------------------------------------------------- report

const floor = backups[0]!.m.wall;
const gzip = backups[1]!.m;
const lines = [
  `Agent benchmark: plain dump ${mb(plainBytes)} MB (${(plainBytes / GiB).toFixed(2)} GiB), PostgreSQL ${(await exec(join(binDir, 'pg_dump'), ['--version'])).stdout.trim().split(' ').at(-1)}, ${runs} run(s) (median), ${(await import('node:os')).cpus().length} cores, plan ${args.plan}`,
  '',
  '| backup pipeline | wall s | × bare | × gzip | client CPU s | server CPU s | S3 server CPU s | output MB | peak RSS MB (largest process) | resistro process peak RSS MB | of the wall: waiting for `complete` s |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...backups.map(
    ({ name, m }) =>
      `| ${name} | ${m.wall.toFixed(2)} | ${(m.wall / floor).toFixed(2)} | ${(m.wall / gzip.wall).toFixed(2)} | ${m.cpu.toFixed(1)} | ${m.machine ? m.machine.postgres.toFixed(1) : '—'} | ${m.machine ? m.machine.s3.toFixed(1) : '—'} | ${mb(m.outBytes)} | ${(m.maxRssKb / 1024).toFixed(0)} | ${m.agentRssKb ? (m.agentRssKb / 1024).toFixed(0) : '—'} | ${m.completeS === undefined ? '—' : m.completeS.toFixed(2)} |`,
  ),
  '',
  '| restore (into a fresh database) | wall s | × psql | client CPU s | of it the resistro process s | server CPU s | peak RSS MB | resistro process peak RSS MB |',
  '|---|---|---|---|---|---|---|---|',
  ...restoreSummary.map(
    (r) =>
      `| ${r.kind} | ${r.wall.toFixed(2)} | ${(r.wall / restoreSummary[0]!.wall).toFixed(2)} | ${r.cpu.toFixed(1)} | ${r.agentCpu === undefined ? '—' : r.agentCpu.toFixed(1)} | ${r.server.toFixed(1)} | ${(r.rss / 1024).toFixed(0)} | ${r.agentRss ? (r.agentRss / 1024).toFixed(0) : '—'} |`,
  ),
];
// The executable against the JavaScript build: size, cold start and memory of `--version` (median
// of 10), and the backup above.
const STARTS = 10;
async function startup(command: string) {
  const ms: { wall: number; maxRssKb: number }[] = [];
  for (let i = 0; i < STARTS; i++) ms.push(await timed(`${command} --version > /dev/null`));
  return { wall: median(ms.map((m) => m.wall)), rssKb: median(ms.map((m) => m.maxRssKb)) };
}
const jsStart = await startup(`${process.execPath} --no-warnings ${CLI}`);
const exePairs = await pairedBackup();
const exeVerify = await paired('verify', (program) =>
  timed(
    `${program === 'exe' ? EXE! : `${process.execPath} --no-warnings ${CLI}`} verify --file ${out('backup.resistro')}`,
    agentEnv,
  ),
);
const exeStart = await startup(EXE!);
const exeBackup = backups.find((b) => b.name.includes('the executable'))!.m;
lines.push(
  '',
  '| the agent as | file MB | needs | `--version` cold start s | `--version` peak RSS MB | backup wall s | backup peak RSS MB (resistro process) |',
  '|---|---|---|---|---|---|---|',
  `| JavaScript build (\`node resistro.mjs\`) | ${(size(CLI) / 1e6).toFixed(1)} | Node.js ≥ 22.15 | ${jsStart.wall.toFixed(2)} | ${(jsStart.rssKb / 1024).toFixed(0)} | ${backups[4]!.m.wall.toFixed(2)} | ${((backups[4]!.m.agentRssKb ?? 0) / 1024).toFixed(0)} |`,
  `| **executable** (\`resistro-linux-${process.arch}\`) | ${(size(EXE!) / 1e6).toFixed(1)} | nothing | ${exeStart.wall.toFixed(2)} | ${(exeStart.rssKb / 1024).toFixed(0)} | ${exeBackup.wall.toFixed(2)} | ${((exeBackup.agentRssKb ?? 0) / 1024).toFixed(0)} |`,
  '',
  `The executable ÷ the JavaScript build, ${PAIRS} pairs run back to back in alternating order (median ratio, min–max): ` +
    `backup wall ${showRatio(exePairs.wall)}, backup client CPU ${showRatio(exePairs.cpu)}, ` +
    `the resistro process's own CPU ${exePairs.agentCpu ? showRatio(exePairs.agentCpu) : '—'}; ` +
    `\`verify\` of the backup file (no network) wall ${showRatio(exeVerify.wall)}, CPU ${showRatio(exeVerify.cpu)}. ` +
    'Below 1.00 the executable is faster; a spread that straddles 1.00 is the machine’s noise, not a difference.',
);
const resistro = backups[4]!.m;
const streaming = resistro.wall - (resistro.completeS ?? 0);
const machine = resistro.machine;
lines.push(
  '',
  ...(machine
    ? [
        `Where the machine's CPU went during \`resistro backup\` (the median run; ${(resistro.wall * CORES).toFixed(1)} CPU-s available on ${CORES} cores): ` +
          `client side (pg_dump, zstd, the agent) ${machine.client!.toFixed(1)} s, PostgreSQL server ${machine.postgres!.toFixed(1)} s, ` +
          `local S3 server ${machine.s3!.toFixed(1)} s, control plane ${machine.worker!.toFixed(1)} s, kernel threads ${machine.kernel!.toFixed(1)} s.`,
        '',
      ]
    : []),
  `The "complete" column is the control plane's complete call: the control plane asks the local S3 server (a Node program on the same two cores) to join the parts into one object, then checks its size; S3 and R2 do the joining on their own machines. Without it resistro takes ${streaming.toFixed(2)} s = ${(streaming / floor).toFixed(2)}× bare.`,
  '',
  `Targets: resistro wall ≤ 1.3× bare: ${(resistro.wall / floor).toFixed(2)}× ${resistro.wall / floor <= 1.3 ? 'MET' : 'MISSED'}; ` +
    `≥ 3× faster than pg_dump | gzip: ${(gzip.wall / resistro.wall).toFixed(2)}× ${gzip.wall / resistro.wall >= 3 ? 'MET' : 'MISSED'}; ` +
    `output ≤ gzip's: ${mb(resistro.outBytes)} vs ${mb(gzip.outBytes)} MB ${(resistro.outBytes ?? Infinity) <= (gzip.outBytes ?? 0) ? 'MET' : 'MISSED'}; ` +
    `agent peak RSS ≤ 150 MB: ${((resistro.agentRssKb ?? 0) / 1024).toFixed(0)} MB ${(resistro.agentRssKb ?? Infinity) / 1024 <= 150 ? 'MET' : 'MISSED'}`,
);
{
  const byName = (part: string) => backups.find((b) => b.name.includes(part))?.m;
  const restoreBy = (part: string) => restoreSummary.find((r) => r.kind.includes(part));
  const parallel = byName(`RESISTRO_JOBS=${CORES}`);
  const single = restoreBy('-j 1`**');
  const peer = restoreBy(`pg_restore -j ${CORES}\``);
  const par = restoreBy(`resistro restore --file -j ${CORES}\``);
  const streamingPar = parallel ? parallel.wall - (parallel.completeS ?? 0) : undefined;
  if (parallel && single && peer && par)
    lines.push(
      '',
      `Issue 15 targets (${CORES} cores): parallel backup no slower than bare \`pg_dump -Fp > /dev/null\`: ${parallel.wall.toFixed(2)} s vs ${floor.toFixed(2)} s = ${(parallel.wall / floor).toFixed(2)}× (without the local S3 server's assembling of the parts: ${(streamingPar! / floor).toFixed(2)}×) ${parallel.wall <= floor ? 'MET' : 'MISSED'}; ` +
        `parallel restore faster than \`pg_restore -j ${CORES}\`: ${par.wall.toFixed(2)} s vs ${peer.wall.toFixed(2)} s ${par.wall < peer.wall ? 'MET' : 'MISSED'}; ` +
        `≥ 1.5× faster than the single-stream restore: ${(single.wall / par.wall).toFixed(2)}× ${single.wall / par.wall >= 1.5 ? 'MET' : 'MISSED'}.`,
    );
}
lines.push(...clientCpuLines(), ...tableStatsLines());
if (comparisonLine) lines.push('', comparisonLine);
const report = lines.join('\n');
process.stdout.write(`${report}\n`);
if (args.json)
  writeFileSync(
    args.json,
    JSON.stringify(
      {
        plainBytes,
        runs,
        backups,
        restore: restoreSummary,
        sha: createHash('sha256').update(report).digest('hex'),
      },
      null,
      2,
    ),
  );

await shutdown();
for (const f of [
  'plain.sql',
  'plain.sql.gz',
  'plain.sql.zst',
  'custom.dump',
  'backup.resistro',
  'time.txt',
  'dir',
])
  rmSync(out(f), { force: true, recursive: true });
// The database stays for --reuse; the stack and the agent's state go.
rmSync(stackDir, { recursive: true, force: true });
rmSync(scratch, { recursive: true, force: true });
rmSync(agentDir, { recursive: true, force: true });
