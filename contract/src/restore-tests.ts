// Restore tests (issue 14): on a schedule or on demand, the database's agent restores its newest
// good backup into a scratch database, compares every table with the row counts and hashes it
// took while dumping (those travel inside the encrypted backup, never here), runs the customer's
// own checks, times it all and drops the scratch copy. The control plane keeps the settings, the
// jobs and each verdict: passed or failed, and why.
import * as v from 'valibot';
import type { PlanId } from './plans.ts';
import { Text, Timestamp, toStorableText } from './text.ts';

const Id = v.pipe(v.string(), v.uuid('must be a UUID'));
const Str = (max: number) => v.pipe(Text, v.maxLength(max, 'is too long'));
const Int = (min: number, max: number) =>
  v.pipe(
    v.number('must be a number'),
    v.integer('must be a whole number'),
    v.minValue(min, `must be ${min}–${max}`),
    v.maxValue(max, `must be ${min}–${max}`),
  );
/** Text from the agent (a tool's message): made storable, then bounded. */
const AgentText = (max: number) =>
  v.pipe(v.string('must be a string'), v.transform(toStorableText), v.maxLength(max, 'is too long'));

// ---------- settings per database ----------

/** Hours between scheduled tests: the shortest each plan allows (default: weekly on every plan). */
export const RESTORE_TEST_MIN_INTERVAL_HOURS: Record<PlanId, number> = {
  starter: 168,
  business: 24,
  professional: 6,
  enterprise: 1,
};
export const RESTORE_TEST_DEFAULT_INTERVAL_HOURS = 168;
export const RESTORE_TEST_MAX_INTERVAL_HOURS = 720;
export const RESTORE_TEST_DEFAULT_TIME_LIMIT_MINUTES = 120;
export const RESTORE_TEST_DEFAULT_ALERT_AFTER_DAYS = 14;
export const RESTORE_TEST_MAX_CHECKS = 20;

export const CHECK_OPS = ['>', '>=', '=', '!=', '<', '<='] as const;
export type CheckOp = (typeof CHECK_OPS)[number];

/**
 * One query that returns one value, read-only: SELECT or WITH first, no second statement (a ';'
 * only at the very end). The agent also runs it in a read-only transaction on the scratch copy,
 * so this is the friendly first line, not the only one.
 */
export function isSingleSelect(sql: string): boolean {
  const body = sql.trim().replace(/;\s*$/, '');
  return /^(select|with)\b/i.test(body) && !body.includes(';');
}

export const CheckSql = v.pipe(
  Text,
  v.minLength(1, 'must not be empty'),
  v.maxLength(4000, 'is too long'),
  v.check(isSingleSelect, 'must be one SELECT (or WITH … SELECT) statement returning one value'),
);

export const CheckExpectation = v.strictObject({
  op: v.picklist(CHECK_OPS, `must be one of ${CHECK_OPS.join(' ')}`),
  /** compared as a number when both sides are numbers, else as text */
  value: Str(200),
});

/** A check as the customer typed it; `id` is kept when editing, new ones get one. */
export const CustomCheckInput = v.strictObject({
  id: v.optional(Id),
  name: v.pipe(Text, v.minLength(1, 'must not be empty'), v.maxLength(100, 'is too long')),
  sql: CheckSql,
  expect: CheckExpectation,
});
export type CustomCheckInput = v.InferInput<typeof CustomCheckInput>;

export const CustomCheck = v.object({
  id: Id,
  name: v.string(),
  sql: v.string(),
  expect: v.object({ op: v.picklist(CHECK_OPS), value: v.string() }),
});
export type CustomCheck = v.InferOutput<typeof CustomCheck>;

/**
 * Where the scratch copy is made. scratch: a temporary database `resistro_verify_<short id>` on the
 * tested database's own server. database: on the server of another database registered on the
 * same agent (same kind of server; recommended, the production server does no restore work); the
 * agent connects with that database's settings and creates the scratch database there.
 */
export const RestoreTestTargetInput = v.variant(
  'kind',
  [
    v.strictObject({ kind: v.literal('scratch') }),
    v.strictObject({ kind: v.literal('database'), databaseId: Id }),
  ],
  'must be scratch or database',
);
export type RestoreTestTargetInput = v.InferInput<typeof RestoreTestTargetInput>;

export const PutRestoreTestSettingsBody = v.strictObject({
  enabled: v.boolean('must be true or false'),
  /** hours between scheduled tests, at least the plan's minimum (RESTORE_TEST_MIN_INTERVAL_HOURS) */
  intervalHours: Int(1, RESTORE_TEST_MAX_INTERVAL_HOURS),
  target: RestoreTestTargetInput,
  /** the agent stops the test (verdict error/time_limit) past this */
  timeLimitMinutes: Int(1, 1440),
  /** alert "no successful restore test for N days" */
  alertAfterDays: Int(1, 365),
  checks: v.pipe(
    v.array(CustomCheckInput, 'must be a list'),
    v.maxLength(RESTORE_TEST_MAX_CHECKS, `must hold at most ${RESTORE_TEST_MAX_CHECKS} checks`),
  ),
});
export type PutRestoreTestSettingsBody = v.InferInput<typeof PutRestoreTestSettingsBody>;

export const RestoreTestSettings = v.object({
  databaseId: Id,
  enabled: v.boolean(),
  intervalHours: v.number(),
  /** the plan's shortest interval, for the form */
  minIntervalHours: v.number(),
  target: v.object({ kind: v.picklist(['scratch', 'database']), databaseId: v.nullable(Id) }),
  timeLimitMinutes: v.number(),
  alertAfterDays: v.number(),
  checks: v.array(CustomCheck),
  /** when the schedule next asks for a test; null when disabled */
  nextDueAt: v.nullable(Timestamp),
  /** false until someone saved settings: these are the defaults */
  saved: v.boolean(),
});
export type RestoreTestSettings = v.InferOutput<typeof RestoreTestSettings>;
export const RestoreTestSettingsResponse = v.object({ settings: RestoreTestSettings });

// ---------- the verdict ----------

export const RESTORE_TEST_STATES = ['pending', 'running', 'passed', 'failed', 'error', 'cancelled'] as const;
export type RestoreTestState = (typeof RESTORE_TEST_STATES)[number];
export const isRestoreTestActive = (s: RestoreTestState) => s === 'pending' || s === 'running';

/** passed: restored and every check held; failed: restored but a table or a check differs; error: could not finish */
export const VERDICT_STATUSES = ['passed', 'failed', 'error', 'cancelled'] as const;

/** What the agent is doing, reported with progress (for the dashboard). */
export const RESTORE_TEST_PHASES = ['check', 'download', 'restore', 'verify', 'cleanup'] as const;
export type RestoreTestPhase = (typeof RESTORE_TEST_PHASES)[number];

/** Why a test could not finish; one code per kind of fix (the dashboard words a hint per code). */
export const RESTORE_TEST_ERROR_CODES = [
  'disk_space',
  'time_limit',
  'restore_failed',
  'no_table_stats',
  'download_failed',
  'file_damaged',
  'wrong_key',
  'key_missing',
  'connection_failed',
  'permission_denied',
  'cancelled',
  'agent_stopped',
  'internal',
] as const;
export type RestoreTestErrorCode = (typeof RESTORE_TEST_ERROR_CODES)[number];

export const TABLE_FAILURE_REASONS = ['rows_differ', 'content_differs', 'missing', 'unexpected'] as const;
export type TableFailureReason = (typeof TABLE_FAILURE_REASONS)[number];
export const MAX_TABLE_FAILURES = 50;

/** tables in one database */
const Count = Int(0, 2_147_483_647);
/** rows in one table: can pass 2^31 */
const Rows = Int(0, Number.MAX_SAFE_INTEGER);

export const TableFailure = v.strictObject({
  /** schema.name as the engine spells it */
  table: AgentText(300),
  reason: v.picklist(TABLE_FAILURE_REASONS, `must be one of ${TABLE_FAILURE_REASONS.join(', ')}`),
  expectedRows: v.optional(Rows),
  actualRows: v.optional(Rows),
});
export type TableFailure = v.InferOutput<typeof TableFailure>;

export const CheckResult = v.strictObject({
  id: Id,
  passed: v.boolean('must be true or false'),
  /** the value the query returned, as text */
  actual: v.optional(AgentText(200)),
  /** the database's error when the query failed (it then did not pass) */
  error: v.optional(AgentText(2000)),
});
export type CheckResult = v.InferOutput<typeof CheckResult>;

/** The agent's report at the end of a test (POST /restore-tests/{id}/result). */
export const RestoreTestVerdict = v.strictObject({
  status: v.picklist(VERDICT_STATUSES, `must be one of ${VERDICT_STATUSES.join(', ')}`),
  /** the backup restored (the job's) */
  backupId: Id,
  /** download + decrypt + replay into the scratch database: the measured RTO */
  restoreMs: v.optional(Int(0, 2_147_483_647)),
  /** everything, checks and cleanup included */
  totalMs: Int(0, 2_147_483_647),
  tables: v.strictObject({
    checked: Count,
    failed: Count,
    failures: v.pipe(
      v.array(TableFailure, 'must be a list'),
      v.maxLength(MAX_TABLE_FAILURES, `must hold at most ${MAX_TABLE_FAILURES} tables`),
    ),
  }),
  checks: v.pipe(
    v.array(CheckResult, 'must be a list'),
    v.maxLength(RESTORE_TEST_MAX_CHECKS, `must hold at most ${RESTORE_TEST_MAX_CHECKS} results`),
  ),
  error: v.optional(
    v.strictObject({
      code: v.picklist(RESTORE_TEST_ERROR_CODES, 'is not a known restore test error code'),
      /** the tool's own words, untranslated */
      message: AgentText(8000),
      hint: v.optional(AgentText(2000)),
    }),
  ),
});
export type RestoreTestVerdict = v.InferInput<typeof RestoreTestVerdict>;

export const RestoreTestProgressBody = v.strictObject({
  phase: v.picklist(RESTORE_TEST_PHASES, `must be one of ${RESTORE_TEST_PHASES.join(', ')}`),
});
/** The agent learns of a cancel in the answer to its progress report. */
export const RestoreTestProgressResponse = v.object({ cancelRequested: v.boolean() });

// ---------- the account's view ----------

export const RestoreTest = v.object({
  id: Id,
  databaseId: Id,
  databaseName: v.string(),
  /** null once retention deleted the backup */
  backupId: v.nullable(Id),
  backupStartedAt: v.nullable(Timestamp),
  agentId: v.nullable(Id),
  trigger: v.picklist(['schedule', 'manual']),
  /** who asked (e-mail or API key name); null for the schedule */
  requestedBy: v.nullable(v.string()),
  target: v.object({
    kind: v.picklist(['scratch', 'database']),
    databaseId: v.nullable(Id),
    /** the scratch database's name (created and dropped by the agent) */
    database: v.string(),
  }),
  state: v.picklist(RESTORE_TEST_STATES),
  phase: v.nullable(v.picklist(RESTORE_TEST_PHASES)),
  timeLimitSeconds: v.number(),
  requestedAt: Timestamp,
  startedAt: v.nullable(Timestamp),
  finishedAt: v.nullable(Timestamp),
  restoreMs: v.nullable(v.number()),
  totalMs: v.nullable(v.number()),
  tables: v.nullable(
    v.object({
      checked: v.number(),
      failed: v.number(),
      failures: v.array(
        v.object({
          table: v.string(),
          reason: v.picklist(TABLE_FAILURE_REASONS),
          expectedRows: v.optional(v.number()),
          actualRows: v.optional(v.number()),
        }),
      ),
    }),
  ),
  /** the checks as they were when the test ran, each with its result once over */
  checks: v.array(
    v.object({
      ...CustomCheck.entries,
      passed: v.nullable(v.boolean()),
      actual: v.nullable(v.string()),
      error: v.nullable(v.string()),
    }),
  ),
  errorCode: v.nullable(v.picklist(RESTORE_TEST_ERROR_CODES)),
  error: v.nullable(v.string()),
  errorHint: v.nullable(v.string()),
  cancelRequested: v.boolean(),
});
export type RestoreTest = v.InferOutput<typeof RestoreTest>;
export const RestoreTestResponse = v.object({ restoreTest: RestoreTest });
export const RestoreTestList = v.object({ items: v.array(RestoreTest) });

/** "test now": the newest successful backup unless one is named. */
export const CreateRestoreTestBody = v.strictObject({
  databaseId: Id,
  backupId: v.optional(Id),
});

export const ListRestoreTestsQuery = v.strictObject({
  databaseId: v.optional(Id),
  limit: v.optional(
    v.pipe(
      Text,
      v.regex(/^\d{1,3}$/, 'must be 1–100'),
      v.transform(Number),
      v.minValue(1, 'must be 1–100'),
      v.maxValue(100, 'must be 1–100'),
    ),
  ),
});

/** Per database: its latest test and when one last passed (the list's "last verified restore"). */
export const RestoreTestSummary = v.object({
  items: v.array(
    v.object({
      databaseId: Id,
      latest: v.nullable(RestoreTest),
      lastPassedAt: v.nullable(Timestamp),
      /** restore time of the last passed test: the measured RTO */
      lastPassedRestoreMs: v.nullable(v.number()),
    }),
  ),
});

// ---------- the agent's side ----------

/** A test the agent should run, in its heartbeat answer (`restoreTestRequests`). */
export const RestoreTestJob = v.object({
  id: Id,
  /** the database whose backup is tested (never written to) */
  databaseId: Id,
  backupId: Id,
  /** the backup's size, for the free-disk check */
  sizeBytes: v.number(),
  engine: v.picklist(['postgres', 'mysql', 'mariadb']),
  target: v.variant('kind', [
    v.object({ kind: v.literal('scratch') }),
    v.object({ kind: v.literal('database'), databaseId: Id }),
  ]),
  /** whose settings (host, user, credentials) the agent connects with: the tested database or the target's */
  connectionDatabaseId: Id,
  /** the scratch database to create, restore into, check and drop: resistro_verify_<short id> */
  scratchDatabase: v.string(),
  timeLimitSeconds: v.number(),
  checks: v.array(CustomCheck),
  requestedAt: Timestamp,
});
export type RestoreTestJob = v.InferOutput<typeof RestoreTestJob>;

/** The scratch database's name for a test: never the name of a customer's database. */
export const scratchDatabaseName = (testId: string) =>
  `resistro_verify_${testId.replaceAll('-', '').slice(0, 12)}`;

// ---------- the monthly report ----------

export const MonthlyReportQuery = v.strictObject({
  /** YYYY-MM; default: the previous month */
  month: v.optional(v.pipe(Text, v.regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM'))),
});

export const MonthlyReport = v.object({
  month: v.string(),
  from: Timestamp,
  to: Timestamp,
  language: v.picklist(['en', 'de']),
  generatedAt: Timestamp,
  databases: v.array(
    v.object({
      id: Id,
      name: v.string(),
      engine: v.string(),
      backups: v.object({
        succeeded: v.number(),
        failed: v.number(),
        bytes: v.number(),
        lastSucceededAt: v.nullable(Timestamp),
      }),
      restoreTests: v.object({
        passed: v.number(),
        failed: v.number(),
        error: v.number(),
        lastPassedAt: v.nullable(Timestamp),
        /** the measured RTO: restore time of the last passed test, and the longest in the month */
        lastRestoreMs: v.nullable(v.number()),
        maxRestoreMs: v.nullable(v.number()),
      }),
      /** what went wrong, oldest first, in the account's language */
      failures: v.array(
        v.object({ at: Timestamp, kind: v.picklist(['backup', 'restore_test']), text: v.string() }),
      ),
    }),
  ),
});
export type MonthlyReport = v.InferOutput<typeof MonthlyReport>;
export const MonthlyReportResponse = v.object({ report: MonthlyReport });
