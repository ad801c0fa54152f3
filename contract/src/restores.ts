// Restores from the dashboard or the API (issue 20). The control plane only keeps the job: the
// customer's agent, which holds the key, downloads the ciphertext, decrypts and replays it into
// the target, reporting phase and bytes. Zero knowledge stays: no plaintext, no key here.
import * as v from 'valibot';
import { Text, Timestamp, toStorableText } from './text.ts';

const Id = v.pipe(v.string(), v.uuid('must be a UUID'));
const Str = (max: number) => v.pipe(Text, v.maxLength(max, 'is too long'));

export const RESTORE_STATES = ['pending', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type RestoreState = (typeof RESTORE_STATES)[number];
/** pending and running are not over yet */
export const isRestoreActive = (state: RestoreState) => state === 'pending' || state === 'running';

/** what the agent is doing: checking the target, fetching the file, replaying rows, building indexes */
export const RESTORE_PHASES = ['check', 'download', 'data', 'indexes'] as const;
export type RestorePhase = (typeof RESTORE_PHASES)[number];

/**
 * Why a restore failed, one code per kind of fix (the dashboard words it in the account's language;
 * `error` carries the tool's own text, untranslated).
 */
export const RESTORE_ERROR_CODES = [
  'target_exists',
  'target_not_empty',
  'permission_denied',
  'connection_failed',
  'auth_failed',
  'disk_full',
  'download_failed',
  'file_damaged',
  'wrong_key',
  'key_missing',
  'tool_missing',
  'restore_failed',
  'password_unsealable',
  'agent_stopped',
  'internal',
] as const;
export type RestoreErrorCode = (typeof RESTORE_ERROR_CODES)[number];

/** A database name the agent may create: letters, digits, _ and -, so every engine takes it unquoted. */
export const RestoreDatabaseName = v.pipe(
  Text,
  v.minLength(1, 'must not be empty'),
  v.maxLength(63, 'is too long'),
  v.regex(
    /^[A-Za-z_][A-Za-z0-9_-]*$/,
    'must start with a letter or _ and hold only letters, digits, _ and -',
  ),
);

/**
 * Where to restore:
 * - new: a new database of this name on the server of the backup's database (created by the agent)
 * - database: another database registered on the same agent (same kind of server); it must be empty
 * - original: over the backup's own database; `confirm` must repeat its database name, and a
 *   browser session must re-enter the account password (`password` in the body)
 */
export const RestoreTargetInput = v.variant(
  'kind',
  [
    v.strictObject({ kind: v.literal('new'), database: RestoreDatabaseName }),
    v.strictObject({ kind: v.literal('database'), databaseId: Id }),
    v.strictObject({ kind: v.literal('original'), confirm: Str(63) }),
  ],
  'must be new, database or original',
);
export type RestoreTargetInput = v.InferInput<typeof RestoreTargetInput>;

export const CreateRestoreBody = v.pipe(
  v.strictObject({
    /** the backup to restore; or `databaseId` for that database's newest successful backup */
    backupId: v.optional(Id),
    databaseId: v.optional(Id),
    target: RestoreTargetInput,
    /** the account password again, for a replace from a browser session; never stored or logged */
    password: v.optional(Str(200)),
  }),
  v.forward(
    v.check(
      // neither: refused by the worker (with the same words), so each field alone stays testable
      (b) => b.backupId === undefined || b.databaseId === undefined,
      'give either backupId or databaseId',
    ),
    ['backupId'],
  ),
);
export type CreateRestoreBody = v.InferInput<typeof CreateRestoreBody>;

export const RestoreTarget = v.object({
  kind: v.picklist(['new', 'database', 'original']),
  /** the registered database restored into (original, database); null for a new one */
  databaseId: v.nullable(Id),
  engine: v.picklist(['postgres', 'mysql', 'mariadb']),
  host: v.string(),
  port: v.number(),
  database: v.string(),
  replace: v.boolean(),
});

export const Restore = v.object({
  id: Id,
  /** the database the backup is of */
  databaseId: Id,
  databaseName: v.string(),
  /** null once the backup itself was deleted (retention); the history keeps its time */
  backupId: v.nullable(Id),
  backupStartedAt: Timestamp,
  agentId: v.nullable(Id),
  target: RestoreTarget,
  state: v.picklist(RESTORE_STATES),
  phase: v.nullable(v.picklist(RESTORE_PHASES)),
  bytesDone: v.number(),
  bytesTotal: v.nullable(v.number()),
  requestedAt: Timestamp,
  /** who asked: an e-mail address or an API key's name */
  requestedBy: v.nullable(v.string()),
  startedAt: v.nullable(Timestamp),
  finishedAt: v.nullable(Timestamp),
  /** from the agent's start to its end: the measured RTO */
  durationMs: v.nullable(v.number()),
  cancelRequested: v.boolean(),
  errorCode: v.nullable(v.picklist(RESTORE_ERROR_CODES)),
  error: v.nullable(v.string()),
});
export type Restore = v.InferOutput<typeof Restore>;
export const RestoreResponse = v.object({ restore: Restore });
export const RestoreList = v.object({ items: v.array(Restore) });

export const ListRestoresQuery = v.strictObject({
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

// ---------- the agent's side ----------

/** A restore the agent should run, in its heartbeat answer and its restore poll. */
export const RestoreJob = v.object({
  id: Id,
  backupId: Id,
  /** the backup's size, for the disk check and the download's progress */
  sizeBytes: v.number(),
  /** the database whose configuration (credentials) the agent connects with */
  connectionDatabaseId: Id,
  engine: v.picklist(['postgres', 'mysql', 'mariadb']),
  /** the database to restore into; `create`: the agent creates it first (and drops it on failure) */
  database: v.string(),
  create: v.boolean(),
  replace: v.boolean(),
  requestedAt: Timestamp,
});
export type RestoreJob = v.InferOutput<typeof RestoreJob>;
export const RestoreJobList = v.object({ items: v.array(RestoreJob) });
export const AgentRestoresQuery = v.strictObject({ agentId: Id });

const Bytes = v.pipe(
  v.number('must be a number'),
  v.integer('must be a whole number'),
  v.minValue(0, 'must not be negative'),
  v.maxValue(Number.MAX_SAFE_INTEGER, 'is too large'),
);

export const RestoreProgressBody = v.strictObject({
  phase: v.picklist(RESTORE_PHASES, `must be one of ${RESTORE_PHASES.join(', ')}`),
  bytesDone: Bytes,
  bytesTotal: v.optional(Bytes),
});
/** The agent learns of a cancel in the answer to its progress report. */
export const RestoreProgressResponse = v.object({ cancelRequested: v.boolean() });

export const FinishRestoreBody = v.strictObject({
  state: v.picklist(['succeeded', 'failed', 'cancelled'], 'must be succeeded, failed or cancelled'),
  errorCode: v.optional(v.picklist(RESTORE_ERROR_CODES, 'is not a known restore error code')),
  error: v.optional(
    v.pipe(v.string('must be a string'), v.transform(toStorableText), v.maxLength(8000, 'is too long')),
  ),
  durationMs: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(2_147_483_647, 'must be 0–2147483647')),
  ),
  bytesDone: v.optional(Bytes),
});
export type FinishRestoreBody = v.InferInput<typeof FinishRestoreBody>;
