import type {
  CheckResult,
  CustomCheck,
  RestoreTestErrorCode,
  RestoreTestPhase,
  RestoreTestState,
  TableFailure,
} from '@resistro/contract';
import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { accounts } from '../accounts/accounts.sql.ts';
import { agents } from '../agents/agents.sql.ts';
import { backups } from '../backups/backups.sql.ts';
import { databases } from '../databases/databases.sql.ts';
import { ts } from '../lib/columns.ts';

/** A database's restore test settings; a database without a row runs on the defaults (weekly, scratch). */
export const restoreTestSettings = pgTable('restore_test_settings', {
  databaseId: uuid('database_id')
    .primaryKey()
    .references(() => databases.id, { onDelete: 'cascade' }),
  accountId: uuid('account_id')
    .notNull()
    .references(() => accounts.id, { onDelete: 'cascade' }),
  enabled: boolean('enabled').notNull(),
  intervalHours: integer('interval_hours').notNull(),
  targetKind: text('target_kind', { enum: ['scratch', 'database'] }).notNull(),
  targetDatabaseId: uuid('target_database_id').references(() => databases.id, { onDelete: 'set null' }),
  timeLimitMinutes: integer('time_limit_minutes').notNull(),
  alertAfterDays: integer('alert_after_days').notNull(),
  /** the customer's own checks; they typed them, they are not secret */
  checks: jsonb('checks').$type<CustomCheck[]>().notNull(),
  updatedAt: ts('updated_at').notNull(),
});

/** One restore test: asked for by the schedule or a person, run by the agent, ended by its verdict. */
export const restoreTests = pgTable(
  'restore_tests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    databaseId: uuid('database_id')
      .notNull()
      .references(() => databases.id, { onDelete: 'cascade' }),
    databaseName: text('database_name').notNull(),
    /** null once retention deleted the backup; the history keeps its time */
    backupId: uuid('backup_id').references(() => backups.id, { onDelete: 'set null' }),
    backupStartedAt: ts('backup_started_at'),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    agentId: uuid('agent_id').references(() => agents.id, { onDelete: 'set null' }),
    trigger: text('trigger', { enum: ['schedule', 'manual'] }).notNull(),
    requestedBy: text('requested_by'),
    engine: text('engine', { enum: ['postgres', 'mysql', 'mariadb'] }).notNull(),
    targetKind: text('target_kind', { enum: ['scratch', 'database'] }).notNull(),
    targetDatabaseId: uuid('target_database_id'),
    connectionDatabaseId: uuid('connection_database_id').notNull(),
    scratchDatabase: text('scratch_database').notNull(),
    timeLimitSeconds: integer('time_limit_seconds').notNull(),
    /** the checks as they were asked for: the verdict is read against these */
    checks: jsonb('checks').$type<CustomCheck[]>().notNull(),
    state: text('state').$type<RestoreTestState>().notNull(),
    phase: text('phase').$type<RestoreTestPhase>(),
    requestedAt: ts('requested_at').notNull(),
    startedAt: ts('started_at'),
    progressAt: ts('progress_at'),
    finishedAt: ts('finished_at'),
    cancelRequestedAt: ts('cancel_requested_at'),
    restoreMs: integer('restore_ms'),
    totalMs: integer('total_ms'),
    tablesChecked: integer('tables_checked'),
    tablesFailed: integer('tables_failed'),
    /** only the failing tables' names (the user must see what failed); passing tables never come here */
    tableFailures: jsonb('table_failures').$type<TableFailure[]>(),
    checkResults: jsonb('check_results').$type<CheckResult[]>(),
    errorCode: text('error_code').$type<RestoreTestErrorCode>(),
    error: text('error'),
    errorHint: text('error_hint'),
  },
  (t) => [
    index('restore_tests_database_requested_idx').on(t.databaseId, t.requestedAt),
    index('restore_tests_account_requested_idx').on(t.accountId, t.requestedAt),
    index('restore_tests_pending_agent_idx').on(t.agentId).where(sql`state = 'pending'`),
    index('restore_tests_running_idx').on(t.progressAt).where(sql`state = 'running'`),
  ],
);
