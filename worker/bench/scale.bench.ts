// `npm run bench:scale [-- --minutes N --agents N --databases N --backups N]`: the control plane at
// scale on this machine. The local stack (PostgreSQL, the Neon WebSocket proxy, the S3 server and
// the worker in workerd) holds 100,000 databases and 1,000,000 backup rows seeded straight into
// PostgreSQL; a few thousand simulated agents send real heartbeats (plain fetch with their
// account's API key) every 60 s like the agent daemon, and the cron handler runs once a minute.
// Prints per minute what each heartbeat and each cron job costs:
// - database connections, round trips and statements, counted at the WebSocket proxy from the
//   PostgreSQL protocol messages (a round trip is an exchange the client waits for: startup, and
//   each Sync or simple Query);
// - rows scanned and buffers, from EXPLAIN (ANALYZE, BUFFERS) of every statement (auto_explain),
//   assigned to cron jobs by the start and duration each job logs;
// - storage requests, counted at a forwarding proxy in front of the S3 server;
// - CPU time of the worker (workerd's processes) and of PostgreSQL (postmaster, backends and the
//   backends it reaped) from /proc, split into heartbeats (the part of each minute after the cron
//   run, divided by its heartbeats) and the cron run (the rest, less its window's heartbeats).
// Loopback only; stops by itself after --minutes (default 2).
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { applyMigrations } from '../../scripts/stack/migrate.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import { startPostgres } from '../../scripts/stack/postgres.ts';
import { startS3 } from '../../scripts/stack/s3.ts';
import { startSink } from '../../scripts/stack/sink.ts';
import { localWorkerVars } from '../../scripts/stack/stack.ts';
import { startWorker } from '../../scripts/stack/worker.ts';
import { startWsProxy } from '../../scripts/stack/ws-proxy.ts';
import {
  type ConnectionStats,
  cpuMeter,
  isRequestConnection,
  type PlanRecord,
  planReader,
  postgresCpuMeter,
  startS3Counter,
  wireCounter,
} from './scale/observe.ts';
import { type SimulatedAgent, seed } from './scale/seed.ts';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '2' },
    agents: { type: 'string', default: '2000' },
    databases: { type: 'string', default: '100000' },
    backups: { type: 'string', default: '1000000' },
  },
});
const MINUTES = Math.max(1, Number(args.minutes));
const AGENTS = Math.max(1, Number(args.agents));
const DATABASES = Math.max(10, Number(args.databases));
const BACKUPS = Math.max(DATABASES * 7, Number(args.backups));
const HEARTBEAT_MS = 60_000; // the agent daemon's interval (heartbeatIntervalSeconds)

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));
const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

const dataDir = join(ROOT, '.test-data', `bench-scale-${process.pid}`);
rmSync(dataDir, { recursive: true, force: true });
mkdirSync(dataDir, { recursive: true });
const stops: Array<() => Promise<void>> = [];

type Heartbeat = { startedAt: number; ms: number; ok: boolean };
type JobTiming = { job: string; startedAt: number; ms: number };
type MinuteRow = {
  minute: number;
  /** the window's length: a minute, or the cron run's length plus 10 s */
  windowS: number;
  /** false: auto_explain was off (no plans, CPU without its cost) */
  explained: boolean;
  heartbeats: number;
  errors: number;
  p50: number;
  p95: number;
  perHb: {
    connections: number;
    roundTrips: number;
    statements: number;
    rowsScanned: number;
    buffers: number;
    cpuMs: number;
    /** PostgreSQL CPU (all its processes) per heartbeat, same split as the worker's */
    pgCpuMs: number;
    /** median time a request's database connection stays open (proxy: open to close) */
    holdMs: number;
  };
  cron: {
    wallMs: number;
    cpuMs: number;
    pgCpuMs: number;
    connections: number;
    roundTrips: number;
    statements: number;
    jobs: Array<JobTiming & { statements: number; rowsScanned: number; buffers: number }>;
    unattributed: number;
  };
  storage: Record<string, number>;
  workerCpuMs: number;
  /** new workerd processes seen (wrangler restarts it): CPU of the old one's last interval is missing */
  workerRestarts: number;
  /** the worker's "Network connection lost" errors (database WebSockets) */
  connectionLost: number;
  requests: number;
};

try {
  // ---- PostgreSQL with auto_explain writing JSON plans to a JSON log (needs a restart to load)
  const pgDir = join(dataDir, 'postgres');
  const pgPort = await freePort();
  let pgServer = await startPostgres({ dir: pgDir, port: pgPort, fast: true });
  stops.unshift(() => pgServer.stop());
  {
    const c = new pg.Client({ connectionString: pgServer.url() });
    await c.connect();
    await c.query("load 'auto_explain'");
    for (const [k, v] of Object.entries({
      shared_preload_libraries: 'auto_explain',
      logging_collector: 'on',
      log_destination: 'jsonlog',
      log_directory: 'log',
      log_filename: 'postgresql.log',
      log_rotation_age: '0',
      log_rotation_size: '0',
      'auto_explain.log_min_duration': '0',
      'auto_explain.log_analyze': 'on',
      'auto_explain.log_buffers': 'on',
      'auto_explain.log_timing': 'off',
      'auto_explain.log_format': 'json',
    }))
      await c.query(`alter system set ${k} = '${v}'`);
    await c.end();
    await pgServer.stop();
    pgServer = await startPostgres({ dir: pgDir, port: pgPort, fast: true });
  }
  await pgServer.createDatabase('resistro');
  const databaseUrl = pgServer.url('resistro');
  await applyMigrations(databaseUrl);
  const readPlans = planReader(join(pgDir, 'log', 'postgresql.json'));

  // ---- seed (this session is not explained)
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  stops.unshift(() => client.end());
  await client.query('set auto_explain.log_min_duration = -1');
  const t0 = performance.now();
  const seeded = await seed(client, {
    databases: DATABASES,
    backups: BACKUPS,
    agents: AGENTS,
    minutes: MINUTES,
    now: new Date(),
  });
  const [{ size }] = (
    await client.query<{ size: string }>("select pg_size_pretty(pg_database_size('resistro')) as size")
  ).rows as [{ size: string }];
  console.log(
    `seeded ${fmt(seeded.accounts)} accounts (${Object.entries(seeded.plans)
      .map(([p, n]) => `${fmt(n)} ${p}`)
      .join(
        ', ',
      )}), ${fmt(seeded.agents)} agents, ${fmt(seeded.databases)} databases, ${fmt(seeded.backups)} backups ` +
      `in ${((performance.now() - t0) / 1000).toFixed(1)} s (database ${size}); ${fmt(seeded.simulated.length)} agents simulated, ` +
      `${fmt(seeded.expiring)} backups expire during the run`,
  );
  await readPlans(); // skip what the start-up logged

  // ---- the rest of the stack, with counters where the traffic passes
  const connections: ConnectionStats[] = [];
  const proxy = await startWsProxy({
    port: await freePort(),
    pgHost: '127.0.0.1',
    pgPort,
    tap: wireCounter((c) => connections.push(c)),
  });
  stops.unshift(() => proxy.stop());
  const bucket = 'resistro-backups';
  const s3Port = await freePort();
  const s3 = await startS3({ dir: join(dataDir, 's3'), port: s3Port, bucket });
  stops.unshift(() => s3.stop());
  const s3Counter = await startS3Counter({ host: '127.0.0.1', port: s3Port });
  stops.unshift(() => s3Counter.stop());
  const sink = await startSink({ port: await freePort(), certDir: join(dataDir, 'sink-certs') });
  stops.unshift(() => sink.stop());
  const workerPort = await freePort();
  const url = `http://127.0.0.1:${workerPort}`;
  const timings: JobTiming[][] = [];
  const workerErrors = { lost: 0 };
  let pendingOut = '';
  // A private dev registry: wrangler reloads its local server whenever another `wrangler dev` on
  // the machine registers or leaves the shared one (other test runs here do, often), and a reload
  // under load leaves the old process's connections open.
  process.env.WRANGLER_REGISTRY_PATH = join(dataDir, 'wrangler-registry');
  const worker = await startWorker({
    port: workerPort,
    persistDir: join(dataDir, 'wrangler'),
    logLevel: 'log',
    vars: localWorkerVars({
      databaseUrl,
      wsProxyPort: proxy.port,
      s3Url: s3Counter.url,
      bucket,
      url,
      sinkUrl: sink.url,
    }),
    log: (s) => {
      const lines = (pendingOut + s).split('\n');
      pendingOut = lines.pop() ?? '';
      for (const line of lines) {
        const m = line.match(/\{"cron":"timings".*\}/);
        if (m) timings.push((JSON.parse(m[0]) as { jobs: JobTiming[] }).jobs);
        else if (/Network connection lost/.test(line)) workerErrors.lost++;
        else if (/ERROR|failed|restart|reload/i.test(line))
          console.log(`  worker: ${line.trim().slice(0, 300)}`);
      }
    },
  });
  stops.unshift(() => worker.stop());

  // ---- the worker's CPU floor: idle, and a request that does not touch the database
  const cpu = cpuMeter('workerd');
  await new Promise((r) => setTimeout(r, 3000));
  cpu.take();
  await new Promise((r) => setTimeout(r, 10_000));
  const idleMsPerS = cpu.take() / 10;
  const HEALTH = 300;
  let healthNext = 0;
  const healthStart = Date.now();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (healthNext++ < HEALTH) await (await fetch(`${url}/api/v1/health`)).text();
    }),
  );
  const healthMs = (cpu.take() - (idleMsPerS * (Date.now() - healthStart)) / 1000) / HEALTH;
  console.log(
    `workerd CPU: idle ${fmt(idleMsPerS, 2)} ms/s; ${fmt(healthMs, 2)} ms per GET /api/v1/health (no database; the floor of any request here)`,
  );

  const pgCpu = postgresCpuMeter(Number(readFileSync(join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]));
  // PostgreSQL's cost of a connection alone (a backend started, authenticated and ended): what a
  // pooler in front of the server saves per request
  const CONNECTS = 200;
  pgCpu.take();
  for (let i = 0; i < CONNECTS; i++) {
    const c = new pg.Client({ connectionString: databaseUrl });
    await c.connect();
    await c.end();
  }
  console.log(
    `PostgreSQL CPU: ${fmt(pgCpu.take() / CONNECTS, 2)} ms per connection (connect and end, no statement)`,
  );

  // ---- simulated agents: each sends its heartbeat every 60 s, phases spread over the minute
  const heartbeats: Heartbeat[] = [];
  let firstError = '';
  const start = Math.ceil((Date.now() + 2000) / 1000) * 1000;
  let running = true; // the simulator stops when the last window ends
  const inFlight = new Set<Promise<void>>();
  const body = (a: SimulatedAgent) =>
    JSON.stringify({
      hostname: a.hostname,
      os: 'Debian GNU/Linux 12 (bookworm)',
      version: '1.0.0',
      tools: [
        { name: 'pg_dump', version: '15.8', path: '/usr/bin/pg_dump' },
        { name: 'psql', version: '15.8', path: '/usr/bin/psql' },
        { name: 'zstd', version: '1.5.4', path: '/usr/bin/zstd' },
      ],
      publicKey: a.publicKey,
    });
  const send = async (a: SimulatedAgent) => {
    const startedAt = Date.now();
    let ok = false;
    try {
      const res = await fetch(`${url}/api/v1/agent/heartbeat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${a.apiKey}`, 'content-type': 'application/json' },
        body: body(a),
      });
      const text = await res.text();
      ok = res.ok;
      if (!ok && !firstError) firstError = `${res.status} ${text.slice(0, 300)}`;
    } catch (e) {
      if (!firstError) firstError = String(e);
    }
    heartbeats.push({ startedAt, ms: Date.now() - startedAt, ok });
  };
  seeded.simulated.forEach((a, i) => {
    let at = start + Math.floor((i * HEARTBEAT_MS) / seeded.simulated.length);
    const tick = () => {
      if (!running) return;
      const p = send(a).finally(() => inFlight.delete(p));
      inFlight.add(p);
      at += HEARTBEAT_MS;
      setTimeout(tick, Math.max(0, at - Date.now()));
    };
    setTimeout(tick, Math.max(0, at - Date.now()));
  });

  // ---- minute by minute: the cron run first, then heartbeats only
  const rows: MinuteRow[] = [];
  const sessionKind = new Map<string, 'request' | 'cron'>();
  const plans: Array<PlanRecord & { kind: 'request' | 'cron' }> = [];
  const collectPlans = async () => {
    for (const p of await readPlans()) {
      let kind = sessionKind.get(p.session);
      if (!kind) {
        kind = isRequestConnection(p.query) ? 'request' : 'cron';
        sessionKind.set(p.session, kind);
      }
      plans.push({ ...p, kind });
    }
  };
  cpu.take();
  console.log(
    `\n${fmt(seeded.simulated.length)} agents heartbeating every 60 s against ${url}; cron once a minute; ${MINUTES} minute(s)\n`,
  );
  // A window per cron run: at least a minute, longer when the run itself takes longer (then
  // heartbeats go on for 10 s after it, for the CPU split).
  let from = start;
  for (let m = 0; m < MINUTES; m++) {
    // The last of three or more minutes runs without auto_explain: its CPU figures are free of
    // EXPLAIN ANALYZE's instrumentation and logging (and it has no rows-scanned figures).
    const explained = !(MINUTES >= 3 && m === MINUTES - 1);
    if (!explained) {
      await client.query("alter system set auto_explain.log_min_duration = '-1'");
      await client.query('select pg_reload_conf()');
    }
    await sleepUntil(from);
    // agents the simulator does not run stay online (a direct connection, outside the counts)
    await client.query('update agents set last_seen_at = now() where id = any($1::uuid[])', [
      seeded.idleAgentIds,
    ]);
    const cpuBefore = cpu.take(); // since the last minute's end
    pgCpu.take();
    const restartsBefore = cpu.restarts;
    const lostBefore = workerErrors.lost;
    const cronStart = Date.now();
    const r = await fetch(
      `${url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent('* * * * *')}&time=${cronStart}`,
    );
    const cronText = await r.text();
    if (!r.ok) console.log(`  cron run failed: ${r.status} ${cronText.slice(0, 500)}`);
    const cronEnd = Date.now();
    const cpuCron = cpu.take();
    const pgCron = pgCpu.take();
    const to = Math.max(from + 60_000, cronEnd + 10_000);
    await sleepUntil(to);
    if (m === MINUTES - 1) {
      running = false;
      await Promise.allSettled([...inFlight]);
    }
    await new Promise((r) => setTimeout(r, 1500)); // closes and log lines of the minute's last requests
    const cpuAfter = cpu.take();
    const pgAfter = pgCpu.take();
    const windowEnd = Date.now();
    await collectPlans();

    const hbs = heartbeats.filter((h) => h.startedAt >= from && h.startedAt < windowEnd);
    const afterCron = hbs.filter((h) => h.startedAt >= cronEnd).length;
    const duringCron = hbs.filter((h) => h.startedAt < cronEnd).length;
    const hbCpu = afterCron > 0 ? cpuAfter / afterCron : 0;
    const hbPg = afterCron > 0 ? pgAfter / afterCron : 0;
    const conns = connections.splice(0);
    const req = conns.filter((c) => isRequestConnection(c.firstQuery));
    const cron = conns.filter((c) => !isRequestConnection(c.firstQuery));
    const sum = (xs: ConnectionStats[], k: 'roundTrips' | 'statements') => xs.reduce((n, c) => n + c[k], 0);
    const holdMs = pct(
      req.map((c) => c.closedAt - c.openedAt),
      50,
    );
    const minutePlans = plans.splice(0);
    const reqPlans = minutePlans.filter((p) => p.kind === 'request');
    const cronPlans = minutePlans.filter((p) => p.kind === 'cron');
    const run = timings.shift() ?? [];
    const jobs = run.map((j) => ({ ...j, statements: 0, rowsScanned: 0, buffers: 0 }));
    let unattributed = 0;
    for (const p of cronPlans) {
      // a plan is logged when its statement ends, before the worker sees the result
      const job = [...jobs].reverse().find((j) => p.at >= j.startedAt - 1 && p.at <= j.startedAt + j.ms + 1);
      if (!job) {
        unattributed++;
        continue;
      }
      job.statements++;
      job.rowsScanned += p.rowsScanned;
      job.buffers += p.buffers;
    }
    const n = Math.max(1, hbs.length);
    const row: MinuteRow = {
      minute: m + 1,
      windowS: Math.round((windowEnd - from) / 1000),
      explained,
      heartbeats: hbs.length,
      errors: hbs.filter((h) => !h.ok).length,
      p50: pct(
        hbs.map((h) => h.ms),
        50,
      ),
      p95: pct(
        hbs.map((h) => h.ms),
        95,
      ),
      perHb: {
        connections: req.length / n,
        roundTrips: sum(req, 'roundTrips') / Math.max(1, req.length),
        statements: sum(req, 'statements') / Math.max(1, req.length),
        rowsScanned: reqPlans.reduce((s, p) => s + p.rowsScanned, 0) / n,
        buffers: reqPlans.reduce((s, p) => s + p.buffers, 0) / n,
        cpuMs: hbCpu,
        pgCpuMs: hbPg,
        holdMs,
      },
      cron: {
        wallMs: cronEnd - cronStart,
        cpuMs: Math.max(0, cpuCron - duringCron * hbCpu),
        pgCpuMs: Math.max(0, pgCron - duringCron * hbPg),
        connections: cron.length,
        roundTrips: sum(cron, 'roundTrips'),
        statements: sum(cron, 'statements'),
        jobs,
        unattributed,
      },
      storage: s3Counter.take(),
      workerCpuMs: cpuBefore + cpuCron + cpuAfter,
      workerRestarts: cpu.restarts - restartsBefore,
      connectionLost: workerErrors.lost - lostBefore,
      requests: hbs.length + 1,
    };
    rows.push(row);
    const storage = Object.entries(row.storage);
    console.log(
      `minute ${row.minute} (window ${row.windowS} s): ${fmt(row.heartbeats)} heartbeats (${row.errors} errors, p50 ${row.p50} ms, p95 ${row.p95} ms); ` +
        `per heartbeat ${fmt(row.perHb.connections, 2)} connections, ${fmt(row.perHb.roundTrips, 2)} round trips, ` +
        `${fmt(row.perHb.statements, 2)} statements, ${explained ? `${fmt(row.perHb.rowsScanned, 1)} rows scanned, ${fmt(row.perHb.buffers, 1)} buffers` : 'no EXPLAIN this minute'}, ` +
        `${fmt(row.perHb.cpuMs, 2)} ms worker CPU, ${fmt(row.perHb.pgCpuMs, 2)} ms PostgreSQL CPU, connection open ${fmt(row.perHb.holdMs)} ms (median)\n` +
        `  cron: ${fmt(row.cron.wallMs)} ms wall, ~${fmt(row.cron.cpuMs)} ms worker CPU, ~${fmt(row.cron.pgCpuMs)} ms PostgreSQL CPU, ${row.cron.connections} connections, ` +
        `${fmt(row.cron.roundTrips)} round trips, ${fmt(row.cron.statements)} statements; storage requests: ` +
        `${storage.length ? storage.map(([k, v]) => `${k} ${v}`).join(', ') : 'none'}; worker CPU this minute ${fmt(row.workerCpuMs)} ms ` +
        `(${fmt(row.workerCpuMs / row.requests, 2)} ms per request)` +
        (row.workerRestarts ? `; workerd restarted ${row.workerRestarts} time(s)` : '') +
        (row.connectionLost ? `; ${row.connectionLost} "Network connection lost" errors in the worker` : ''),
    );
    for (const j of row.cron.jobs)
      console.log(
        `    ${j.job.padEnd(26)} ${fmt(j.ms).padStart(7)} ms` +
          (explained
            ? ` ${fmt(j.statements).padStart(6)} statements ${fmt(j.rowsScanned).padStart(11)} rows scanned ${fmt(j.buffers).padStart(9)} buffers`
            : ''),
      );
    if (row.cron.unattributed)
      console.log(`    (${row.cron.unattributed} cron statements outside every job's time)`);
    from = windowEnd;
  }
  if (firstError) console.log(`first heartbeat error: ${firstError}`);

  // ---- the table
  console.log('\nper minute (heartbeat columns are per heartbeat; cron columns per run)');
  console.log(
    'min  heartbeats  p50 ms  conn  round trips  statements  rows scanned  worker CPU ms  PG CPU ms | cron ms  cron CPU ms  cron PG CPU ms  cron round trips  storage requests',
  );
  for (const r of rows)
    console.log(
      `${String(r.minute).padStart(3)}  ${fmt(r.heartbeats).padStart(10)}  ${String(r.p50).padStart(6)}  ${fmt(r.perHb.connections, 2).padStart(4)}  ${fmt(r.perHb.roundTrips, 2).padStart(11)}  ${fmt(r.perHb.statements, 2).padStart(10)}  ${(r.explained ? fmt(r.perHb.rowsScanned, 1) : '-').padStart(12)}  ${fmt(r.perHb.cpuMs, 2).padStart(13)}  ${fmt(r.perHb.pgCpuMs, 2).padStart(9)} | ${fmt(r.cron.wallMs).padStart(7)}  ${fmt(r.cron.cpuMs).padStart(11)}  ${fmt(r.cron.pgCpuMs).padStart(14)}  ${fmt(r.cron.roundTrips).padStart(16)}  ${fmt(Object.values(r.storage).reduce((a, b) => a + b, 0)).padStart(16)}`,
    );
  console.log('\ncron jobs per minute: ms / statements / rows scanned');
  const names = rows[0]?.cron.jobs.map((j) => j.job) ?? [];
  console.log(`${'job'.padEnd(26)} ${rows.map((r) => `min ${r.minute}`.padStart(24)).join(' ')}`);
  for (const name of names)
    console.log(
      `${name.padEnd(26)} ${rows
        .map((r) => {
          const j = r.cron.jobs.find((x) => x.job === name);
          const plans = r.explained ? `${fmt(j?.statements ?? 0)} / ${fmt(j?.rowsScanned ?? 0)}` : '- / -';
          return (j ? `${fmt(j.ms)} / ${plans}` : '-').padStart(24);
        })
        .join(' ')}`,
    );
  if (rows.some((r) => r.errors > 0)) process.exitCode = 1;
} finally {
  for (const stop of stops) await stop().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
}
