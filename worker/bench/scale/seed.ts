// The scale bench's data, written straight into PostgreSQL with set-based INSERTs: accounts whose
// sizes follow a heavy tail (most have one or two databases, a few have hundreds), one agent per
// five databases, daily backups within each database's retention, and the rare states the cron
// jobs exist for (failing databases, abandoned uploads, cancelled accounts, backups that expire
// during the run). Nothing is due during the run: no schedule fires, no agent goes silent.
import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';

export type SimulatedAgent = { apiKey: string; publicKey: string; hostname: string; databases: number };
export type Seeded = {
  accounts: number;
  agents: number;
  databases: number;
  backups: number;
  simulated: SimulatedAgent[];
  /** agents the simulator does not run: the bench refreshes their last_seen_at once a minute */
  idleAgentIds: string[];
  /** backups that cross their retention during the run (the steady daily flow, per minute) */
  expiring: number;
  plans: Record<string, number>;
};

const GiB = 1024 ** 3;
const PLAN: Record<string, { retention: number; quota: number }> = {
  starter: { retention: 7, quota: 5 * GiB },
  business: { retention: 14, quota: 50 * GiB },
  professional: { retention: 30, quota: 250 * GiB },
  enterprise: { retention: 30, quota: 1000 * GiB },
};

/** Deterministic PRNG (mulberry32): the same data every run. */
function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const base64url = (b: Buffer) =>
  b.toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
export const agentPublicKey = (i: number) =>
  base64url(createHash('sha256').update(`scale-agent-${i}`).digest());
export const accountApiKey = (i: number) =>
  `rsk_scale${createHash('sha256').update(`key-${i}`).digest('hex')}`;

/**
 * Databases per account: Pareto (alpha 1.1), scaled so they sum to `total`: about half the
 * accounts have one database, a few hundred, the largest 2 % of the total.
 */
function accountSizes(accounts: number, total: number, random: () => number): number[] {
  const w = Array.from({ length: accounts }, () => random() ** (-1 / 1.1));
  const cap = Math.max(1, Math.floor(total / 50));
  const sizes = (k: number) => w.map((x) => Math.min(cap, Math.max(1, Math.floor(x * k))));
  let lo = 0;
  let hi = total;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (sizes(mid).reduce((a, b) => a + b, 0) < total) lo = mid;
    else hi = mid;
  }
  const s = sizes(hi);
  let diff = total - s.reduce((a, b) => a + b, 0);
  const order = s.map((_, i) => i).sort((a, b) => s[b]! - s[a]!);
  for (let i = 0; diff !== 0; i = (i + 1) % order.length) {
    const j = order[i]!;
    if (diff > 0) {
      s[j]!++;
      diff--;
    } else if (s[j]! > 1) {
      s[j]!--;
      diff++;
    }
  }
  return s;
}

export async function seed(
  client: pg.Client,
  opts: { databases: number; backups: number; agents: number; minutes: number; now: Date },
): Promise<Seeded> {
  const random = rng(20261202);
  const D = opts.databases;
  const A = Math.max(1, Math.round(D / 10));
  const now = new Date(Math.floor(opts.now.getTime() / 60_000) * 60_000);
  const sizes = accountSizes(A, D, random);
  const plans: Record<string, number> = {};

  // ---- accounts
  const acc = {
    id: [] as string[],
    plan: [] as string[],
    email: [] as string[],
    cancelledAt: [] as (string | null)[],
    deleteAfter: [] as (string | null)[],
    usage: [] as number[],
  };
  let purgeDue = 2; // accounts whose 30 days after cancellation are over: purged in the first minute
  for (let a = 0; a < A; a++) {
    const n = sizes[a]!;
    const plan =
      n === 1
        ? random() < 0.7
          ? 'starter'
          : 'business'
        : n <= 5
          ? 'business'
          : n <= 25
            ? 'professional'
            : 'enterprise';
    plans[plan] = (plans[plan] ?? 0) + 1;
    acc.id.push(randomUUID());
    acc.plan.push(plan);
    acc.email.push(`owner-${a}@example.test`);
    let cancelled: number | null = null;
    let deleteAfter: number | null = null;
    if (n <= 3 && purgeDue > 0 && a % 97 === 5) {
      purgeDue--;
      cancelled = now.getTime() - 31 * 86400_000;
      deleteAfter = now.getTime() - 86400_000;
    } else if (random() < 0.01) {
      cancelled = now.getTime() - Math.floor(random() * 29 * 86400_000);
      deleteAfter = cancelled + 30 * 86400_000;
    }
    acc.cancelledAt.push(cancelled === null ? null : new Date(cancelled).toISOString());
    acc.deleteAfter.push(deleteAfter === null ? null : new Date(deleteAfter).toISOString());
    acc.usage.push(random() < 0.02 ? 0.85 : 0.1 + 0.5 * random());
  }

  // ---- agents: one per five databases of an account
  const ag = { id: [] as string[], account: [] as string[], key: [] as string[], host: [] as string[] };
  const agentsOf: number[][] = [];
  for (let a = 0; a < A; a++) {
    const list: number[] = [];
    for (let k = 0; k < Math.ceil(sizes[a]! / 5); k++) {
      const i = ag.id.length;
      ag.id.push(randomUUID());
      ag.account.push(acc.id[a]!);
      ag.key.push(agentPublicKey(i));
      ag.host.push(`host-${i}.example.test`);
      list.push(i);
    }
    agentsOf.push(list);
  }

  // ---- databases
  const db = {
    id: [] as string[],
    account: [] as string[],
    agent: [] as string[],
    name: [] as string[],
    engine: [] as string[],
    schedule: [] as string[],
    retention: [] as number[],
    n: [] as number[],
    phase: [] as number[],
    size: [] as number[],
    failing: [] as boolean[],
    expireMin: [] as (number | null)[],
    deletedAt: [] as (string | null)[],
    running: [] as number[], // 0 none, 1 in progress, 2 abandoned (deadline passed)
  };
  const dbAgent: number[] = [];
  for (let a = 0; a < A; a++) {
    const plan = PLAN[acc.plan[a]!]!;
    for (let j = 0; j < sizes[a]!; j++) {
      const agent = agentsOf[a]![j % agentsOf[a]!.length]!;
      dbAgent.push(agent);
      db.id.push(randomUUID());
      db.account.push(acc.id[a]!);
      db.agent.push(ag.id[agent]!);
      db.name.push(`db-${j}`);
      const e = random();
      db.engine.push(e < 0.7 ? 'postgres' : e < 0.9 ? 'mysql' : 'mariadb');
      // minutes since the schedule last fired: the next run is after the bench's end (+ grace)
      const phase = 15 + Math.floor(random() * (1440 - opts.minutes - 90));
      db.phase.push(phase);
      const last = new Date(now.getTime() - phase * 60_000);
      const hhmm = `${String(last.getUTCHours()).padStart(2, '0')}:${String(last.getUTCMinutes()).padStart(2, '0')}`;
      db.schedule.push(JSON.stringify({ kind: 'daily', time: hhmm, timezone: 'UTC' }));
      db.retention.push(plan.retention);
      db.n.push(0);
      db.size.push(0);
      db.failing.push(random() < 0.002);
      db.expireMin.push(null);
      db.deletedAt.push(random() < 0.005 ? new Date(now.getTime() - 2 * 86400_000).toISOString() : null);
      db.running.push(0);
    }
  }
  // Backups per database: starter keeps 7 days; the others share the rest of the total evenly.
  const extras = { inProgress: Math.ceil(D / 2000), abandoned: 5 };
  const starter = db.retention.filter((r) => r === 7).length;
  const rest = opts.backups - extras.inProgress - extras.abandoned - 7 * starter;
  const others = D - starter;
  const base = Math.floor(rest / Math.max(1, others));
  let plusOne = rest - base * others;
  for (let i = 0; i < D; i++) {
    if (db.retention[i] === 7) db.n[i] = 7;
    else {
      db.n[i] = Math.min(db.retention[i]!, base + (plusOne > 0 ? 1 : 0));
      if (plusOne > 0) plusOne--;
    }
  }
  // Sizes: each account fills 10–60 % of its quota (2 % of accounts are over 80 %).
  let d0 = 0;
  for (let a = 0; a < A; a++) {
    const quota = PLAN[acc.plan[a]!]!.quota;
    let rows = 0;
    for (let j = 0; j < sizes[a]!; j++) rows += db.n[d0 + j]!;
    for (let j = 0; j < sizes[a]!; j++) db.size[d0 + j] = Math.floor((quota * acc.usage[a]!) / rows / 1.0);
    d0 += sizes[a]!;
  }
  // The steady flow: a day's expiries over 100,000 databases are ~70 a minute.
  const expiring = Math.ceil((D / 1440) * opts.minutes);
  const candidates = db.id.map((_, i) => i).filter((i) => db.retention[i]! > db.n[i]! && !db.failing[i]);
  for (let k = 0; k < expiring && k < candidates.length; k++) {
    const i = candidates[Math.floor((k * candidates.length) / expiring)]!;
    db.expireMin[i] = Math.max(1, Math.round(((k + 0.5) * opts.minutes * 60) / expiring) / 60);
  }
  for (let k = 0; k < extras.inProgress + extras.abandoned; k++) {
    db.running[Math.floor(random() * D)] = k < extras.abandoned ? 2 : 1;
  }

  // ---- insert
  await client.query(
    `insert into accounts (id, plan, alert_emails, created_at)
     select id, plan, jsonb_build_array(email), $4::timestamptz - interval '400 days'
     from unnest($1::uuid[], $2::text[], $3::text[]) as t(id, plan, email)`,
    [acc.id, acc.plan, acc.email, now],
  );
  await client.query(
    `insert into account_closings (account_id, reason, requested_at, effective_at, purge_at)
     select id, 'cancelled', cancelled_at, cancelled_at, delete_after
     from unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) as t(id, cancelled_at, delete_after)
     where cancelled_at is not null`,
    [acc.id, acc.cancelledAt, acc.deleteAfter],
  );
  await client.query(
    `insert into api_keys (account_id, name, prefix, secret_hash, scope, created_at)
     select id, 'agents', 'rsk_scale', encode(sha256(convert_to('rsk_scale' || encode(sha256(convert_to('key-' || (i - 1), 'UTF8')), 'hex'), 'UTF8')), 'hex'),
            'agent', $2::timestamptz - interval '400 days'
     from unnest($1::uuid[]) with ordinality as t(id, i)`,
    [acc.id, now],
  );
  await client.query(
    `insert into agents (id, account_id, api_key_id, hostname, os, version, tools, public_key, created_at, last_seen_at)
     select t.id, t.account_id, k.id, t.host, 'Debian GNU/Linux 12 (bookworm)', '1.0.0',
            '[{"name":"pg_dump","version":"15.8","path":"/usr/bin/pg_dump"},{"name":"psql","version":"15.8","path":"/usr/bin/psql"},{"name":"zstd","version":"1.5.4","path":"/usr/bin/zstd"}]'::jsonb,
            t.key, $5::timestamptz - interval '300 days', $5::timestamptz
     from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) as t(id, account_id, key, host)
     join api_keys k on k.account_id = t.account_id`,
    [ag.id, ag.account, ag.key, ag.host, now],
  );
  await client.query(
    `insert into databases (id, account_id, agent_id, name, engine, host, port, database_name, username,
                            credentials_mode, schedule, retention_days, created_at, updated_at,
                            last_backup_at, last_success_at, last_status, last_error, deleted_at)
     select t.id, t.account_id, t.agent_id, t.name, t.engine, 'db.internal',
            case t.engine when 'postgres' then 5432 else 3306 end, t.name, 'backup', 'local', t.schedule::jsonb, t.retention,
            $15::timestamptz - make_interval(days => t.n + 1), $15::timestamptz - make_interval(days => t.n + 1),
            $15::timestamptz - make_interval(mins => t.phase) + interval '30 seconds',
            $15::timestamptz - make_interval(mins => t.phase) + interval '30 seconds' - case when t.failing then interval '3 days' else interval '0' end,
            case when t.failing then 'failed' else 'succeeded' end,
            case when t.failing then 'pg_dump: error: connection to server failed: FATAL: password authentication failed' end,
            t.deleted_at
     from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::int[], $8::int[], $9::int[],
                 $10::bigint[], $11::bool[], $12::float8[], $13::timestamptz[], $14::int[])
       as t(id, account_id, agent_id, name, engine, schedule, retention, n, phase, size, failing, expire_min, deleted_at, running)`,
    [
      db.id,
      db.account,
      db.agent,
      db.name,
      db.engine,
      db.schedule,
      db.retention,
      db.n,
      db.phase,
      db.size,
      db.failing,
      db.expireMin,
      db.deletedAt,
      db.running,
      now,
    ],
  );
  // A million rows go in faster without per-row index upkeep and foreign-key checks (the data is
  // consistent by construction): the indexes are dropped and built again after the inserts.
  const { rows: indexes } = await client.query<{ name: string; def: string }>(
    `select indexrelid::regclass::text as name, pg_get_indexdef(indexrelid) as def from pg_index
     where indrelid = 'backups'::regclass and not indisprimary`,
  );
  for (const i of indexes) await client.query(`drop index ${i.name}`);
  await client.query("set session_replication_role = 'replica'");
  // Backup g = 1 is the newest: started when the schedule last fired, g - 1 days before that.
  await client.query(
    `insert into backups (id, account_id, database_id, database_name, agent_id, status, trigger, object_key,
                          part_size, size_bytes, sha256, key_id, error, started_at, finished_at, duration_ms, deadline_at, created_at)
     select x.id, x.account_id, x.database_id, x.name, x.agent_id, x.status, 'schedule',
            'accounts/' || x.account_id || '/databases/' || x.database_id || '/' || x.id || '.resistro', 8388608,
            case when x.status = 'succeeded' then x.size end,
            case when x.status = 'succeeded' then encode(sha256(convert_to(x.id::text, 'UTF8')), 'hex') end,
            case when x.status = 'succeeded' then 'k1' end,
            case when x.status = 'failed' then 'pg_dump: error: connection to server failed: FATAL: password authentication failed' end,
            x.started_at, x.started_at + interval '4 minutes', 240000, x.started_at + interval '6 hours', x.started_at
     from (
       select gen_random_uuid() as id, t.account_id, t.id as database_id, t.name, t.agent_id,
              case when (t.failing and g <= 3) or (g > 1 and random() < 0.01) then 'failed' else 'succeeded' end as status,
              (t.size * (0.95 + 0.1 * random()))::bigint as size,
              case when g = t.n and t.expire_min is not null
                   then $11::timestamptz - make_interval(days => t.retention) + make_interval(secs => t.expire_min * 60)
                   else $11::timestamptz - make_interval(mins => t.phase, days => g - 1) + interval '30 seconds' end as started_at
       from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::int[], $6::int[], $7::int[], $8::bigint[], $9::bool[], $10::float8[])
         as t(id, account_id, agent_id, name, retention, n, phase, size, failing, expire_min)
       cross join lateral generate_series(1, t.n) g
     ) x`,
    [
      db.id,
      db.account,
      db.agent,
      db.name,
      db.retention,
      db.n,
      db.phase,
      db.size,
      db.failing,
      db.expireMin,
      now,
    ],
  );
  // Backups running now (started two minutes ago) and abandoned ones (deadline passed an hour ago).
  await client.query(
    `insert into backups (account_id, database_id, database_name, agent_id, status, trigger, object_key, upload_id,
                          part_size, started_at, deadline_at)
     select t.account_id, t.id, t.name, t.agent_id, 'running', 'schedule',
            'accounts/' || t.account_id || '/databases/' || t.id || '/' || gen_random_uuid() || '.resistro',
            md5(t.id::text), 8388608,
            case t.running when 1 then $6::timestamptz - interval '2 minutes' else $6::timestamptz - interval '7 hours' end,
            case t.running when 1 then $6::timestamptz + interval '6 hours' else $6::timestamptz - interval '1 hour' end
     from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::int[]) as t(id, account_id, agent_id, name, running)
     where t.running > 0`,
    [db.id, db.account, db.agent, db.name, db.running, now],
  );
  await client.query("set session_replication_role = 'origin'");
  for (const i of indexes) await client.query(i.def);
  await client.query(`
    update accounts a set storage_used_bytes = s.bytes
    from (select account_id, sum(size_bytes) as bytes from backups where status = 'succeeded' group by account_id) s
    where a.id = s.account_id`);
  await client.query('vacuum analyze');
  const [{ n: backups }] = (await client.query<{ n: number }>('select count(*)::int as n from backups'))
    .rows as [{ n: number }];

  // ---- the agents the simulator runs: spread over accounts like the agents themselves
  const order = ag.id.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const accountIndex = new Map(acc.id.map((id, i) => [id, i]));
  const live = order.filter((i) => !acc.cancelledAt[accountIndex.get(ag.account[i]!)!]).slice(0, opts.agents);
  const liveSet = new Set(live);
  const dbsPerAgent = new Map<number, number>();
  for (const g of dbAgent) dbsPerAgent.set(g, (dbsPerAgent.get(g) ?? 0) + 1);
  return {
    accounts: A,
    agents: ag.id.length,
    databases: D,
    backups,
    simulated: live.map((i) => ({
      apiKey: accountApiKey(accountIndex.get(ag.account[i]!)!),
      publicKey: ag.key[i]!,
      hostname: ag.host[i]!,
      databases: dbsPerAgent.get(i) ?? 0,
    })),
    idleAgentIds: ag.id.filter((_, i) => !liveSet.has(i)),
    expiring,
    plans,
  };
}
