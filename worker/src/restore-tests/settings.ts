// A database's restore test settings: how often, where the scratch copy goes, how long it may take
// and the customer's own checks. A database without a saved row runs on the defaults (weekly, a
// scratch database on its own server, no custom checks).
import {
  type PlanId,
  type PutRestoreTestSettingsBody,
  RESTORE_TEST_DEFAULT_ALERT_AFTER_DAYS,
  RESTORE_TEST_DEFAULT_INTERVAL_HOURS,
  RESTORE_TEST_DEFAULT_TIME_LIMIT_MINUTES,
  RESTORE_TEST_MIN_INTERVAL_HOURS,
  type RestoreTestSettings,
} from '@resistro/contract';
import { and, desc, eq, isNull } from 'drizzle-orm';
import type * as v from 'valibot';
import { accounts } from '../accounts/accounts.sql.ts';
import { databases } from '../databases/databases.sql.ts';
import type { Db } from '../db.ts';
import { ApiError, notFound } from '../errors.ts';
import { restoreTestSettings, restoreTests } from './restore-tests.sql.ts';

export type SettingsRow = typeof restoreTestSettings.$inferSelect;
type DatabaseRow = typeof databases.$inferSelect;

export const isSqlEngine = (engine: string): engine is 'postgres' | 'mysql' | 'mariadb' =>
  engine === 'postgres' || engine === 'mysql' || engine === 'mariadb';
export const engineFamily = (engine: string) => (engine === 'postgres' ? 'postgres' : 'mysql');

/** What a database without saved settings runs on. */
export function defaultSettings(database: Pick<DatabaseRow, 'id' | 'accountId'>): SettingsRow {
  return {
    databaseId: database.id,
    accountId: database.accountId,
    enabled: true,
    intervalHours: RESTORE_TEST_DEFAULT_INTERVAL_HOURS,
    targetKind: 'scratch',
    targetDatabaseId: null,
    timeLimitMinutes: RESTORE_TEST_DEFAULT_TIME_LIMIT_MINUTES,
    alertAfterDays: RESTORE_TEST_DEFAULT_ALERT_AFTER_DAYS,
    checks: [],
    updatedAt: new Date(0),
  };
}

/** The interval the schedule keeps: the saved one, never shorter than the plan allows now (after a downgrade). */
export const effectiveIntervalHours = (s: Pick<SettingsRow, 'intervalHours'>, plan: PlanId) =>
  Math.max(s.intervalHours, RESTORE_TEST_MIN_INTERVAL_HOURS[plan]);

export async function findLiveDatabase(
  db: Db,
  accountId: string,
  id: string,
): Promise<DatabaseRow | undefined> {
  const [row] = await db
    .select()
    .from(databases)
    .where(and(eq(databases.id, id), eq(databases.accountId, accountId), isNull(databases.deletedAt)));
  return row;
}

async function accountPlan(db: Db, accountId: string): Promise<PlanId> {
  const [a] = await db.select({ plan: accounts.plan }).from(accounts).where(eq(accounts.id, accountId));
  return a?.plan ?? 'starter';
}

export async function loadSettings(
  db: Db,
  database: DatabaseRow,
): Promise<{ row: SettingsRow; saved: boolean }> {
  const [row] = await db
    .select()
    .from(restoreTestSettings)
    .where(eq(restoreTestSettings.databaseId, database.id));
  return row ? { row, saved: true } : { row: defaultSettings(database), saved: false };
}

async function toSettings(
  db: Db,
  database: DatabaseRow,
  row: SettingsRow,
  saved: boolean,
): Promise<RestoreTestSettings> {
  const plan = await accountPlan(db, database.accountId);
  let nextDueAt: string | null = null;
  if (row.enabled && !database.paused) {
    const [last] = await db
      .select({ requestedAt: restoreTests.requestedAt })
      .from(restoreTests)
      .where(and(eq(restoreTests.databaseId, database.id), eq(restoreTests.trigger, 'schedule')))
      .orderBy(desc(restoreTests.requestedAt))
      .limit(1);
    // the first scheduled test comes one interval after the database was added
    const from = last?.requestedAt ?? database.createdAt;
    nextDueAt = new Date(from.getTime() + effectiveIntervalHours(row, plan) * 3600_000).toISOString();
  }
  return {
    databaseId: database.id,
    enabled: row.enabled,
    intervalHours: row.intervalHours,
    minIntervalHours: RESTORE_TEST_MIN_INTERVAL_HOURS[plan],
    target: { kind: row.targetKind, databaseId: row.targetDatabaseId },
    timeLimitMinutes: row.timeLimitMinutes,
    alertAfterDays: row.alertAfterDays,
    checks: row.checks,
    nextDueAt,
    saved,
  };
}

export async function getRestoreTestSettings(db: Db, accountId: string, databaseId: string) {
  const database = await findLiveDatabase(db, accountId, databaseId);
  if (!database) throw notFound('database');
  const { row, saved } = await loadSettings(db, database);
  return toSettings(db, database, row, saved);
}

/** The target server must be another registered database of the same kind on the same agent. */
async function checkTarget(db: Db, source: DatabaseRow, targetId: string): Promise<void> {
  const other = await findLiveDatabase(db, source.accountId, targetId);
  const refuse = (why: string, field: string) =>
    new ApiError('validation_failed', why, { 'target.databaseId': field });
  if (!other) throw refuse('No such database', 'no such database');
  if (other.id === source.id)
    throw refuse('Choose scratch to test on the database’s own server', 'is the tested database itself');
  if (other.agentId !== source.agentId)
    throw refuse('The target database must run on the same agent', 'runs on another agent');
  if (!isSqlEngine(other.engine) || engineFamily(other.engine) !== engineFamily(source.engine))
    throw refuse('The target database must be the same kind of server', 'is another kind of server');
}

export async function putRestoreTestSettings(
  db: Db,
  accountId: string,
  databaseId: string,
  input: v.InferOutput<typeof PutRestoreTestSettingsBody>,
  now: Date,
): Promise<RestoreTestSettings> {
  const database = await findLiveDatabase(db, accountId, databaseId);
  if (!database) throw notFound('database');
  if (!isSqlEngine(database.engine))
    throw new ApiError(
      'conflict',
      'Restore tests run for PostgreSQL, MySQL and MariaDB databases; test SQLite, Redis and directory backups with resistro verify',
    );
  const plan = await accountPlan(db, accountId);
  const min = RESTORE_TEST_MIN_INTERVAL_HOURS[plan];
  if (input.intervalHours < min)
    throw new ApiError('validation_failed', `Your plan runs restore tests at most every ${min} hours`, {
      intervalHours: `must be at least ${min} on your plan`,
    });
  if (input.target.kind === 'database') await checkTarget(db, database, input.target.databaseId);
  const names = new Set<string>();
  for (const [i, check] of input.checks.entries()) {
    if (names.has(check.name))
      throw new ApiError('validation_failed', 'Give each check its own name', {
        [`checks.${i}.name`]: 'is used by another check',
      });
    names.add(check.name);
  }
  const values = {
    accountId,
    enabled: input.enabled,
    intervalHours: input.intervalHours,
    targetKind: input.target.kind,
    targetDatabaseId: input.target.kind === 'database' ? input.target.databaseId : null,
    timeLimitMinutes: input.timeLimitMinutes,
    alertAfterDays: input.alertAfterDays,
    checks: input.checks.map((c) => ({
      id: c.id ?? crypto.randomUUID(),
      name: c.name,
      sql: c.sql.trim(),
      expect: c.expect,
    })),
    updatedAt: now,
  };
  const [row] = await db
    .insert(restoreTestSettings)
    .values({ databaseId, ...values })
    .onConflictDoUpdate({ target: restoreTestSettings.databaseId, set: values })
    .returning();
  return toSettings(db, database, row!, true);
}
