// Cron: evaluate every alert condition for a batch of databases, agents and accounts, open what
// became true and resolve what cleared. Each scan walks its table by id from where the last run
// stopped, so one run is bounded however many subjects there are.
import { type AlertKind, PLANS, type PlanId, type Schedule } from '@resistro/contract';
import { and, inArray, isNull, sql } from 'drizzle-orm';
import { OFFLINE_AFTER_MS } from '../agents/agents.ts';
import { type BackupHistory, recentBackups } from '../backups/history.ts';
import type { Db } from '../db.ts';
import { advanceCursor, readCursor } from '../lib/batch-cursor.ts';
import { type RawTime, toDate, toDateOrNull } from '../lib/rows.ts';
import { PITR_ALERT_KINDS, pitrAlertSubjects } from '../pitr/alerts.ts';
import { type DatabaseRestoreTests, restoreTestStates } from '../restore-tests/state.ts';
import { alerts } from './alerts.sql.ts';
import {
  type AlertEvents,
  type AlertInput,
  type AlertRow,
  openAlert,
  refreshAlert,
  resolveAlert,
} from './alerts.ts';
import {
  FAILING_AFTER,
  formatBytes,
  formatTime,
  missedRun,
  ScheduleCache,
  SIZE_HISTORY,
  sizeDrop,
  storageLevel,
  trailingFailures,
} from './conditions.ts';
import { restoreTestConditions } from './restore-test-conditions.ts';

export const DETECT_BATCH = 1000;

type Wanted = Omit<AlertInput, 'accountId' | 'kind' | 'subjectType' | 'subjectId' | 'subjectName'>;
type Subject = {
  accountId: string;
  type: AlertRow['subjectType'];
  id: string;
  name: string;
  kinds: readonly AlertKind[];
};
export type DetectStats = { subjects: number; opened: number; resolved: number; errors: unknown[] };

/** Bring the open alerts of one subject in line with the conditions that hold now. */
async function reconcile(
  db: Db,
  subject: Subject,
  wanted: Partial<Record<AlertKind, Wanted>>,
  open: AlertRow[],
  now: Date,
  stats: DetectStats,
  events: AlertEvents,
): Promise<void> {
  try {
    await reconcileKinds(db, subject, wanted, open, now, stats, events);
  } catch (e) {
    // One subject's trouble must not stop the others; the run still reports it.
    console.error(`alert detection failed for ${subject.type} ${subject.id}`, e);
    stats.errors.push(e);
  }
}

async function reconcileKinds(
  db: Db,
  subject: Subject,
  wanted: Partial<Record<AlertKind, Wanted>>,
  open: AlertRow[],
  now: Date,
  stats: DetectStats,
  events: AlertEvents,
): Promise<void> {
  for (const kind of subject.kinds) {
    const want = wanted[kind];
    const current = open.find((a) => a.kind === kind);
    if (want && !current) {
      const input = {
        ...want,
        accountId: subject.accountId,
        kind,
        subjectType: subject.type,
        subjectId: subject.id,
        subjectName: subject.name,
      };
      if (await openAlert(db, input, now, events)) stats.opened++;
    } else if (!want && current) {
      if (await resolveAlert(db, current.id, now, events)) stats.resolved++;
    } else if (want && current && (current.detail !== want.detail || current.title !== want.title)) {
      await refreshAlert(db, current.id, want);
    }
  }
}

async function openAlertsOf(db: Db, subjectIds: string[]): Promise<Map<string, AlertRow[]>> {
  const map = new Map<string, AlertRow[]>();
  if (subjectIds.length === 0) return map;
  const rows = await db
    .select()
    .from(alerts)
    .where(and(inArray(alerts.subjectId, subjectIds), isNull(alerts.resolvedAt)));
  for (const r of rows) map.set(r.subjectId, [...(map.get(r.subjectId) ?? []), r]);
  return map;
}

/** A database as the detection reads it (databases, accounts), with its backup history. */
type DatabaseRow = {
  id: string;
  account_id: string;
  name: string;
  schedule: Schedule;
  updated_at: RawTime;
  last_backup_at: RawTime | null;
  paused: boolean;
  deleted_at: RawTime | null;
  read_only_since: RawTime | null;
};
type DatabaseState = DatabaseRow & {
  statuses: string[] | null;
  newest_error: string | null;
  newest_error_code: string | null;
  newest_error_params: Record<string, string> | null;
  sizes: number[] | null;
  success_ids: string[] | null;
  newest_success_at: RawTime | null;
};

/** The backup history the conditions look at: up to 10 finished, and the sizes a drop is measured against. */
function withHistory(d: DatabaseRow, h: BackupHistory | undefined): DatabaseState {
  return {
    ...d,
    statuses: h ? h.finished.map((f) => f.status) : null,
    newest_error: h?.finished[0]?.error ?? null,
    newest_error_code: h?.finished[0]?.errorCode ?? null,
    newest_error_params: h?.finished[0]?.errorParams ?? null,
    sizes: h ? h.succeeded.map((b) => b.sizeBytes) : null,
    success_ids: h ? h.succeeded.map((b) => b.id) : null,
    newest_success_at: h?.succeeded[0]?.startedAt ?? null,
  };
}

const DATABASE_KINDS = [
  'missed',
  'failing',
  'size_drop',
  'restore_test_failed',
  'restore_test_stale',
] as const;

function databaseConditions(
  d: DatabaseState,
  now: Date,
  schedules: ScheduleCache,
  tests: DatabaseRestoreTests | undefined,
): Partial<Record<AlertKind, Wanted>> {
  if (d.paused || d.deleted_at || d.read_only_since) return {};
  const wanted: Partial<Record<AlertKind, Wanted>> = tests ? restoreTestConditions(d.name, tests, now) : {};
  const lastBackupAt = toDateOrNull(d.last_backup_at);
  const missed = missedRun(schedules.cron(d.schedule), now, toDate(d.updated_at), lastBackupAt);
  if (missed) {
    wanted.missed = {
      title: `No backup of "${d.name}" started as scheduled`,
      detail:
        `The backup scheduled for ${formatTime(missed.due)} did not start within ${Math.round(missed.graceMs / 60_000)} minutes. ` +
        (lastBackupAt
          ? `The last backup started ${formatTime(lastBackupAt)}. `
          : 'No backup has started yet. ') +
        'Check that the agent runs and can reach the database.',
      facts: {
        scheduledFor: missed.due.toISOString(),
        graceMinutes: Math.round(missed.graceMs / 60_000),
        lastBackupAt: lastBackupAt?.toISOString() ?? null,
      },
    };
  }
  const failures = trailingFailures(d.statuses ?? []);
  if (failures >= FAILING_AFTER) {
    wanted.failing = {
      title: `Backups of "${d.name}" are failing`,
      detail: `The last ${failures === 10 ? '10 or more' : failures} backups failed. Last error: ${(d.newest_error ?? 'unknown').slice(0, 2000)}`,
      facts: {
        consecutiveFailures: failures,
        lastError: (d.newest_error ?? 'unknown').slice(0, 2000),
        ...(d.newest_error_code && { lastErrorCode: d.newest_error_code }),
        ...(d.newest_error_params && { lastErrorParams: d.newest_error_params }),
      },
    };
  }
  const drop = sizeDrop((d.sizes ?? []).map(Number));
  if (drop) {
    const started = toDateOrNull(d.newest_success_at);
    wanted.size_drop = {
      title: `Backup of "${d.name}" is ${Math.round((1 - drop.size / drop.median) * 100)} % smaller than usual`,
      detail:
        `The backup of ${started ? formatTime(started) : 'now'} has ${formatBytes(drop.size)}; the median of the ${drop.history} ` +
        `successful backups before it is ${formatBytes(drop.median)}. A sudden drop can mean lost data: check the database.`,
      facts: {
        backupId: d.success_ids?.[0],
        sizeBytes: drop.size,
        medianBytes: drop.median,
        history: drop.history,
        startedAt: started?.toISOString() ?? null,
      },
    };
  }
  return wanted;
}

async function scanDatabases(
  db: Db,
  now: Date,
  batch: number,
  stats: DetectStats,
  events: AlertEvents,
): Promise<void> {
  const cursor = await readCursor(db, 'alerts:databases');
  const { rows } = await db.execute<DatabaseRow>(sql`
    select d.id, d.account_id, d.name, d.schedule, d.updated_at, d.last_backup_at, d.paused, d.deleted_at,
           (select c.effective_at from account_closings c where c.account_id = a.id and c.effective_at <= ${now.toISOString()}::timestamptz) as read_only_since
    from databases d
    join accounts a on a.id = d.account_id
    where d.id > ${cursor}::uuid
      and (d.deleted_at is null
           or exists (select 1 from alerts al where al.subject_id = d.id and al.resolved_at is null))
    order by d.id
    limit ${batch}`);
  const ids = rows.map((r) => r.id);
  const open = await openAlertsOf(db, ids);
  const history = await recentBackups(db, ids, { finished: 10, succeeded: SIZE_HISTORY + 1 });
  const tests = await restoreTestStates(db, ids);
  const schedules = new ScheduleCache();
  for (const row of rows) {
    const d = withHistory(row, history.get(row.id));
    const subject: Subject = {
      accountId: d.account_id,
      type: 'database',
      id: d.id,
      name: d.name,
      kinds: DATABASE_KINDS,
    };
    let wanted: Partial<Record<AlertKind, Wanted>>;
    try {
      wanted = databaseConditions(d, now, schedules, tests.get(d.id));
    } catch (e) {
      console.error(`alert conditions failed for database ${d.id}`, e);
      stats.errors.push(e);
      continue;
    }
    await reconcile(db, subject, wanted, open.get(d.id) ?? [], now, stats, events);
  }
  stats.subjects += rows.length;
  await advanceCursor(db, 'alerts:databases', rows.at(-1)?.id, rows.length === batch, now);
}

type AgentState = {
  id: string;
  account_id: string;
  hostname: string;
  last_seen_at: RawTime;
  read_only_since: RawTime | null;
  database_names: string[] | null;
};

async function scanAgents(
  db: Db,
  now: Date,
  batch: number,
  stats: DetectStats,
  events: AlertEvents,
): Promise<void> {
  const cursor = await readCursor(db, 'alerts:agents');
  // Only agents that have work: a host whose databases are all paused or deleted may be switched off.
  const { rows } = await db.execute<AgentState>(sql`
    select g.id, g.account_id, g.hostname, g.last_seen_at,
           (select c.effective_at from account_closings c where c.account_id = a.id and c.effective_at <= ${now.toISOString()}::timestamptz) as read_only_since,
           (select array_agg(d.name order by d.name) from databases d
            where d.agent_id = g.id and d.deleted_at is null and not d.paused) as database_names
    from agents g
    join accounts a on a.id = g.account_id
    where g.id > ${cursor}::uuid
    order by g.id
    limit ${batch}`);
  const open = await openAlertsOf(
    db,
    rows.map((r) => r.id),
  );
  for (const g of rows) {
    const names = g.database_names ?? [];
    const lastSeen = toDate(g.last_seen_at);
    const silentMs = now.getTime() - lastSeen.getTime();
    const wanted: Partial<Record<AlertKind, Wanted>> = {};
    if (!g.read_only_since && names.length > 0 && silentMs >= OFFLINE_AFTER_MS) {
      wanted.offline = {
        title: `Agent "${g.hostname}" is offline`,
        detail:
          `No heartbeat since ${formatTime(lastSeen)} (more than 5 minutes). Backups of ${names.map((n) => `"${n}"`).join(', ')} ` +
          'cannot run until it is back: check the resistro-agent service on that host.',
        facts: { lastSeenAt: lastSeen.toISOString(), databases: names },
      };
    }
    const subject: Subject = {
      accountId: g.account_id,
      type: 'agent',
      id: g.id,
      name: g.hostname,
      kinds: ['offline'],
    };
    await reconcile(db, subject, wanted, open.get(g.id) ?? [], now, stats, events);
  }
  stats.subjects += rows.length;
  await advanceCursor(db, 'alerts:agents', rows.at(-1)?.id, rows.length === batch, now);
}

type AccountState = { id: string; plan: PlanId; storage_used_bytes: string; read_only_since: RawTime | null };

async function scanAccounts(
  db: Db,
  now: Date,
  batch: number,
  stats: DetectStats,
  events: AlertEvents,
): Promise<void> {
  const cursor = await readCursor(db, 'alerts:accounts');
  const { rows } = await db.execute<AccountState>(sql`
    select id, plan, storage_used_bytes,
           (select c.effective_at from account_closings c where c.account_id = accounts.id and c.effective_at <= ${now.toISOString()}::timestamptz) as read_only_since
    from accounts
    where id > ${cursor}::uuid order by id limit ${batch}`);
  const open = await openAlertsOf(
    db,
    rows.map((r) => r.id),
  );
  const copies = await copyTrouble(
    db,
    rows.map((r) => r.id),
    now,
  );
  for (const a of rows) {
    const plan = PLANS[a.plan];
    const used = Number(a.storage_used_bytes);
    const level = storageLevel(used, plan.storageBytes);
    const usage = `${formatBytes(used)} of ${formatBytes(plan.storageBytes)} used (${Math.round((used / plan.storageBytes) * 100)} %)`;
    const wanted: Partial<Record<AlertKind, Wanted>> = {};
    if (!a.read_only_since && level.high) {
      wanted.storage_high = {
        title: `Storage over 80 % of the ${plan.name} plan`,
        detail: `${usage}. At 100 % new backups are refused: delete old backups, shorten retention or upgrade.`,
        facts: { usedBytes: used, quotaBytes: plan.storageBytes, plan: a.plan },
      };
    }
    if (!a.read_only_since && level.full) {
      wanted.storage_full = {
        title: `The storage quota of the ${plan.name} plan is used up`,
        detail: `${usage}. New backups are refused until you free space or upgrade.`,
        facts: { usedBytes: used, quotaBytes: plan.storageBytes, plan: a.plan },
      };
    }
    const subject: Subject = {
      accountId: a.id,
      type: 'account',
      id: a.id,
      name: 'Storage',
      kinds: ['storage_high', 'storage_full'],
    };
    await reconcile(db, subject, wanted, open.get(a.id) ?? [], now, stats, events);
    // The second storage location's copies: an alert of its own (its subject is the account too).
    const trouble = copies.get(a.id);
    const copyWanted: Partial<Record<AlertKind, Wanted>> = {};
    if (!a.read_only_since && trouble && trouble.failed + trouble.missing > 0) {
      copyWanted.copy_failed = {
        title: `Copies missing in the second storage location ${trouble.bucket}`,
        detail: `${trouble.failed} copy/copies failed after three tries, ${trouble.missing} backup(s) have no verified copy after 24 hours. Check that the bucket is reachable and its credentials may write (Settings → Second storage location), and that the agent runs.`,
        facts: { failed: trouble.failed, missing: trouble.missing, bucket: trouble.bucket },
      };
    }
    await reconcile(
      db,
      { ...subject, name: 'Second storage location', kinds: ['copy_failed'] },
      copyWanted,
      open.get(a.id) ?? [],
      now,
      stats,
      events,
    );
  }
  stats.subjects += rows.length;
  await advanceCursor(db, 'alerts:accounts', rows.at(-1)?.id, rows.length === batch, now);
}

/** Continuous protection (pitr/alerts.ts says what each server's state calls for). */
async function scanPitr(
  db: Db,
  now: Date,
  batch: number,
  stats: DetectStats,
  events: AlertEvents,
): Promise<void> {
  const cursor = await readCursor(db, 'alerts:pitr');
  const subjects = await pitrAlertSubjects(db, cursor, batch, now);
  const open = await openAlertsOf(
    db,
    subjects.map((s) => s.databaseId),
  );
  for (const p of subjects) {
    const subject: Subject = {
      accountId: p.accountId,
      type: 'database',
      id: p.databaseId,
      name: p.name,
      kinds: PITR_ALERT_KINDS,
    };
    await reconcile(db, subject, p.wanted, open.get(p.databaseId) ?? [], now, stats, events);
  }
  stats.subjects += subjects.length;
  await advanceCursor(db, 'alerts:pitr', subjects.at(-1)?.databaseId, subjects.length === batch, now);
}

/**
 * Per account with a second storage location: copies that failed for good, and good backups the
 * location takes that have no verified copy a day after they finished (queued or not).
 */
async function copyTrouble(
  db: Db,
  accountIds: string[],
  now: Date,
): Promise<Map<string, { failed: number; missing: number; bucket: string }>> {
  if (accountIds.length === 0) return new Map();
  const before = new Date(now.getTime() - 24 * 3600_000).toISOString();
  const { rows } = await db.execute<{
    account_id: string;
    bucket: string;
    failed: number;
    missing: number;
  }>(sql`
    select l.account_id, l.bucket,
      (select count(*)::int from backup_copies c join backups b on b.id = c.backup_id
        where c.account_id = l.account_id and c.status = 'failed') as failed,
      (select count(*)::int from backups b
        left join backup_copies c on c.backup_id = b.id
        where b.account_id = l.account_id and b.status = 'succeeded'
          and b.finished_at < ${before}::timestamptz and b.finished_at >= l.created_at
          and (c.status is null and l.copies = 'all' or c.status = 'pending')) as missing
    from storage_locations l
    where l.account_id in (${sql.join(
      accountIds.map((id) => sql`${id}::uuid`),
      sql`, `,
    )})`);
  return new Map(rows.map((r) => [r.account_id, { failed: r.failed, missing: r.missing, bucket: r.bucket }]));
}

/** Alerts about agents that were removed meanwhile have nothing left to watch. */
async function resolveOrphans(db: Db, now: Date, stats: DetectStats, events: AlertEvents): Promise<void> {
  const { rows } = await db.execute<{ id: string }>(sql`
    select al.id from alerts al
    where al.resolved_at is null and al.subject_type = 'agent'
      and not exists (select 1 from agents g where g.id = al.subject_id)
    limit 100`);
  for (const r of rows) if (await resolveAlert(db, r.id, now, events)) stats.resolved++;
}

/** `events` queues the notifications of each alert opened or resolved (notifications/outbox.ts). */
export async function detectAlerts(
  db: Db,
  now: Date,
  events: AlertEvents,
  batch = DETECT_BATCH,
): Promise<DetectStats> {
  const stats: DetectStats = { subjects: 0, opened: 0, resolved: 0, errors: [] };
  await scanDatabases(db, now, batch, stats, events);
  await scanAgents(db, now, batch, stats, events);
  await scanAccounts(db, now, batch, stats, events);
  await scanPitr(db, now, batch, stats, events);
  await resolveOrphans(db, now, stats, events);
  if (stats.errors.length > 0)
    throw new AggregateError(stats.errors, `alert detection failed for ${stats.errors.length} subject(s)`);
  return stats;
}
