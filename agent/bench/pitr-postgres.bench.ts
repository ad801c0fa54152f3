// The PostgreSQL half of `npm run bench:pitr` (agent/bench/pitr.bench.ts); alone:
//   node --no-warnings agent/bench/pitr-postgres.bench.ts [--seconds 60] [--archive-seconds 30]
//
// A real PostgreSQL 15 (durable: fsync and full-page writes on; synchronous_commit off so pgbench
// runs at full speed) under pgbench (TPC-B, --clients connections, no rate limit), protected by the
// real agent (the single-file build, `resistro agent`) against the real local stack (control plane
// in workerd, S3 that checks signatures). Two phases on the same cluster:
//   1. stream: pg_receivewal over a replication slot (the default method). The server's
//      archive_command meanwhile is the plain alternative, cp + fsync into a local folder, timed.
//   2. archive_command: `resistro wal-push %p`, timed the same way.
// For each: WAL the server wrote per second against WAL the control plane knows is in storage per
// second, the lag of each written byte until it was in storage (p50/p99/max: the RPO we can
// promise), and CPU per GB of WAL of the agent (node) and of pg_receivewal. Then a restore to a
// time T in the middle of phase 1: `resistro restore --pitr` + recovery through wal-fetch, against
// a plain `pg_basebackup -Ft` copy + recovery with restore_command = cp from the local folder.
// A benchmark, not a test: it prints.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { freePort } from '../../scripts/stack/ports.ts';
import { startPostgres } from '../../scripts/stack/postgres.ts';
import { startStack } from '../../scripts/stack/stack.ts';
import type { BenchRow } from './pitr-mariadb.bench.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const BUNDLE = join(ROOT, 'agent/dist/resistro.mjs');
const MB = 1024 ** 2;
const RPO_SECONDS = 60;
const log = (s: string) => process.stderr.write(`[bench:pitr postgres] ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isRoot = process.getuid?.() === 0;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** user+system CPU seconds of a running process, from /proc (0 when it is gone) */
function cpuSecondsOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

function childPid(parent: number, name: string): number | undefined {
  try {
    return (
      Number(execFileSync('pgrep', ['-P', String(parent), name], { encoding: 'utf8' }).split('\n')[0]) ||
      undefined
    );
  } catch {
    return undefined;
  }
}

function parseLsn(text: string): number {
  const [hi, lo] = text.split('/');
  return Number.parseInt(hi!, 16) * 2 ** 32 + Number.parseInt(lo!, 16);
}

/** Gives a folder to the postgres user when we are root (the server runs as that user). */
function forPostgres(dir: string): string {
  mkdirSync(dir, { recursive: true });
  if (isRoot) {
    const [uid, gid] = ['-u', '-g'].map((f) =>
      Number(execFileSync('id', [f, 'postgres'], { encoding: 'utf8' })),
    );
    chownSync(dir, uid!, gid!);
  }
  return dir;
}

function run(
  cmd: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out = (out + b.toString()).slice(-20_000);
    });
    child.stderr.on('data', (b: Buffer) => {
      out = (out + b.toString()).slice(-20_000);
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out }));
  });
}

type Phase = {
  written: number;
  loadSeconds: number;
  storedSeconds: number;
  lags: number[];
  agentCpu: number;
  receiverCpu: number;
  tps: string;
  middle: Date;
};

export async function benchPostgresWal(opts: {
  seconds: number;
  archiveSeconds: number;
  clients: number;
  scale: number;
}): Promise<BenchRow[]> {
  const built = spawnSync(process.execPath, ['--no-warnings', join(ROOT, 'agent/build.ts')], {
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`agent build failed: ${built.stderr}`);
  const dir = mkdtempSync(join(tmpdir(), 'resistro-bench-pitr-pg-'));
  chmodSync(dir, 0o755);
  const shm = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/resistro-bench-pitr-') : join(dir, 'shm');
  const stops: Array<() => Promise<unknown>> = [];
  try {
    const stack = await startStack({ dataDir: join(dir, 'stack'), fast: true, s3Dir: join(shm, 's3') });
    stops.push(() => stack.stop());
    const origin = stack.url;
    let cookie = '';
    const call = async <T>(path: string, method = 'GET', body?: unknown): Promise<T> => {
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
    };

    // the cluster: its archive_command runs a timing wrapper around the plain copy, then wal-push
    const work = forPostgres(join(dir, 'work'));
    const archive = forPostgres(join(work, 'archive'));
    const socket = join(forPostgres(join(dir, 'run')), 'wal-push.sock');
    writeFileSync(
      join(work, 'timed.sh'),
      `#!/bin/sh\n# timed.sh <tag> <command…>: runs the command, appends "<microseconds> <exit code>"\nlog="${work}/latency-$1.log"; shift\nstart=$(date +%s%N)\n"$@"\nrc=$?\necho "$(( ($(date +%s%N) - start) / 1000 )) $rc" >> "$log"\nexit $rc\n`,
      { mode: 0o755 },
    );
    writeFileSync(
      join(work, 'plain.sh'),
      `#!/bin/sh\n# the usual archive_command, made durable: copy, fsync, rename\ntest ! -f "${archive}/$2" && cp "$1" "${archive}/$2.tmp" && sync "${archive}/$2.tmp" && mv "${archive}/$2.tmp" "${archive}/$2"\n`,
      { mode: 0o755 },
    );
    const plainCommand = `${work}/timed.sh plain ${work}/plain.sh %p %f`;
    const pushCommand = `${work}/timed.sh push ${process.execPath} --no-warnings ${BUNDLE} wal-push --socket ${socket} %p`;
    const port = await freePort();
    const server = await startPostgres({
      dir: join(dir, 'pg'),
      port,
      settings: {
        // archive_command itself goes through ALTER SYSTEM: a command-line setting would win over it
        archive_mode: 'on',
        synchronous_commit: 'off',
        max_wal_size: '4GB',
        checkpoint_timeout: '15min',
      },
    });
    stops.push(() => server.stop());
    const binDir = server.binDir;
    const sql = async (text: string, database = 'postgres') => {
      const client = new pg.Client({ connectionString: server.url(database) });
      await client.connect();
      try {
        return (await client.query(text)).rows;
      } finally {
        await client.end();
      }
    };
    await sql(`alter system set archive_command = '${plainCommand}'`);
    await sql('select pg_reload_conf()');
    await sql('create database bench');
    log(`pgbench -i -s ${opts.scale}`);
    const init = await run(join(binDir, 'pgbench'), [
      '-i',
      '-q',
      '-s',
      String(opts.scale),
      server.url('bench'),
    ]);
    if (init.code !== 0) throw new Error(`pgbench -i failed: ${init.out}`);

    // the agent, as installed: the single-file build with its env file
    await call('/auth/signup', 'POST', {
      email: `bench-${randomBytes(4).toString('hex')}@example.test`,
      password: 'correct horse battery staple',
      plan: 'business',
    });
    const apiKey = (await call<{ secret: string }>('/api-keys', 'POST', { name: 'bench', scope: 'agent' }))
      .secret;
    const encryptionKey = `resistro-key-1:${randomBytes(32).toString('base64url')}`;
    const agentDir = join(dir, 'agent');
    mkdirSync(agentDir, { recursive: true, mode: 0o700 });
    const envFile = join(agentDir, 'env');
    writeFileSync(
      envFile,
      `RESISTRO_API_KEY=${apiKey}\nRESISTRO_ENDPOINT=${origin}/api\nRESISTRO_ENCRYPTION_KEY=${encryptionKey}\nRESISTRO_STATE_DIR=${join(agentDir, 'state')}\nRESISTRO_WAL_PUSH_SOCKET=${socket}\n`,
      { mode: 0o600 },
    );
    const agentEnv = {
      PATH: process.env.PATH!,
      HOME: agentDir,
      RESISTRO_ENV_FILE: envFile,
      RESISTRO_LOG_FORMAT: 'json',
    };
    const status = await run(process.execPath, ['--no-warnings', BUNDLE, 'status'], agentEnv);
    if (status.code !== 0) throw new Error(`resistro status failed: ${status.out}`);
    const agents = await call<{ items: { id: string }[] }>('/agents');
    const { database: db } = await call<{ database: { id: string } }>('/databases', 'POST', {
      name: 'bench',
      engine: 'postgres',
      host: '127.0.0.1',
      port,
      database: 'bench',
      user: 'postgres',
      credentials: { mode: 'local' },
      schedule: { kind: 'daily', time: '03:00', timezone: 'UTC' },
      agentId: agents.items[0]!.id,
    });
    type PitrStatus = {
      window: { start: string; end: string } | null;
      lastSegment: { endOffset: number } | null;
    };
    const pitr = () => call<PitrStatus>(`/databases/${db.id}/pitr`);
    const stored = async () => (await pitr()).lastSegment?.endOffset ?? 0;
    await call(`/databases/${db.id}/pitr`, 'PUT', {
      enabled: true,
      rpoSeconds: RPO_SECONDS,
      method: 'stream',
    });

    let agentLog = '';
    const agent: ChildProcess = spawn(
      process.execPath,
      ['--no-warnings', BUNDLE, 'agent', '--heartbeat-interval', '1'],
      { env: agentEnv, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    agent.stderr!.on('data', (b: Buffer) => {
      agentLog = (agentLog + b.toString()).slice(-200_000);
    });
    const agentExited = new Promise((r) => agent.once('exit', r));
    stops.push(async () => {
      agent.kill('SIGTERM');
      await agentExited;
    });
    const until = async (what: string, probe: () => Promise<boolean>, seconds: number) => {
      const deadline = Date.now() + seconds * 1000;
      while (!(await probe())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${agentLog.slice(-4000)}`);
        await sleep(500);
      }
    };
    log('the agent takes its first base backup');
    await until('the first base backup', async () => (await pitr()).window !== null, 600);
    // the plain alternative's base backup, next to the agent's
    const plainBase = join(work, 'plain-base');
    const pb = await run(join(binDir, 'pg_basebackup'), [
      '-d',
      server.url(),
      '-D',
      plainBase,
      '-Ft',
      '-X',
      'none',
      '--checkpoint=fast',
    ]);
    if (pb.code !== 0) throw new Error(`pg_basebackup failed: ${pb.out}`);

    const lsnNow = async () => parseLsn((await sql('select pg_current_wal_lsn()::text as l'))[0].l);
    /** pgbench for `seconds`, sampling the server's WAL position against what is in storage */
    const phase = async (seconds: number, closeLastSegment: boolean): Promise<Phase> => {
      const startLsn = await lsnNow();
      const agentCpu0 = cpuSecondsOf(agent.pid);
      const receiverPid = childPid(agent.pid!, 'pg_receivewal');
      const receiverCpu0 = cpuSecondsOf(receiverPid);
      const started = Date.now();
      let middle = new Date(started + (seconds * 1000) / 2);
      const load = run(join(binDir, 'pgbench'), [
        '-c',
        String(opts.clients),
        '-j',
        String(opts.clients),
        '-T',
        String(seconds),
        '-n',
        server.url('bench'),
      ]);
      let loadDone = false;
      void load.then(() => {
        loadDone = true;
      });
      const samples: { at: number; lsn: number }[] = [];
      const lags: number[] = [];
      let have = 0;
      let target = Number.POSITIVE_INFINITY;
      for (;;) {
        const at = Date.now();
        if (!loadDone) samples.push({ at, lsn: await lsnNow() });
        else if (target === Number.POSITIVE_INFINITY) {
          // the load is over: its end (archive_command mode: closed, or it waits for the next write)
          if (closeLastSegment) await sql('select pg_switch_wal()');
          target = samples.at(-1)!.lsn;
        }
        have = await stored();
        while (lags.length < samples.length && samples[lags.length]!.lsn <= have)
          lags.push(at - samples[lags.length]!.at);
        if (have >= target) break;
        if (at - started > (seconds + 600) * 1000)
          throw new Error('the agent did not catch up within 10 minutes');
        await sleep(500);
      }
      const end = Date.now();
      const result = await load;
      if (result.code !== 0) throw new Error(`pgbench failed: ${result.out}`);
      const tps = /tps = ([\d.]+)/.exec(result.out)?.[1] ?? '?';
      // T: a moment in the middle of the load (between two samples)
      middle = new Date(samples[Math.floor(samples.length / 2)]!.at);
      return {
        written: samples.at(-1)!.lsn - startLsn,
        loadSeconds: seconds,
        storedSeconds: (end - started) / 1000,
        lags,
        agentCpu: cpuSecondsOf(agent.pid) - agentCpu0,
        receiverCpu: cpuSecondsOf(receiverPid) - receiverCpu0,
        tps,
        middle,
      };
    };

    // the agent's own idle cost (heartbeat every second here, status reports), apart from the WAL's
    const idle0 = cpuSecondsOf(agent.pid);
    await sleep(15_000);
    const idlePerSecond = (cpuSecondsOf(agent.pid) - idle0) / 15;
    log(`phase 1: pg_receivewal over a slot, pgbench ${opts.seconds} s`);
    const stream = await phase(opts.seconds, false);
    const t = stream.middle;

    log('phase 2: archive_command = resistro wal-push');
    await call(`/databases/${db.id}/pitr`, 'PUT', { enabled: true, method: 'archive_command' });
    await until('the agent to listen for wal-push', async () => existsSync(socket), 120);
    await sql(`alter system set archive_command = '${pushCommand}'`);
    await sql('select pg_reload_conf()');
    await sleep(1000);
    const pushed = await phase(opts.archiveSeconds, true);
    const latency = (tag: string) => {
      const file = join(work, `latency-${tag}.log`);
      const lines = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
      const ok = lines.map((l) => l.split(' ')).filter(([, rc]) => rc === '0');
      return { ms: ok.map(([us]) => Number(us) / 1000), failed: lines.length - ok.length };
    };
    const push = latency('push');
    // of it: starting the agent's program at all (the same build, doing nothing)
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const at = Date.now();
      await run(process.execPath, ['--no-warnings', BUNDLE, '--version']);
      starts.push(Date.now() - at);
    }
    const plain = latency('plain');

    agent.kill('SIGTERM');
    await agentExited;

    // restore to T: resistro against a plain pg_basebackup copy + cp restore_command
    const restoreTo = async (dataDir: string, env: NodeJS.ProcessEnv) => {
      const p = await freePort();
      const args = ['-D', dataDir, '-p', String(p), '-c', 'listen_addresses=127.0.0.1'];
      args.push(
        '-c',
        `unix_socket_directories=${dataDir}`,
        '-c',
        'max_connections=200',
        '-c',
        'archive_mode=off',
      );
      const bin = join(binDir, 'postgres');
      const [cmd, full] = isRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
      const child = spawn(cmd, full, { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const keep = (b: Buffer) => {
        output = (output + b.toString()).slice(-4000);
      };
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      let gone = false;
      const exited = new Promise((r) =>
        child.once('exit', (code) => {
          gone = true;
          r(code);
        }),
      );
      let history = 0;
      await until(
        'the restored server to promote',
        async () => {
          if (gone) throw new Error(`the restored server stopped:\n${output}`);
          const c = new pg.Client({ host: '127.0.0.1', port: p, user: 'postgres', database: 'bench' });
          try {
            await c.connect();
            if ((await c.query('select pg_is_in_recovery() as r')).rows[0].r) return false;
            history = Number((await c.query('select count(*) as n from pgbench_history')).rows[0].n);
            return true;
          } catch {
            return false;
          } finally {
            await c.end().catch(() => {});
          }
        },
        1800,
      );
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(pid, 'SIGINT');
      await exited;
      return history;
    };
    log(`restore to ${t.toISOString()}: resistro`);
    const ours = forPostgres(join(work, 'restored-resistro'));
    const r0 = Date.now();
    const restore = await run(
      process.execPath,
      [
        '--no-warnings',
        BUNDLE,
        'restore',
        '--pitr',
        '--from',
        db.id,
        '--data-dir',
        join(ours, 'data'),
        '--time',
        t.toISOString(),
      ],
      agentEnv,
    );
    if (restore.code !== 0) throw new Error(`resistro restore --pitr failed: ${restore.out}`);
    const r1 = Date.now();
    if (isRoot) execFileSync('chown', ['-R', 'postgres:postgres', ours]);
    const oursRows = await restoreTo(join(ours, 'data'), {
      ...process.env,
      RESISTRO_API_KEY: apiKey,
      RESISTRO_ENDPOINT: `${origin}/api`,
      RESISTRO_ENCRYPTION_KEY: encryptionKey,
      RESISTRO_LOG_FORMAT: 'text',
    });
    const r2 = Date.now();
    log('restore to T: plain pg_basebackup copy + cp');
    const theirs = forPostgres(join(work, 'restored-plain', 'data'));
    chmodSync(theirs, 0o700);
    const p0 = Date.now();
    execFileSync('tar', ['-xf', join(plainBase, 'base.tar'), '-C', theirs]);
    writeFileSync(
      join(theirs, 'postgresql.auto.conf'),
      `restore_command = 'cp ${archive}/%f %p'\nrecovery_target_time = '${t.toISOString().replace('T', ' ').replace('Z', '+00')}'\nrecovery_target_action = 'promote'\n`,
      { flag: 'a' },
    );
    writeFileSync(join(theirs, 'recovery.signal'), '');
    if (isRoot) execFileSync('chown', ['-R', 'postgres:postgres', theirs]);
    const p1 = Date.now();
    const theirRows = await restoreTo(theirs, process.env);
    const p2 = Date.now();

    const gb = (bytes: number) => bytes / 1024 ** 3;
    const mbps = (bytes: number, s: number) => `${(bytes / MB / s).toFixed(1)} MB/s`;
    const lagText = (l: number[]) =>
      `p50 ${(percentile(l, 50) / 1000).toFixed(1)} s, p99 ${(percentile(l, 99) / 1000).toFixed(1)} s, max ${(Math.max(...l) / 1000).toFixed(1)} s`;
    const ms = (l: number[]) =>
      l.length
        ? `p50 ${percentile(l, 50).toFixed(0)} ms, p99 ${percentile(l, 99).toFixed(0)} ms, max ${Math.max(...l).toFixed(0)} ms over ${l.length} segments`
        : 'no segments';
    const net = (p: Phase) => Math.max(0, p.agentCpu - idlePerSecond * p.storedSeconds);
    const s = (a: number, b: number) => `${((b - a) / 1000).toFixed(1)} s`;
    return [
      {
        metric: 'load',
        value: `pgbench -s ${opts.scale}, ${opts.clients} clients, no rate limit: ${stream.tps} tps (stream phase, ${opts.seconds} s), ${pushed.tps} tps (archive_command phase, ${opts.archiveSeconds} s)`,
        note: 'fsync and full-page writes on, synchronous_commit off',
      },
      {
        metric: 'stream: WAL written by the server',
        value: mbps(stream.written, stream.loadSeconds),
        note: `${(stream.written / MB).toFixed(0)} MB`,
      },
      {
        metric: 'stream: WAL in storage (agent)',
        value: mbps(stream.written, stream.storedSeconds),
        note: `all of it ${(stream.storedSeconds - stream.loadSeconds).toFixed(1)} s after the load ended`,
      },
      {
        metric: 'stream: lag written → in storage',
        value: lagText(stream.lags),
        note: `RPO target ${RPO_SECONDS} s: the open segment is uploaded every ${RPO_SECONDS / 4} s; ${stream.lags.length} samples`,
      },
      {
        metric: 'stream: CPU per GB of WAL',
        value: `agent ${(net(stream) / gb(stream.written)).toFixed(0)} s`,
        note: `pg_receivewal ${(stream.receiverCpu / gb(stream.written)).toFixed(0)} s; the agent's idle cost taken out: ${(idlePerSecond * 60).toFixed(1)} CPU-s per minute with a heartbeat every second`,
      },
      {
        metric: 'archive_command latency per segment',
        value: `resistro wal-push: ${ms(push.ms)}${push.failed ? `, ${push.failed} failed` : ''}`,
        note: `of it starting the program: ${percentile(starts, 50)} ms; plain cp + fsync: ${ms(plain.ms)}`,
      },
      {
        metric: 'archive_command: WAL written / in storage',
        value: `${mbps(pushed.written, pushed.loadSeconds)} / ${mbps(pushed.written, pushed.storedSeconds)}`,
        note: `${(pushed.written / MB).toFixed(0)} MB; all of it ${(pushed.storedSeconds - pushed.loadSeconds).toFixed(1)} s after the load ended`,
      },
      {
        metric: 'archive_command: lag written → in storage',
        value: lagText(pushed.lags),
        note: 'a segment leaves the server only when full (or at archive_timeout)',
      },
      {
        metric: 'archive_command: agent CPU per GB of WAL',
        value: `${(net(pushed) / gb(pushed.written)).toFixed(0)} s (idle cost taken out)`,
        note: 'plus a node start per segment for wal-push (in the latency above)',
      },
      {
        metric: `restore to T (${opts.seconds / 2} s into phase 1)`,
        value: `resistro ${s(r0, r2)} (restore --pitr ${s(r0, r1)}, recovery via wal-fetch ${s(r1, r2)}; ${oursRows} pgbench_history rows)`,
        note: `plain pg_basebackup tar + cp: ${s(p0, p2)} (untar ${s(p0, p1)}, recovery ${s(p1, p2)}; ${theirRows} rows)`,
      },
    ];
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    rmSync(shm, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' },
      'archive-seconds': { type: 'string', default: '30' },
      clients: { type: 'string', default: '2' },
      scale: { type: 'string', default: '10' },
    },
  });
  const rows = await benchPostgresWal({
    seconds: Number(values.seconds),
    archiveSeconds: Number(values['archive-seconds']),
    clients: Number(values.clients),
    scale: Number(values.scale),
  });
  const width = Math.max(...rows.map((r) => r.metric.length));
  process.stdout.write('PostgreSQL 15 WAL (point-in-time recovery)\n');
  for (const r of rows)
    process.stdout.write(`  ${r.metric.padEnd(width)}  ${r.value}${r.note ? `  (${r.note})` : ''}\n`);
}
