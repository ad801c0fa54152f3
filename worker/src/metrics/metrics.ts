// The per-account metrics endpoint: the gauges and counters the customers' own Prometheus alert
// rules use (time since the last success, size, duration, failures, agent heartbeats), scraped
// with a dedicated token so a leaked scrape config cannot change anything.
import type { CreatedMetricsToken, Database, MetricsToken } from '@resistro/contract';
import { and, eq, isNull, lt, or } from 'drizzle-orm';
import { allAgents, OFFLINE_AFTER_MS } from '../agents/agents.ts';
import { openAlertCounts } from '../alerts/alerts.ts';
import { failureCounts, recentBackups } from '../backups/history.ts';
import { listDatabases } from '../databases/databases.ts';
import type { Db } from '../db.ts';
import { ApiError } from '../errors.ts';
import { randomToken, sha256Hex } from '../lib/crypto.ts';
import { pitrMetrics } from '../pitr/settings.ts';
import { getAccount } from '../plans/plans.ts';
import { restoreTestStates } from '../restore-tests/state.ts';
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

/** A stable order for the scrape (code points, whatever the locale). */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const seconds = (iso: string | null) => (iso ? Math.floor(Date.parse(iso) / 1000) : 0);

export async function renderMetrics(db: Db, accountId: string, now: Date): Promise<string> {
  // Each feature reads its own rows: databases, the backup history, agents, alerts, the account.
  const dbs = await listDatabases(db, accountId, now);
  const ids = dbs.map((d) => d.id);
  const history = await recentBackups(db, ids, { finished: 1, succeeded: 1 });
  const failures = await failureCounts(db, ids);
  const agents = (await allAgents(db, accountId, now)).sort(
    (a, b) => compare(a.hostname, b.hostname) || compare(a.id, b.id),
  );
  const tests = await restoreTestStates(db, ids);
  const open = await openAlertCounts(db, accountId);
  const account = await getAccount(db, accountId);
  const pitr = await pitrMetrics(db, accountId, now);
  const pitrSamples = (pick: (m: NonNullable<ReturnType<typeof pitr.get>>) => number | null) =>
    dbs.flatMap((d) => {
      const m = pitr.get(d.id);
      const value = m ? pick(m) : null;
      return value === null ? [] : [{ labels: dbLabels(d), value }];
    });
  const newestSuccess = (d: Database) => history.get(d.id)?.succeeded[0];
  const newestFinished = (d: Database) => history.get(d.id)?.finished[0];

  const dbLabels = (d: Database) => ({ database: d.name, database_id: d.id, engine: d.engine });
  const agentLabels = (g: { id: string; hostname: string }) => ({ agent: g.hostname, agent_id: g.id });
  const families: Family[] = [
    {
      name: 'resistro_backup_last_success_timestamp_seconds',
      help: 'Start time of the newest successful backup (Unix seconds; 0 if none yet).',
      type: 'gauge',
      samples: dbs.map((d) => ({ labels: dbLabels(d), value: seconds(d.lastSuccessAt) })),
    },
    {
      name: 'resistro_backup_last_size_bytes',
      help: 'Size of the newest successful backup (encrypted, compressed).',
      type: 'gauge',
      samples: dbs.flatMap((d) => {
        const s = newestSuccess(d);
        return s ? [{ labels: dbLabels(d), value: s.sizeBytes }] : [];
      }),
    },
    {
      name: 'resistro_backup_last_duration_seconds',
      help: 'Duration of the newest successful backup.',
      type: 'gauge',
      samples: dbs.flatMap((d) => {
        const ms = newestSuccess(d)?.durationMs;
        return ms === null || ms === undefined ? [] : [{ labels: dbLabels(d), value: ms / 1000 }];
      }),
    },
    {
      name: 'resistro_backup_last_run_success',
      help: '1 if the newest finished backup succeeded, 0 if it failed.',
      type: 'gauge',
      samples: dbs.flatMap((d) => {
        const f = newestFinished(d);
        return f ? [{ labels: dbLabels(d), value: f.status === 'succeeded' ? 1 : 0 }] : [];
      }),
    },
    {
      name: 'resistro_backup_failures_total',
      help: 'Failed backups since the database was added.',
      type: 'counter',
      samples: dbs.map((d) => ({ labels: dbLabels(d), value: failures.get(d.id) ?? 0 })),
    },
    {
      name: 'resistro_restore_test_success',
      help: '1 if the newest finished restore test passed, 0 if it failed or could not finish.',
      type: 'gauge',
      samples: dbs.flatMap((d) => {
        const t = tests.get(d.id)?.latest;
        return t ? [{ labels: dbLabels(d), value: t.state === 'passed' ? 1 : 0 }] : [];
      }),
    },
    {
      name: 'resistro_restore_test_duration_seconds',
      help: 'Restore time of the newest finished restore test: the measured recovery time.',
      type: 'gauge',
      samples: dbs.flatMap((d) => {
        const ms = tests.get(d.id)?.latest?.restoreMs;
        return ms === null || ms === undefined ? [] : [{ labels: dbLabels(d), value: ms / 1000 }];
      }),
    },
    {
      name: 'resistro_restore_test_last_success_timestamp',
      help: 'End of the newest restore test that passed (Unix seconds; 0 if none yet).',
      type: 'gauge',
      samples: dbs.map((d) => {
        const at = tests.get(d.id)?.lastPassedAt;
        return { labels: dbLabels(d), value: at ? Math.floor(at.getTime() / 1000) : 0 };
      }),
    },
    {
      name: 'resistro_agent_last_heartbeat_timestamp_seconds',
      help: "Time of the agent's newest heartbeat (Unix seconds).",
      type: 'gauge',
      samples: agents.map((g) => ({ labels: agentLabels(g), value: seconds(g.lastSeenAt) })),
    },
    {
      name: 'resistro_agent_up',
      help: '1 if the agent sent a heartbeat within the last 5 minutes.',
      type: 'gauge',
      samples: agents.map((g) => ({
        labels: agentLabels(g),
        value: now.getTime() - Date.parse(g.lastSeenAt) < OFFLINE_AFTER_MS ? 1 : 0,
      })),
    },
    {
      name: 'resistro_storage_used_bytes',
      help: 'Bytes of successful backups stored for the account.',
      type: 'gauge',
      samples: [{ labels: {}, value: account.usage.storageBytes }],
    },
    {
      name: 'resistro_storage_quota_bytes',
      help: "Storage quota of the account's plan.",
      type: 'gauge',
      samples: [{ labels: {}, value: account.limits.storageBytes }],
    },
    {
      name: 'resistro_wal_archive_lag_seconds',
      help: 'Continuous protection: how far the log in storage is behind the server (WAL or binlog).',
      type: 'gauge',
      samples: pitrSamples((m) => m.lagSeconds),
    },
    {
      name: 'resistro_wal_slot_retained_bytes',
      help: "Continuous protection (PostgreSQL): WAL the server keeps for the agent's replication slot.",
      type: 'gauge',
      samples: pitrSamples((m) => m.slotRetainedBytes),
    },
    {
      name: 'resistro_wal_slot_limit_bytes',
      help: 'Continuous protection (PostgreSQL): what the server can keep for the slot (max_slot_wal_keep_size or the WAL disk), when known.',
      type: 'gauge',
      samples: pitrSamples((m) => m.slotLimitBytes),
    },
    {
      name: 'resistro_pitr_base_backup_age_seconds',
      help: 'Continuous protection: age of the newest base backup.',
      type: 'gauge',
      samples: pitrSamples((m) => m.baseBackupAgeSeconds),
    },
    {
      name: 'resistro_pitr_window_start_timestamp_seconds',
      help: 'Continuous protection: the earliest restorable point (Unix seconds).',
      type: 'gauge',
      samples: pitrSamples((m) => m.windowStart),
    },
    {
      name: 'resistro_pitr_window_end_timestamp_seconds',
      help: 'Continuous protection: the latest restorable point (Unix seconds).',
      type: 'gauge',
      samples: pitrSamples((m) => m.windowEnd),
    },
    {
      name: 'resistro_alerts_open',
      help: 'Open alerts by severity.',
      type: 'gauge',
      samples: (['critical', 'warning'] as const).map((severity) => ({
        labels: { severity },
        value: open[severity],
      })),
    },
  ];
  return render(families);
}
