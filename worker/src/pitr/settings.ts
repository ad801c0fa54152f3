// Continuous protection of a database server: the settings the user chooses, what the agent
// reports about its stream, and the status the dashboard and the API show.
import {
  PITR_DEFAULT_BASE_BACKUP_DAYS,
  PITR_DEFAULT_RPO_SECONDS,
  PITR_DEFAULT_WINDOW_DAYS,
  PITR_ENGINES,
  PITR_TIMELINE_DUMPS,
  type PitrEngine,
  type PitrSettingsBody,
  type PitrState,
  type PitrStatus,
  type PitrStatusBody,
  PLANS,
  SLOT_FULL_RATIO,
  slotFilling,
  slotLimit,
} from '@resistro/contract';

export { SLOT_FULL_RATIO, slotFilling, slotLimit };

import { and, desc, eq, gte } from 'drizzle-orm';
import { accounts } from '../accounts/accounts.sql.ts';
import { backups } from '../backups/backups.sql.ts';
import { findDatabase } from '../databases/databases.ts';
import type { Db, DbOrTx } from '../db.ts';
import { ApiError, notFound } from '../errors.ts';
import { findGaps, rangesOf, windowOf } from './chain.ts';
import { pitrSettings } from './pitr.sql.ts';
import { type Chain, loadChain, toBaseBackup, toSegment } from './registry.ts';

export type SettingsRow = typeof pitrSettings.$inferSelect;

/** The engines whose log the agent can stream; SQLite, Redis and folders have none. */
export function pitrEngine(engine: string): PitrEngine | null {
  return (PITR_ENGINES as readonly string[]).includes(engine) ? (engine as PitrEngine) : null;
}

async function planRetentionDays(db: DbOrTx, accountId: string): Promise<number> {
  const [account] = await db.select({ plan: accounts.plan }).from(accounts).where(eq(accounts.id, accountId));
  if (!account) throw notFound('account');
  return PLANS[account.plan].maxRetentionDays;
}

export async function findSettings(db: DbOrTx, databaseId: string): Promise<SettingsRow | undefined> {
  const [row] = await db.select().from(pitrSettings).where(eq(pitrSettings.databaseId, databaseId));
  return row;
}

/** A database of the account that has continuous protection turned on (for the agent's routes). */
export async function findProtected(db: DbOrTx, accountId: string, databaseId: string) {
  const database = await findDatabase(db, accountId, databaseId);
  const settings = await findSettings(db, database.id);
  if (!settings?.enabled)
    throw new ApiError('conflict', 'Continuous protection is off for this database; turn it on first');
  return { database, settings };
}

export async function putSettings(
  db: Db,
  accountId: string,
  databaseId: string,
  input: PitrSettingsBody,
  now: Date,
): Promise<PitrStatus> {
  const database = await findDatabase(db, accountId, databaseId);
  if (!pitrEngine(database.engine))
    throw new ApiError(
      'validation_failed',
      'Invalid input: continuous protection needs PostgreSQL, MariaDB or MySQL',
      { enabled: 'needs PostgreSQL, MariaDB or MySQL' },
    );
  const maxDays = await planRetentionDays(db, accountId);
  const current = await findSettings(db, database.id);
  const windowDays = input.windowDays ?? current?.windowDays ?? Math.min(PITR_DEFAULT_WINDOW_DAYS, maxDays);
  if (windowDays > maxDays)
    throw new ApiError('plan_limit', `Your plan keeps backups for at most ${maxDays} days`, {
      windowDays: `must be at most ${maxDays} days on your plan`,
    });
  const values = {
    enabled: input.enabled,
    method: input.method ?? current?.method ?? 'stream',
    rpoSeconds: input.rpoSeconds ?? current?.rpoSeconds ?? PITR_DEFAULT_RPO_SECONDS,
    baseBackupEveryDays:
      input.baseBackupEveryDays ?? current?.baseBackupEveryDays ?? PITR_DEFAULT_BASE_BACKUP_DAYS,
    windowDays,
    enabledAt: input.enabled ? (current?.enabled ? current.enabledAt : now) : null,
    updatedAt: now,
  };
  await db
    .insert(pitrSettings)
    .values({ databaseId: database.id, accountId, ...values })
    .onConflictDoUpdate({ target: pitrSettings.databaseId, set: values });
  return pitrStatus(db, accountId, database.id, now);
}

export async function recordStatus(
  db: Db,
  accountId: string,
  databaseId: string,
  input: PitrStatusBody,
  now: Date,
): Promise<void> {
  const { database } = await findProtected(db, accountId, databaseId);
  await db
    .update(pitrSettings)
    .set({
      reportedAt: now,
      lagSeconds: input.lagSeconds,
      serverPosition: input.serverPosition ?? null,
      serverOffset: input.serverOffset ?? null,
      ...(input.segmentSizeBytes && { segmentSizeBytes: input.segmentSizeBytes }),
      slot: input.slot ?? null,
      logRetentionSeconds: input.logRetentionSeconds ?? null,
      errorCode: input.error?.code ?? null,
      error: input.error?.message ?? null,
    })
    .where(eq(pitrSettings.databaseId, database.id));
}

/**
 * The lag the dashboard and alerts use: what the agent last said, plus the time since it said it
 * (an agent that stopped reporting makes the lag grow, not freeze).
 */
export function currentLag(s: Pick<SettingsRow, 'reportedAt' | 'lagSeconds'>, now: Date): number | null {
  if (!s.reportedAt || s.lagSeconds === null) return null;
  return s.lagSeconds + Math.max(0, Math.round((now.getTime() - s.reportedAt.getTime()) / 1000));
}

/**
 * MariaDB/MySQL: the agent's lag has used half of the time the server keeps its binary logs: a
 * binlog deleted before the agent stored it is a gap no restore can cross.
 */
export function retentionAtRisk(
  s: Pick<SettingsRow, 'logRetentionSeconds'>,
  lagSeconds: number | null,
): { lagSeconds: number; retentionSeconds: number } | null {
  const retention = s.logRetentionSeconds;
  if (!retention || retention <= 0 || lagSeconds === null) return null;
  return lagSeconds >= retention / 2 ? { lagSeconds, retentionSeconds: retention } : null;
}

export function baseBackupDue(
  s: Pick<SettingsRow, 'baseBackupEveryDays'>,
  newestBaseAt: Date | null,
  gapAfterNewest: boolean,
  now: Date,
): 'first' | 'schedule' | 'gap' | null {
  if (!newestBaseAt) return 'first';
  if (gapAfterNewest) return 'gap';
  if (now.getTime() - newestBaseAt.getTime() >= s.baseBackupEveryDays * 86400_000) return 'schedule';
  return null;
}

export async function pitrStatus(
  db: Db,
  accountId: string,
  databaseId: string,
  now: Date,
): Promise<PitrStatus> {
  const database = await findDatabase(db, accountId, databaseId);
  const maxWindowDays = await planRetentionDays(db, accountId);
  const s = await findSettings(db, database.id);
  const chain = await loadChain(db, database.id);
  const segmentSize = s?.segmentSizeBytes ?? null;
  const gaps = findGaps(database.engine, chain.segments, chain.bases, segmentSize);
  const window = windowOf(chain.segments, chain.bases);
  const lag = s ? currentLag(s, now) : null;
  const newest = chain.baseRows.at(-1);
  const gapAfterNewest = newest
    ? gaps.some((g) => g.stream === newest.stream && g.fromOffset >= newest.startOffset)
    : false;
  let state: PitrState = 'off';
  if (s?.enabled) {
    if (gaps.length > 0) state = 'gap';
    else if (!window) state = 'starting';
    else if (s.errorCode || (lag !== null && lag > Math.max(s.rpoSeconds * 4, 3600))) state = 'stalled';
    else if (lag !== null && lag > s.rpoSeconds) state = 'lagging';
    else state = 'ok';
  }
  const last = chain.segmentRows.at(-1);
  const windowDays = s?.windowDays ?? Math.min(PITR_DEFAULT_WINDOW_DAYS, maxWindowDays);
  const dumps = await timelineDumps(db, database.id, chain, window?.start, windowDays, now);
  return {
    databaseId: database.id,
    engine: database.engine,
    settings: {
      enabled: s?.enabled ?? false,
      rpoSeconds: s?.rpoSeconds ?? PITR_DEFAULT_RPO_SECONDS,
      baseBackupEveryDays: s?.baseBackupEveryDays ?? PITR_DEFAULT_BASE_BACKUP_DAYS,
      windowDays,
      method: s?.method ?? 'stream',
    },
    maxWindowDays,
    state,
    window: window && { start: window.start.toISOString(), end: window.end.toISOString() },
    ranges: rangesOf(chain.segments, chain.bases).map((r) => ({
      start: r.start.toISOString(),
      end: r.end.toISOString(),
    })),
    dumps,
    lagSeconds: s?.enabled ? lag : null,
    reportedAt: s?.reportedAt?.toISOString() ?? null,
    serverPosition: s?.serverPosition ?? null,
    lastSegment: last ? toSegment(last) : null,
    segmentCount: chain.segmentRows.length,
    segmentBytes: chain.segmentRows.reduce((n, r) => n + r.sizeBytes, 0),
    baseBackups: chain.baseRows.map(toBaseBackup).reverse(),
    gaps: gaps.map((g) => ({
      stream: g.stream,
      after: g.after,
      before: g.before,
      fromPosition: g.fromPosition,
      toPosition: g.toPosition,
      missing: g.missing,
    })),
    slot: s?.slot ?? null,
    error: s?.errorCode ? { code: s.errorCode, message: s.error ?? '' } : null,
    baseBackupDue:
      !!s?.enabled && baseBackupDue(s, newest?.consistentAt ?? null, gapAfterNewest, now) !== null,
  };
}

/** The dumps for the dashboard's timeline: successful backups that are not base backups. */
async function timelineDumps(
  db: Db,
  databaseId: string,
  chain: Chain,
  windowStart: Date | undefined,
  windowDays: number,
  now: Date,
): Promise<PitrStatus['dumps']> {
  const since = new Date(
    Math.min(windowStart?.getTime() ?? Number.POSITIVE_INFINITY, now.getTime() - windowDays * 86400_000),
  );
  const bases = new Set(chain.baseRows.map((b) => b.backupId));
  const rows = await db
    .select({ id: backups.id, startedAt: backups.startedAt, sizeBytes: backups.sizeBytes })
    .from(backups)
    .where(
      and(eq(backups.databaseId, databaseId), eq(backups.status, 'succeeded'), gte(backups.startedAt, since)),
    )
    .orderBy(desc(backups.startedAt))
    .limit(PITR_TIMELINE_DUMPS + bases.size);
  return rows
    .filter((r) => !bases.has(r.id))
    .slice(0, PITR_TIMELINE_DUMPS)
    .map((r) => ({ backupId: r.id, startedAt: r.startedAt.toISOString(), sizeBytes: r.sizeBytes }));
}

/** Per protected server, for the Prometheus scrape (metrics/metrics.ts). */
export async function pitrMetrics(db: Db, accountId: string, now: Date) {
  const rows = await db
    .select({ databaseId: pitrSettings.databaseId })
    .from(pitrSettings)
    .where(and(eq(pitrSettings.accountId, accountId), eq(pitrSettings.enabled, true)));
  const out = new Map<
    string,
    {
      lagSeconds: number | null;
      slotRetainedBytes: number | null;
      slotLimitBytes: number | null;
      baseBackupAgeSeconds: number | null;
      windowStart: number | null;
      windowEnd: number | null;
    }
  >();
  for (const { databaseId } of rows) {
    const st = await pitrStatus(db, accountId, databaseId, now).catch(() => null);
    if (!st) continue; // deleted meanwhile
    const newest = st.baseBackups[0];
    out.set(databaseId, {
      lagSeconds: st.lagSeconds,
      slotRetainedBytes: st.slot?.retainedBytes ?? null,
      slotLimitBytes: st.slot ? slotLimit(st.slot) : null,
      baseBackupAgeSeconds: newest
        ? Math.round((now.getTime() - Date.parse(newest.consistentAt)) / 1000)
        : null,
      windowStart: st.window ? Math.floor(Date.parse(st.window.start) / 1000) : null,
      windowEnd: st.window ? Math.floor(Date.parse(st.window.end) / 1000) : null,
    });
  }
  return out;
}
