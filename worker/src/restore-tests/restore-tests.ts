// Restore test jobs: the schedule or a person asks, the agent of the database runs it into a
// scratch database and reports a verdict with its reasons. The control plane keeps only the job
// and the verdict (failing table names, the checks' results, the times): never a row of data,
// never the per-table counts of passing tables, never a key.
import {
  type CreateRestoreTestBody,
  type ListRestoreTestsQuery,
  type RestoreTest,
  type RestoreTestJob,
  type RestoreTestVerdict,
  scratchDatabaseName,
} from '@resistro/contract';
import { and, asc, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import type * as v from 'valibot';
import type { Principal } from '../app-types.ts';
import { recordAudit } from '../audit/audit.ts';
import { backups } from '../backups/backups.sql.ts';
import type { Db } from '../db.ts';
import { ApiError, notFound } from '../errors.ts';
import { toDate } from '../lib/rows.ts';
import { requesterLabel } from '../restores/restores.ts';
import { restoreTests } from './restore-tests.sql.ts';
import { findLiveDatabase, isSqlEngine, loadSettings } from './settings.ts';

export type RestoreTestRow = typeof restoreTests.$inferSelect;
type DatabaseRow = NonNullable<Awaited<ReturnType<typeof findLiveDatabase>>>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toRestoreTest(r: RestoreTestRow): RestoreTest {
  const results = new Map((r.checkResults ?? []).map((c) => [c.id, c]));
  return {
    id: r.id,
    databaseId: r.databaseId,
    databaseName: r.databaseName,
    backupId: r.backupId,
    backupStartedAt: iso(r.backupStartedAt),
    agentId: r.agentId,
    trigger: r.trigger,
    requestedBy: r.requestedBy,
    target: { kind: r.targetKind, databaseId: r.targetDatabaseId, database: r.scratchDatabase },
    state: r.state,
    phase: r.phase,
    timeLimitSeconds: r.timeLimitSeconds,
    requestedAt: r.requestedAt.toISOString(),
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    restoreMs: r.restoreMs,
    totalMs: r.totalMs,
    tables:
      r.tablesChecked === null
        ? null
        : { checked: r.tablesChecked, failed: r.tablesFailed ?? 0, failures: r.tableFailures ?? [] },
    checks: r.checks.map((c) => {
      const res = results.get(c.id);
      return { ...c, passed: res?.passed ?? null, actual: res?.actual ?? null, error: res?.error ?? null };
    }),
    errorCode: r.errorCode,
    error: r.error,
    errorHint: r.errorHint,
    cancelRequested: r.cancelRequestedAt !== null,
  };
}

/** The newest successful backup of a database (what a scheduled test proves). */
export async function newestGoodBackup(db: Db, databaseId: string) {
  const [row] = await db
    .select()
    .from(backups)
    .where(and(eq(backups.databaseId, databaseId), eq(backups.status, 'succeeded')))
    .orderBy(desc(backups.startedAt))
    .limit(1);
  return row;
}

async function activeTest(db: Db, databaseId: string): Promise<RestoreTestRow | undefined> {
  const [row] = await db
    .select()
    .from(restoreTests)
    .where(and(eq(restoreTests.databaseId, databaseId), inArray(restoreTests.state, ['pending', 'running'])))
    .limit(1);
  return row;
}

/**
 * Queue a test of `backup` on `database` with its current settings; the job carries a copy of the
 * checks so an edit during the test does not change what it is judged against.
 */
export async function queueRestoreTest(
  db: Db,
  database: DatabaseRow,
  backup: typeof backups.$inferSelect,
  trigger: { kind: 'schedule' } | { kind: 'manual'; requestedBy: string | null },
  now: Date,
): Promise<RestoreTestRow> {
  if (!isSqlEngine(database.engine))
    throw new ApiError(
      'conflict',
      'Restore tests run for PostgreSQL, MySQL and MariaDB databases; test SQLite, Redis and directory backups with resistro verify',
    );
  if (!database.agentId) throw new ApiError('conflict', 'This database has no agent');
  const { row: settings } = await loadSettings(db, database);
  const targetId = settings.targetKind === 'database' ? settings.targetDatabaseId : null;
  // A target deleted since the settings were saved: back to the database's own server, which is
  // what the settings page then shows too (the foreign key set it to null).
  const target = targetId ? await findLiveDatabase(db, database.accountId, targetId) : undefined;
  const id = crypto.randomUUID();
  const [row] = await db
    .insert(restoreTests)
    .values({
      id,
      accountId: database.accountId,
      databaseId: database.id,
      databaseName: database.name,
      backupId: backup.id,
      backupStartedAt: backup.startedAt,
      sizeBytes: backup.sizeBytes ?? 0,
      agentId: database.agentId,
      trigger: trigger.kind,
      requestedBy: trigger.kind === 'manual' ? trigger.requestedBy : null,
      engine: database.engine,
      targetKind: target ? 'database' : 'scratch',
      targetDatabaseId: target?.id ?? null,
      connectionDatabaseId: target?.id ?? database.id,
      scratchDatabase: scratchDatabaseName(id),
      timeLimitSeconds: settings.timeLimitMinutes * 60,
      checks: settings.checks,
      state: 'pending',
      requestedAt: now,
    })
    .returning();
  return row!;
}

/** "Test now" from the dashboard or the API. */
export async function createRestoreTest(
  db: Db,
  p: Principal,
  input: v.InferOutput<typeof CreateRestoreTestBody>,
  now: Date,
): Promise<RestoreTest> {
  const database = await findLiveDatabase(db, p.accountId, input.databaseId);
  if (!database)
    throw new ApiError('validation_failed', 'No such database', { databaseId: 'no such database' });
  let backup: typeof backups.$inferSelect | undefined;
  if (input.backupId) {
    [backup] = await db
      .select()
      .from(backups)
      .where(and(eq(backups.id, input.backupId), eq(backups.accountId, p.accountId)));
    if (!backup || backup.databaseId !== database.id)
      throw new ApiError('validation_failed', 'No such backup of this database', {
        backupId: 'no such backup of this database',
      });
    if (backup.status !== 'succeeded')
      throw new ApiError('conflict', 'Only a successful backup can be tested');
  } else {
    backup = await newestGoodBackup(db, database.id);
    if (!backup) throw new ApiError('conflict', 'This database has no successful backup yet');
  }
  if (await activeTest(db, database.id))
    throw new ApiError('conflict', 'A restore test of this database is already under way');
  const row = await queueRestoreTest(
    db,
    database,
    backup,
    { kind: 'manual', requestedBy: await requesterLabel(db, p) },
    now,
  );
  return toRestoreTest(row);
}

export async function findRestoreTest(db: Db, accountId: string, id: string): Promise<RestoreTestRow> {
  const [row] = await db
    .select()
    .from(restoreTests)
    .where(and(eq(restoreTests.id, id), eq(restoreTests.accountId, accountId)));
  if (!row) throw notFound('restore test');
  return row;
}

export async function listRestoreTests(
  db: Db,
  accountId: string,
  q: v.InferOutput<typeof ListRestoreTestsQuery>,
): Promise<RestoreTest[]> {
  const rows = await db
    .select()
    .from(restoreTests)
    .where(
      and(
        eq(restoreTests.accountId, accountId),
        q.databaseId ? eq(restoreTests.databaseId, q.databaseId) : undefined,
      ),
    )
    .orderBy(desc(restoreTests.requestedAt), desc(restoreTests.id))
    .limit(q.limit ?? 50);
  return rows.map(toRestoreTest);
}

/** Per live database of the account: its latest test and its last passed one. */
export async function restoreTestSummary(db: Db, accountId: string) {
  const latest = await db.execute<{ id: string }>(sql`
    select distinct on (t.database_id) t.id from restore_tests t
    join databases d on d.id = t.database_id and d.deleted_at is null
    where t.account_id = ${accountId}
    order by t.database_id, t.requested_at desc, t.id desc`);
  const passed = await db.execute<{
    database_id: string;
    finished_at: string | Date;
    restore_ms: number | null;
  }>(sql`
    select distinct on (database_id) database_id, finished_at, restore_ms from restore_tests
    where account_id = ${accountId} and state = 'passed'
    order by database_id, finished_at desc`);
  const ids = latest.rows.map((r) => r.id);
  const rows = ids.length ? await db.select().from(restoreTests).where(inArray(restoreTests.id, ids)) : [];
  const lastPassed = new Map(passed.rows.map((r) => [r.database_id, r]));
  return {
    items: rows.map((r) => {
      const p = lastPassed.get(r.databaseId);
      return {
        databaseId: r.databaseId,
        latest: toRestoreTest(r),
        lastPassedAt: p ? toDate(p.finished_at).toISOString() : null,
        lastPassedRestoreMs: p?.restore_ms ?? null,
      };
    }),
  };
}

/** A waiting test ends at once; a running one is stopped by its agent at its next report. */
export async function cancelRestoreTest(
  db: Db,
  accountId: string,
  id: string,
  now: Date,
): Promise<RestoreTest> {
  const row = await findRestoreTest(db, accountId, id);
  if (row.state === 'pending') {
    const [done] = await db
      .update(restoreTests)
      .set({ state: 'cancelled', finishedAt: now, cancelRequestedAt: now, errorCode: 'cancelled' })
      .where(and(eq(restoreTests.id, id), eq(restoreTests.state, 'pending')))
      .returning();
    if (done) return toRestoreTest(done);
    return cancelRestoreTest(db, accountId, id, now); // the agent took it meanwhile
  }
  if (row.state !== 'running') throw new ApiError('conflict', 'This restore test is already over');
  const [marked] = await db
    .update(restoreTests)
    .set({ cancelRequestedAt: row.cancelRequestedAt ?? now })
    .where(eq(restoreTests.id, id))
    .returning();
  return toRestoreTest(marked!);
}

// ---------- the agent's side ----------

function toJob(r: RestoreTestRow): RestoreTestJob {
  return {
    id: r.id,
    databaseId: r.databaseId,
    backupId: r.backupId!,
    sizeBytes: r.sizeBytes,
    engine: r.engine,
    target:
      r.targetKind === 'database' && r.targetDatabaseId
        ? { kind: 'database', databaseId: r.targetDatabaseId }
        : { kind: 'scratch' },
    connectionDatabaseId: r.connectionDatabaseId,
    scratchDatabase: r.scratchDatabase,
    timeLimitSeconds: r.timeLimitSeconds,
    checks: r.checks,
    requestedAt: r.requestedAt.toISOString(),
  };
}

/** The tests waiting for this agent, oldest first (their backup still there). */
export async function pendingRestoreTestJobs(
  db: Db,
  accountId: string,
  agentId: string,
): Promise<RestoreTestJob[]> {
  const rows = await db
    .select()
    .from(restoreTests)
    .where(
      and(
        eq(restoreTests.accountId, accountId),
        eq(restoreTests.agentId, agentId),
        eq(restoreTests.state, 'pending'),
      ),
    )
    .orderBy(asc(restoreTests.requestedAt))
    .limit(20);
  return rows.filter((r) => r.backupId !== null).map(toJob);
}

export async function startRestoreTest(
  db: Db,
  accountId: string,
  id: string,
  now: Date,
): Promise<RestoreTest> {
  await findRestoreTest(db, accountId, id);
  const [row] = await db
    .update(restoreTests)
    .set({ state: 'running', startedAt: now, progressAt: now, phase: 'check' })
    .where(and(eq(restoreTests.id, id), eq(restoreTests.state, 'pending')))
    .returning();
  if (!row) throw new ApiError('conflict', 'This restore test is no longer waiting');
  return toRestoreTest(row);
}

export async function reportRestoreTestProgress(
  db: Db,
  accountId: string,
  id: string,
  input: { phase: NonNullable<RestoreTestRow['phase']> },
  now: Date,
): Promise<{ cancelRequested: boolean }> {
  const row = await findRestoreTest(db, accountId, id);
  if (row.state !== 'running') throw new ApiError('conflict', 'This restore test is not running');
  await db
    .update(restoreTests)
    .set({ phase: input.phase, progressAt: now })
    .where(and(eq(restoreTests.id, id), eq(restoreTests.state, 'running')));
  return { cancelRequested: row.cancelRequestedAt !== null };
}

type Verdict = v.InferOutput<typeof RestoreTestVerdict>;

/** A verdict that contradicts itself is refused: a failed test is never stored as passed. */
function checkVerdict(row: RestoreTestRow, input: Verdict): void {
  const refuse = (message: string, field: string, why: string) =>
    new ApiError('validation_failed', message, { [field]: why });
  if (input.backupId !== row.backupId)
    throw refuse('The verdict is of another backup', 'backupId', 'is not the backup of this test');
  const known = new Set(row.checks.map((c) => c.id));
  for (const [i, c] of input.checks.entries())
    if (!known.has(c.id))
      throw refuse('No such check in this test', `checks.${i}.id`, 'is not a check of this test');
  if (input.tables.failures.length > input.tables.failed)
    throw refuse(
      'More failing tables listed than counted',
      'tables.failed',
      'is less than the failures listed',
    );
  if (input.tables.failed > input.tables.checked)
    throw refuse('More failing tables than checked', 'tables.failed', 'is more than tables.checked');
  const checksFailed = input.checks.some((c) => !c.passed);
  if (input.status === 'passed') {
    if (input.tables.failed > 0 || checksFailed || input.error)
      throw refuse('A test with failures cannot pass', 'status', 'is passed but a table or check failed');
    if (input.checks.length !== row.checks.length)
      throw refuse('A passed test reports every check', 'checks', 'must hold a result for every check');
    if (input.restoreMs === undefined)
      throw refuse('A passed test reports its restore time', 'restoreMs', 'is required for a passed test');
  }
  if (input.status === 'failed' && input.tables.failed === 0 && !checksFailed)
    throw refuse('A failed test names what failed', 'status', 'is failed but no table or check failed');
  if (input.status === 'error' && !input.error)
    throw refuse('A test that could not finish says why', 'error', 'is required for status error');
}

export async function reportRestoreTestResult(
  db: Db,
  accountId: string,
  id: string,
  input: Verdict,
  now: Date,
): Promise<RestoreTest> {
  const row = await findRestoreTest(db, accountId, id);
  if (row.state !== 'running') throw new ApiError('conflict', 'This restore test is not running');
  checkVerdict(row, input);
  const [done] = await db
    .update(restoreTests)
    .set({
      state: input.status,
      phase: null,
      finishedAt: now,
      restoreMs: input.restoreMs ?? null,
      totalMs: input.totalMs,
      tablesChecked: input.tables.checked,
      tablesFailed: input.tables.failed,
      tableFailures: input.tables.failures,
      checkResults: input.checks,
      errorCode: input.error?.code ?? (input.status === 'cancelled' ? 'cancelled' : null),
      error: input.error?.message ?? null,
      errorHint: input.error?.hint ?? null,
    })
    .where(and(eq(restoreTests.id, id), eq(restoreTests.state, 'running')))
    .returning();
  if (!done) throw new ApiError('conflict', 'This restore test is not running');
  return toRestoreTest(done);
}

/** A running test reports every few minutes; this long without a word, its agent is gone. */
export const RESTORE_TEST_SILENCE_MS = 10 * 60_000;

/** Cron: a running test whose agent went silent ends as an error instead of running forever. */
export async function failSilentRestoreTests(db: Db, now: Date): Promise<{ failed: number }> {
  const stale = await db
    .update(restoreTests)
    .set({
      state: 'error',
      phase: null,
      finishedAt: now,
      errorCode: 'agent_stopped',
      error: 'The agent stopped reporting for 10 minutes; the restore test was given up.',
    })
    .where(
      and(
        eq(restoreTests.state, 'running'),
        lt(restoreTests.progressAt, new Date(now.getTime() - RESTORE_TEST_SILENCE_MS)),
      ),
    )
    .returning();
  for (const r of stale)
    await recordAudit(db, {
      accountId: r.accountId,
      actor: { kind: 'system', name: 'restore-tests' },
      action: 'restore_test.finished',
      objectKind: 'restore_test',
      objectId: r.id,
      details: { databaseId: r.databaseId, backupId: r.backupId, state: 'error', errorCode: 'agent_stopped' },
    });
  return { failed: stale.length };
}
