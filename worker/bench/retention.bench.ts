// `npm run bench:retention`: the retention job over 100,000 backup rows, each with a real object in
// the signature-checking S3 server, on a local PostgreSQL reached through the Neon driver and its
// WebSocket proxy (as the worker does). Runs the job exactly as the cron does (same bounds per
// run) until nothing is left to delete, prints per run the rows deleted, wall time, storage
// requests and time, and database time, then checks the result against an independent model of
// the policy: the right rows and objects are gone, and the usage is exact.
//
// `-- --tiers`: the same 100,000 backups under a grandfather-father-son rule on every database
// (7 daily, 4 weekly, 12 monthly), checked against a model of the tiers computed from the seeded
// rows themselves (which backups must survive, by id). Both modes print the same figures, so the
// two runs compare side by side.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AwsClient } from 'aws4fetch';
import pg from 'pg';
import { applyMigrations } from '../../scripts/stack/migrate.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import { startPostgres } from '../../scripts/stack/postgres.ts';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, startS3 } from '../../scripts/stack/s3.ts';
import { startWsProxy } from '../../scripts/stack/ws-proxy.ts';
import { createDb } from '../src/db.ts';
import { parseConfig } from '../src/env.ts';
import { applyRetention } from '../src/retention/retention.ts';
import { createS3Storage } from '../src/storage/s3.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DATABASES = 200;
const PER_DATABASE = 500; // 200 × 500 = 100,000 backups
const FAILING = 5; // databases whose newest backup failed: their good backups are kept
const TIERED = process.argv.includes('--tiers');
const TIERS = { daily: 7, weekly: 4, monthly: 12, yearly: 0 };
// a deleted database: its backups expire, the last one included (days mode only: the tier model
// covers living databases, as the tier test does)
const DELETED = TIERED ? 0 : 1;
const RETENTION_DAYS = 7;
const SPAN_DAYS = 60; // backup g (1 = newest) started g × 60/500 days ago
const OBJECT_SIZE = 256;
const PUT_CONCURRENCY = 64;

const ageDays = (g: number) => (g * SPAN_DAYS) / PER_DATABASE;
const isFailedRow = (db: number, g: number) => g % 50 === 0 || (db < FAILING && g === 1);

/** The policy, written out independently of the SQL: which rows must survive. */
function expectedSurvivors(): { rows: number; bytes: number } {
  let rows = 0;
  let bytes = 0;
  for (let db = 0; db < DATABASES; db++) {
    const failing = db < FAILING;
    const deleted = db >= DATABASES - DELETED;
    let newestSuccessSeen = false;
    for (let g = 1; g <= PER_DATABASE; g++) {
      const failed = isFailedRow(db, g);
      const expired = ageDays(g) > RETENTION_DAYS;
      let keep = !expired;
      if (expired && !failed && !deleted && (!newestSuccessSeen || failing)) keep = true;
      if (!failed) newestSuccessSeen = true;
      if (keep) {
        rows++;
        if (!failed) bytes += OBJECT_SIZE;
      }
    }
  }
  return { rows, bytes };
}

const DAY_MS = 86_400_000;
/** The period a moment falls in, in UTC (the seeded account's time zone): ISO weeks from Monday. */
function periodIndex(at: Date, unit: 'day' | 'week' | 'month' | 'year'): number {
  const days = Math.floor(at.getTime() / DAY_MS);
  if (unit === 'day') return days;
  if (unit === 'week') return Math.floor((days + 3) / 7); // 1970-01-01 was a Thursday
  if (unit === 'month') return at.getUTCFullYear() * 12 + at.getUTCMonth();
  return at.getUTCFullYear();
}

type Row = { id: string; database_id: string; status: string; started_at: Date; size_bytes: string | null };
/**
 * The tier policy written out independently of the SQL (docs/alerts-retention.md): per database,
 * the newest good backup always; every good backup while the database is failing; otherwise a good
 * backup that is the first good one of its day/week/month within the last N of them; failed
 * backups for the daily tier's days; nothing past the plan's 365 days.
 */
function tierSurvivors(rows: Row[], now: Date): { ids: Set<string>; bytes: number } {
  const byDatabase = new Map<string, Row[]>();
  for (const r of rows) byDatabase.set(r.database_id, [...(byDatabase.get(r.database_id) ?? []), r]);
  const ids = new Set<string>();
  let bytes = 0;
  for (const list of byDatabase.values()) {
    const sorted = list.sort(
      (a, b) => a.started_at.getTime() - b.started_at.getTime() || (a.id < b.id ? -1 : 1),
    );
    const good = sorted.filter((r) => r.status === 'succeeded');
    const newestGood = good.at(-1);
    const failing = sorted.at(-1)?.status === 'failed';
    const firstOf = new Map<string, Row>();
    for (const g of good) {
      for (const unit of ['day', 'week', 'month', 'year'] as const) {
        const key = `${unit}:${periodIndex(g.started_at, unit)}`;
        if (!firstOf.has(key)) firstOf.set(key, g);
      }
    }
    for (const r of sorted) {
      const age = now.getTime() - r.started_at.getTime();
      let keep = false;
      if (r.status === 'failed') keep = age <= Math.max(1, TIERS.daily) * DAY_MS;
      else if (r === newestGood || failing) keep = true;
      else if (age <= 365 * DAY_MS) {
        for (const [unit, n] of [
          ['day', TIERS.daily],
          ['week', TIERS.weekly],
          ['month', TIERS.monthly],
          ['year', TIERS.yearly],
        ] as const) {
          if (n === 0) continue;
          const p = periodIndex(r.started_at, unit);
          if (firstOf.get(`${unit}:${p}`) === r && p > periodIndex(now, unit) - n) keep = true;
        }
      }
      if (keep) {
        ids.add(r.id);
        if (r.status === 'succeeded') bytes += Number(r.size_bytes);
      }
    }
  }
  return { ids, bytes };
}

async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

const fmt = (n: number) => n.toLocaleString('en-US');
const dataDir = join(ROOT, '.test-data', `bench-retention-${process.pid}`);
rmSync(dataDir, { recursive: true, force: true });
mkdirSync(dataDir, { recursive: true });
const stops: Array<() => Promise<void>> = [];

try {
  const pgServer = await startPostgres({
    dir: join(dataDir, 'postgres'),
    port: await freePort(),
    fast: true,
  });
  stops.unshift(() => pgServer.stop());
  await pgServer.createDatabase('resistro');
  const databaseUrl = pgServer.url('resistro');
  await applyMigrations(databaseUrl);
  const proxy = await startWsProxy({ port: await freePort(), pgHost: '127.0.0.1', pgPort: pgServer.port });
  stops.unshift(() => proxy.stop());
  const bucket = 'resistro-backups';
  const s3 = await startS3({ dir: join(dataDir, 's3'), port: await freePort(), bucket });
  stops.unshift(() => s3.stop());

  // ---- seed: one account, 200 databases, 100,000 backup rows, 100,000 objects ----
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  stops.unshift(() => client.end());
  const t0 = performance.now();
  const [account] = (await client.query("insert into accounts (plan) values ('enterprise') returning id"))
    .rows;
  const [agent] = (
    await client.query(
      "insert into agents (account_id, hostname, os, version, tools, public_key) values ($1, 'bench', 'linux', '1', '[]', 'k') returning id",
      [account.id],
    )
  ).rows;
  await client.query(
    `insert into databases (account_id, agent_id, name, engine, host, port, database_name, username, credentials_mode, schedule, retention_days, deleted_at)
     select $1, $2, 'db-' || lpad(i::text, 3, '0'), 'postgres', 'h', 5432, 'd', 'u', 'local', '{"kind":"daily","time":"02:00","timezone":"UTC"}', $3,
            case when i >= $4 then now() end
     from generate_series(0, $5 - 1) i`,
    [account.id, agent.id, RETENTION_DAYS, DATABASES - DELETED, DATABASES],
  );
  const failed = `(x.g % 50 = 0 or (x.name < 'db-' || lpad($4::text, 3, '0') and x.g = 1))`;
  await client.query(
    `insert into backups (id, account_id, database_id, database_name, status, trigger, object_key, part_size, size_bytes, started_at, finished_at, duration_ms, deadline_at)
     select x.id, $1::uuid, x.database_id, x.name, case when ${failed} then 'failed' else 'succeeded' end, 'schedule',
            'accounts/' || $1::text || '/databases/' || x.database_id || '/' || x.id || '.resistro', 8388608,
            case when ${failed} then null else $2::bigint end,
            now() - make_interval(secs => x.g * $3::double precision * 86400 / $5::int), now(), 1000, now()
     from (select gen_random_uuid() as id, d.id as database_id, d.name, g
           from databases d cross join generate_series(1, $5::int) g) x`,
    [account.id, OBJECT_SIZE, SPAN_DAYS, FAILING, PER_DATABASE],
  );
  await client.query(
    "update accounts set storage_used_bytes = (select coalesce(sum(size_bytes), 0) from backups where status = 'succeeded') where id = $1",
    [account.id],
  );
  if (TIERED) {
    await client.query(
      `insert into retention_rules (database_id, account_id, tiers)
       select id, account_id, $2::jsonb from databases where account_id = $1`,
      [account.id, JSON.stringify(TIERS)],
    );
  }
  const keys = (await client.query<{ object_key: string }>('select object_key from backups')).rows.map(
    (r) => r.object_key,
  );
  const seeded = TIERED
    ? (await client.query<Row>('select id, database_id, status, started_at, size_bytes from backups')).rows
    : [];
  const rowsMs = performance.now() - t0;
  const aws = new AwsClient({
    accessKeyId: S3_ACCESS_KEY_ID,
    secretAccessKey: S3_SECRET_ACCESS_KEY,
    service: 's3',
    region: 'us-east-1',
  });
  const body = new Uint8Array(OBJECT_SIZE);
  const t1 = performance.now();
  await inParallel(keys, PUT_CONCURRENCY, async (key) => {
    const res = await aws.fetch(`${s3.url}/${bucket}/${key}`, { method: 'PUT', body });
    if (!res.ok) throw new Error(`PUT ${key}: ${res.status} ${await res.text()}`);
  });
  console.log(
    `seeded ${fmt(keys.length)} backup rows over ${DATABASES} databases in ${(rowsMs / 1000).toFixed(1)} s and ${fmt(keys.length)} objects (${OBJECT_SIZE} B, signed PUTs, ${PUT_CONCURRENCY} in parallel) in ${((performance.now() - t1) / 1000).toFixed(1)} s`,
  );

  // ---- the job, run after run, with the cron's bounds ----
  const config = parseConfig({
    DATABASE_URL: databaseUrl,
    NEON_WS_PROXY: `127.0.0.1:${proxy.port}`,
    S3_ENDPOINT: s3.url,
    S3_REGION: 'us-east-1',
    S3_BUCKET: bucket,
    S3_ACCESS_KEY_ID,
    S3_SECRET_ACCESS_KEY,
  });
  const { db, close } = createDb(config);
  stops.unshift(() => close());
  const store = createS3Storage(config.s3);
  const now = new Date();
  console.log(
    TIERED
      ? `\nrule: tiers ${TIERS.daily} daily / ${TIERS.weekly} weekly / ${TIERS.monthly} monthly on every database`
      : `\nrule: ${RETENTION_DAYS} days on every database`,
  );
  console.log('\nrun  deleted  batches  wall ms  storage req  storage ms  db ms');
  const totals = { deleted: 0, wallMs: 0, storageRequests: 0, storageMs: 0, dbMs: 0, runs: 0 };
  for (;;) {
    const s = await applyRetention(db, store, now);
    totals.runs++;
    for (const k of ['deleted', 'wallMs', 'storageRequests', 'storageMs', 'dbMs'] as const) totals[k] += s[k];
    console.log(
      `${String(totals.runs).padStart(3)}  ${fmt(s.deleted).padStart(7)}  ${String(s.batches).padStart(7)}  ${fmt(s.wallMs).padStart(7)}  ${String(s.storageRequests).padStart(11)}  ${fmt(s.storageMs).padStart(10)}  ${fmt(s.dbMs).padStart(5)}`,
    );
    if (s.deleted === 0) break;
  }
  console.log(
    `\ntotal: ${fmt(totals.deleted)} backups deleted in ${totals.runs} runs, ${(totals.wallMs / 1000).toFixed(1)} s ` +
      `(${fmt(Math.round(totals.deleted / (totals.wallMs / 1000)))} backups/s); ${fmt(totals.storageRequests)} storage requests ` +
      `(${(totals.storageMs / 1000).toFixed(1)} s), database ${(totals.dbMs / 1000).toFixed(1)} s; ` +
      `per full run of 10 batches ≈ ${fmt(Math.round(totals.wallMs / Math.max(1, totals.runs - 1)))} ms`,
  );

  // ---- check against the model ----
  const model = TIERED ? tierSurvivors(seeded, now) : undefined;
  const want = model ? { rows: model.ids.size, bytes: model.bytes } : expectedSurvivors();
  // In tiers mode the survivors are compared by id, not only by count.
  const sameIds = model
    ? (await client.query<{ id: string }>('select id from backups')).rows.every((r) => model.ids.has(r.id))
    : true;
  const [left] = (
    await client.query(
      "select count(*)::int as n, coalesce(sum(size_bytes) filter (where status = 'succeeded'), 0)::bigint as bytes from backups",
    )
  ).rows;
  const [usage] = (
    await client.query('select storage_used_bytes as n from accounts where id = $1', [account.id])
  ).rows;
  // ListObjects v1 paged by marker (the local S3 server cannot make v2 continuation tokens).
  let objects = 0;
  let marker = '';
  for (;;) {
    const page = await store.listKeys(`accounts/${account.id}/`, 1000, marker);
    objects += page.keys.length;
    if (!page.truncated || page.keys.length === 0) break;
    marker = page.keys.at(-1)!;
  }
  const ok =
    sameIds &&
    left.n === want.rows &&
    objects === want.rows &&
    Number(usage.n) === want.bytes &&
    Number(left.bytes) === want.bytes;
  console.log(
    `check: ${fmt(left.n)} rows and ${fmt(objects)} objects left (model: ${fmt(want.rows)}), usage ${fmt(Number(usage.n))} B (model: ${fmt(want.bytes)} B): ${ok ? 'OK' : 'MISMATCH'}`,
  );
  if (!ok) process.exitCode = 1;
} finally {
  for (const stop of stops) await stop().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
}
