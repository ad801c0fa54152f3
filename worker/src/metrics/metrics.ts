// The per-account metrics endpoint: the gauges and counters the customers' own Prometheus alert
// rules use (time since the last success, size, duration, failures, agent heartbeats), scraped
// with a dedicated token so a leaked scrape config cannot change anything.
import { type CreatedMetricsToken, type MetricsToken, PLANS } from '@resistro/contract';
import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { accounts } from '../accounts/accounts.sql.ts';
import { OFFLINE_AFTER_MS } from '../agents/agents.ts';
import { type RawTime, toDate, toDateOrNull } from '../cron/rows.ts';
import type { Db } from '../db.ts';
import { ApiError } from '../errors.ts';
import { randomToken, sha256Hex } from '../lib/crypto.ts';
import { metricsTokens } from './metrics.sql.ts';
import { type Family, render } from './prometheus.ts';

export const METRICS_TOKEN_PREFIX = 'rsm_';

function toToken(row: typeof metricsTokens.$inferSelect): MetricsToken {
  return {
    prefix: row.prefix,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}

export async function getMetricsToken(db: Db, accountId: string): Promise<MetricsToken | null> {
  const [row] = await db.select().from(metricsTokens).where(eq(metricsTokens.accountId, accountId));
  return row ? toToken(row) : null;
}

/** Creates the token, or rotates it: the old one stops working in the same statement. */
export async function createMetricsToken(db: Db, accountId: string, now: Date): Promise<CreatedMetricsToken> {
  // SECURITY: 256 random bits; only the SHA-256 is stored, the token is shown once.
  const secret = `${METRICS_TOKEN_PREFIX}${randomToken()}`;
  const values = {
    accountId,
    prefix: secret.slice(0, 10),
    tokenHash: await sha256Hex(secret),
    createdAt: now,
    lastUsedAt: null,
  };
  const [row] = await db
    .insert(metricsTokens)
    .values(values)
    .onConflictDoUpdate({
      target: metricsTokens.accountId,
      set: { prefix: values.prefix, tokenHash: values.tokenHash, createdAt: now, lastUsedAt: null },
    })
    .returning();
  return { token: toToken(row!), secret };
}

export async function deleteMetricsToken(db: Db, accountId: string): Promise<void> {
  await db.delete(metricsTokens).where(eq(metricsTokens.accountId, accountId));
}

/** The account a scrape token belongs to; any problem is the same 401. */
export async function authenticateScrape(db: Db, header: string | undefined, now: Date): Promise<string> {
  const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!token?.startsWith(METRICS_TOKEN_PREFIX)) {
    throw new ApiError('unauthorized', 'Send the metrics token as "Authorization: Bearer rsm_..."');
  }
  // SECURITY: looked up by hash, as API keys are.
  const [row] = await db
    .select({ accountId: metricsTokens.accountId, lastUsedAt: metricsTokens.lastUsedAt })
    .from(metricsTokens)
    .where(eq(metricsTokens.tokenHash, await sha256Hex(token)));
  if (!row) throw new ApiError('unauthorized', 'The metrics token is unknown or was rotated');
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000) {
    // Throttled: Prometheus scrapes every 15–60 s, one write a minute is enough.
    await db
      .update(metricsTokens)
      .set({ lastUsedAt: now })
      .where(
        and(
          eq(metricsTokens.accountId, row.accountId),
          or(
            isNull(metricsTokens.lastUsedAt),
            lt(metricsTokens.lastUsedAt, new Date(now.getTime() - 60_000)),
          ),
        ),
      );
  }
  return row.accountId;
}

type DatabaseMetrics = {
  id: string;
  name: string;
  engine: string;
  last_success_at: RawTime | null;
  last_size: string | null;
  last_duration_ms: number | null;
  last_finished_status: string | null;
  failures: string;
};

const ts = (d: RawTime | null) => {
  const date = toDateOrNull(d);
  return date ? Math.floor(date.getTime() / 1000) : 0;
};

export async function renderMetrics(db: Db, accountId: string, now: Date): Promise<string> {
  const { rows: dbs } = await db.execute<DatabaseMetrics>(sql`
    select d.id, d.name, d.engine, d.last_success_at, s.size_bytes as last_size, s.duration_ms as last_duration_ms,
           f.status as last_finished_status,
           ((select count(*) from backups b where b.database_id = d.id and b.status = 'failed')
             + coalesce((select c.failures_deleted from database_counters c where c.database_id = d.id), 0)) as failures
    from databases d
    left join lateral (select b.size_bytes, b.duration_ms from backups b
                       where b.database_id = d.id and b.status = 'succeeded'
                       order by b.started_at desc limit 1) s on true
    left join lateral (select b.status from backups b
                       where b.database_id = d.id and b.status <> 'running'
                       order by b.started_at desc limit 1) f on true
    where d.account_id = ${accountId}::uuid and d.deleted_at is null
    order by d.name, d.id`);
  const { rows: agents } = await db.execute<{ id: string; hostname: string; last_seen_at: RawTime }>(sql`
    select id, hostname, last_seen_at from agents where account_id = ${accountId}::uuid order by hostname, id`);
  const { rows: open } = await db.execute<{ severity: string; n: number }>(sql`
    select severity, count(*)::int as n from alerts
    where account_id = ${accountId}::uuid and resolved_at is null group by severity`);
  const [account] = await db
    .select({ plan: accounts.plan, used: accounts.storageUsedBytes })
    .from(accounts)
    .where(eq(accounts.id, accountId));

  const dbLabels = (d: DatabaseMetrics) => ({ database: d.name, database_id: d.id, engine: d.engine });
  const agentLabels = (g: { id: string; hostname: string }) => ({ agent: g.hostname, agent_id: g.id });
  const families: Family[] = [
    {
      name: 'resistro_backup_last_success_timestamp_seconds',
      help: 'Start time of the newest successful backup (Unix seconds; 0 if none yet).',
      type: 'gauge',
      samples: dbs.map((d) => ({ labels: dbLabels(d), value: ts(d.last_success_at) })),
    },
    {
      name: 'resistro_backup_last_size_bytes',
      help: 'Size of the newest successful backup (encrypted, compressed).',
      type: 'gauge',
      samples: dbs
        .filter((d) => d.last_size !== null)
        .map((d) => ({ labels: dbLabels(d), value: Number(d.last_size) })),
    },
    {
      name: 'resistro_backup_last_duration_seconds',
      help: 'Duration of the newest successful backup.',
      type: 'gauge',
      samples: dbs
        .filter((d) => d.last_duration_ms !== null)
        .map((d) => ({ labels: dbLabels(d), value: Number(d.last_duration_ms) / 1000 })),
    },
    {
      name: 'resistro_backup_last_run_success',
      help: '1 if the newest finished backup succeeded, 0 if it failed.',
      type: 'gauge',
      samples: dbs
        .filter((d) => d.last_finished_status !== null)
        .map((d) => ({ labels: dbLabels(d), value: d.last_finished_status === 'succeeded' ? 1 : 0 })),
    },
    {
      name: 'resistro_backup_failures_total',
      help: 'Failed backups since the database was added.',
      type: 'counter',
      samples: dbs.map((d) => ({ labels: dbLabels(d), value: Number(d.failures) })),
    },
    {
      name: 'resistro_agent_last_heartbeat_timestamp_seconds',
      help: "Time of the agent's newest heartbeat (Unix seconds).",
      type: 'gauge',
      samples: agents.map((g) => ({ labels: agentLabels(g), value: ts(g.last_seen_at) })),
    },
    {
      name: 'resistro_agent_up',
      help: '1 if the agent sent a heartbeat within the last 5 minutes.',
      type: 'gauge',
      samples: agents.map((g) => ({
        labels: agentLabels(g),
        value: now.getTime() - toDate(g.last_seen_at).getTime() < OFFLINE_AFTER_MS ? 1 : 0,
      })),
    },
    {
      name: 'resistro_storage_used_bytes',
      help: 'Bytes of successful backups stored for the account.',
      type: 'gauge',
      samples: account ? [{ labels: {}, value: account.used }] : [],
    },
    {
      name: 'resistro_storage_quota_bytes',
      help: "Storage quota of the account's plan.",
      type: 'gauge',
      samples: account ? [{ labels: {}, value: PLANS[account.plan].storageBytes }] : [],
    },
    {
      name: 'resistro_alerts_open',
      help: 'Open alerts by severity.',
      type: 'gauge',
      samples: (['critical', 'warning'] as const).map((severity) => ({
        labels: { severity },
        value: open.find((o) => o.severity === severity)?.n ?? 0,
      })),
    },
  ];
  return render(families);
}
