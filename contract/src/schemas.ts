// The API contract: every request body, query and response of /api/v1, as valibot schemas.
// The worker validates with them, the OpenAPI document is generated from them, and the web app
// and the agent type their client with them. Browser-safe: valibot only.

import * as v from 'valibot';
import { BackupErrorCodeSchema, BackupErrorParams } from './backup-errors.ts';
import { BillingSummary } from './billing.ts';
import { CheckRequest, ConnectionCheck } from './checks.ts';
import { Cursor, Limit, pageOf } from './page.ts';
import { PLAN_IDS } from './plans.ts';
import { RestoreTestJob } from './restore-tests.ts';
import { RestoreJob } from './restores.ts';
import { BackupCopy, CopyJob } from './retention.ts';
import { isValidCron, isValidTimeZone } from './schedule.ts';
import { looksSealed } from './seal.ts';
import { Text, Timestamp, toStorableText } from './text.ts';

export const Id = v.pipe(v.string(), v.uuid('must be a UUID'));

// ---------- accounts ----------
export const Email = v.pipe(
  Text,
  v.trim(),
  v.toLowerCase(),
  v.maxLength(254, 'is too long'),
  v.email('must be a valid e-mail address'),
);
export const Password = v.pipe(
  Text,
  v.minLength(10, 'must have at least 10 characters'),
  v.maxLength(200, 'must have at most 200 characters'),
);
export const PlanIdSchema = v.picklist(
  PLAN_IDS,
  'must be one of starter, business, professional, enterprise',
);

/** The account's language: every text the service shows or sends it is in this one. */
export const LANGUAGES = ['en', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];
export const LanguageSchema = v.picklist(LANGUAGES, 'must be en or de');
/** For dates and times in e-mails and the dashboard (schedules keep their own time zone). */
export const AccountTimeZone = v.pipe(
  Text,
  v.maxLength(64, 'is too long'),
  v.check(isValidTimeZone, 'is not a known time zone'),
);

export const SignupBody = v.strictObject({
  email: Email,
  password: Password,
  plan: v.optional(PlanIdSchema),
  /** default: the request's Accept-Language */
  language: v.optional(LanguageSchema),
  /** default: UTC */
  timeZone: v.optional(AccountTimeZone),
});
export const LoginBody = v.strictObject({ email: Email, password: v.pipe(Text, v.maxLength(200)) });

export const User = v.object({
  id: Id,
  email: v.string(),
  /** the member's role in the account (docs/teams.md) */
  role: v.picklist(['owner', 'admin', 'operator', 'viewer']),
  /** a viewer granted backup downloads (operator and higher always may) */
  canDownload: v.boolean(),
  createdAt: Timestamp,
  /** false until the address confirmed the link sent to it (alerts go only to verified addresses) */
  emailVerified: v.boolean(),
  twoFactorEnabled: v.boolean(),
});
export const Usage = v.object({
  databases: v.number(),
  storageBytes: v.number(),
});
/** An account on its way out: read-only from effectiveAt, everything deleted at purgeAt. */
export const CLOSING_REASONS = ['cancelled', 'deletion_requested'] as const;
export const AccountClosing = v.object({
  reason: v.picklist(CLOSING_REASONS),
  requestedAt: Timestamp,
  /** the end of the paid period (or the request itself without a subscription) */
  effectiveAt: Timestamp,
  purgeAt: Timestamp,
  readOnly: v.boolean(),
});
export type AccountClosing = v.InferOutput<typeof AccountClosing>;
export const Account = v.object({
  id: Id,
  plan: PlanIdSchema,
  limits: v.object({
    maxDatabases: v.nullable(v.number()),
    maxRetentionDays: v.number(),
    storageBytes: v.number(),
  }),
  usage: Usage,
  alertEmails: v.array(v.string()),
  /** the alert addresses that confirmed their verification link; alerts go only to these */
  verifiedAlertEmails: v.array(v.string()),
  /** an owner's setting: every member must log in with a second factor */
  require2fa: v.boolean(),
  language: LanguageSchema,
  timeZone: v.string(),
  closing: v.nullable(AccountClosing),
  createdAt: Timestamp,
  /** the subscription's state in short (billing/) */
  billing: v.optional(BillingSummary),
});
export const MeResponse = v.object({ user: User, account: Account });
export const UpdateAccountBody = v.strictObject({
  plan: v.optional(PlanIdSchema),
  alertEmails: v.optional(v.pipe(v.array(Email), v.maxLength(10, 'at most 10 addresses'))),
  language: v.optional(LanguageSchema),
  timeZone: v.optional(AccountTimeZone),
});

// ---------- API keys ----------
export const API_KEY_SCOPES = ['agent', 'read', 'full'] as const;
export const ApiKeyScope = v.picklist(API_KEY_SCOPES, 'must be one of agent, read, full');
export type ApiKeyScope = v.InferOutput<typeof ApiKeyScope>;
const Name = v.pipe(Text, v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(100, 'is too long'));
export const CreateApiKeyBody = v.strictObject({ name: Name, scope: ApiKeyScope });
export const ApiKey = v.object({
  id: Id,
  name: v.string(),
  prefix: v.string(),
  scope: ApiKeyScope,
  /** what the key may do (never more than its creator's role when created; docs/teams.md) */
  role: v.picklist(['owner', 'admin', 'operator', 'viewer']),
  canDownload: v.boolean(),
  /** the member who created it; `createdByRemoved` once that member left the account */
  createdBy: v.nullable(v.string()),
  createdByRemoved: v.boolean(),
  createdAt: Timestamp,
  lastUsedAt: v.nullable(Timestamp),
});
export const CreatedApiKey = v.object({ apiKey: ApiKey, secret: v.string() });
/** Newest first, a page at a time. */
export const ApiKeyList = pageOf(ApiKey);

// ---------- agents ----------
export const ENGINES = ['postgres', 'mysql', 'mariadb', 'sqlite', 'redis', 'directory'] as const;
export const EngineSchema = v.picklist(
  ENGINES,
  'must be one of postgres, mysql, mariadb, sqlite, redis, directory',
);
export type Engine = v.InferOutput<typeof EngineSchema>;
/** The engines that read files on the agent's machine: no server, host, port or user. */
export const FILE_ENGINES = ['sqlite', 'directory'] as const satisfies readonly Engine[];
export function isFileEngine(engine: Engine): boolean {
  return (FILE_ENGINES as readonly string[]).includes(engine);
}
/** 0: the engine has no port (it reads files on the agent's machine). */
export const DEFAULT_PORTS: Record<Engine, number> = {
  postgres: 5432,
  mysql: 3306,
  mariadb: 3306,
  sqlite: 0,
  redis: 6379,
  directory: 0,
};

const Short = (max: number) => v.pipe(Text, v.maxLength(max, 'is too long'));
/** base64url without padding */
const Base64Url = v.pipe(Text, v.regex(/^[A-Za-z0-9_-]*$/, 'must be base64url'));
export const X25519PublicKey = v.pipe(Base64Url, v.length(43, 'must be a 32-byte X25519 key in base64url'));

export const Tool = v.strictObject({ name: Short(64), version: Short(64), path: Short(512) });
export const HeartbeatBody = v.strictObject({
  hostname: v.pipe(Short(253), v.minLength(1, 'must not be empty')),
  os: Short(200),
  version: Short(64),
  tools: v.pipe(v.array(Tool), v.maxLength(50)),
  publicKey: X25519PublicKey,
});
export const Agent = v.object({
  id: Id,
  hostname: v.string(),
  os: v.string(),
  version: v.string(),
  tools: v.array(Tool),
  publicKey: v.string(),
  createdAt: Timestamp,
  lastSeenAt: Timestamp,
  online: v.boolean(),
  /** it runs an older version than the one this service hands out (`sudo resistro update`) */
  outdated: v.boolean(),
  /** the agent version this service hands out */
  latestVersion: v.string(),
  /** the API key of its latest accepted heartbeat */
  apiKeyId: v.nullable(Id),
  /** set once that key is revoked: the agent's heartbeats are refused until it gets a new key */
  keyRevokedAt: v.nullable(Timestamp),
});
/** Newest registered first, a page at a time. */
export const AgentList = pageOf(Agent);

// ---------- schedules and databases ----------
const TimeZone = v.pipe(Text, v.maxLength(64), v.check(isValidTimeZone, 'is not a known time zone'));
export const DailySchedule = v.strictObject({
  kind: v.literal('daily'),
  time: v.pipe(Text, v.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)')),
  timezone: TimeZone,
});
export const CronSchedule = v.pipe(
  v.strictObject({
    kind: v.literal('cron'),
    expression: v.pipe(Text, v.trim(), v.maxLength(100)),
    timezone: TimeZone,
  }),
  v.forward(
    v.check(
      (s) => isValidCron(s.expression, s.timezone),
      'must be a cron expression of 5 fields in range (minute 0–59, hour 0–23, day 1–31, month 1–12, weekday 0–7), e.g. "0 3 * * *"',
    ),
    ['expression'],
  ),
);
export const ScheduleSchema = v.variant(
  'kind',
  [DailySchedule, CronSchedule],
  'must be a daily or cron schedule',
);
export type Schedule = v.InferOutput<typeof ScheduleSchema>;

/** A password sealed in the browser to the agent's X25519 public key (see seal.ts). */
export const SealedPassword = v.pipe(
  Base64Url,
  v.minLength(80, 'is not a sealed value'),
  v.maxLength(2000, 'is too long'),
  v.check(
    looksSealed,
    "is not a sealed value (seal the password to the agent's public key; see sealToAgent)",
  ),
);
export const Credentials = v.variant(
  'mode',
  [
    v.strictObject({ mode: v.literal('sealed'), sealedPassword: SealedPassword }),
    v.strictObject({ mode: v.literal('local') }),
  ],
  'must be sealed or local',
);
/** An absolute path on the agent's machine. */
const AbsolutePath = v.pipe(
  Text,
  v.trim(),
  v.maxLength(4096, 'is too long'),
  v.regex(/^\/[^\0]*$/, 'must be an absolute path (starting with /)'),
);
/** A shell-style pattern as `tar --exclude` takes it (`*.log`, `cache/*`). */
const PathPattern = v.pipe(
  Text,
  v.trim(),
  v.minLength(1, 'must not be empty'),
  v.maxLength(500, 'is too long'),
  v.regex(/^[^\0\n]*$/, 'has forbidden characters'),
);
const DirectorySource = v.strictObject({
  kind: v.literal('directory'),
  paths: v.pipe(
    v.array(AbsolutePath),
    v.minLength(1, 'must list at least one path'),
    v.maxLength(20, 'at most 20 items'),
  ),
  include: v.optional(v.pipe(v.array(PathPattern), v.maxLength(50, 'at most 50 items')), []),
  exclude: v.optional(v.pipe(v.array(PathPattern), v.maxLength(50, 'at most 50 items')), []),
});
/**
 * What a source that is not a SQL server needs besides host/port/user: the SQLite file, Redis over
 * TLS, the directories with their patterns.
 */
export const SourceSettings = v.variant(
  'kind',
  [
    v.strictObject({ kind: v.literal('sqlite'), path: AbsolutePath }),
    v.strictObject({ kind: v.literal('redis'), tls: v.boolean('must be true or false') }),
    DirectorySource,
  ],
  'must be a sqlite, redis or directory source',
);
export type SourceSettings = v.InferOutput<typeof SourceSettings>;
export type SourceSettingsInput = v.InferInput<typeof SourceSettings>;
const Port = v.pipe(
  v.number('must be a number'),
  v.integer('must be a whole number'),
  v.minValue(1, 'must be 1–65535'),
  v.maxValue(65535, 'must be 1–65535'),
);
const Host = v.pipe(
  Text,
  v.trim(),
  v.minLength(1, 'must not be empty'),
  v.maxLength(253, 'is too long'),
  v.regex(/^[A-Za-z0-9._:[\]-]+$/, 'must be a host name or IP address'),
);
const DbName = v.pipe(
  Text,
  v.minLength(1, 'must not be empty'),
  v.maxLength(63, 'is too long'),
  v.regex(/^[^\0/\\]+$/, 'has forbidden characters'),
);
const DbUser = v.pipe(
  Text,
  v.minLength(1, 'must not be empty'),
  v.maxLength(63, 'is too long'),
  v.regex(/^[^\0]+$/, 'has forbidden characters'),
);
const RetentionDays = v.pipe(
  v.number('must be a number'),
  v.integer('must be a whole number'),
  v.minValue(1, 'must be at least 1 day'),
  v.maxValue(365, 'must be at most 365 days'),
);
const CompressionLevel = v.pipe(
  v.number(),
  v.integer(),
  v.minValue(1, 'must be 1–19'),
  v.maxValue(19, 'must be 1–19'),
);

const DatabaseCommon = {
  name: Name,
  credentials: Credentials,
  schedule: ScheduleSchema,
  retentionDays: v.optional(RetentionDays),
  agentId: Id,
  compressionLevel: v.optional(CompressionLevel),
};
/**
 * What each engine needs besides name/schedule/agent: a SQL server its host, database and user;
 * Redis a host (user: the ACL user, absent = "default"); SQLite the file and directories their
 * paths, both on the agent's machine.
 */
export const CreateDatabaseBody = v.variant(
  'engine',
  [
    v.strictObject({
      ...DatabaseCommon,
      engine: v.picklist(['postgres', 'mysql', 'mariadb']),
      host: Host,
      port: v.optional(Port),
      database: DbName,
      user: DbUser,
    }),
    v.strictObject({
      ...DatabaseCommon,
      engine: v.literal('redis'),
      host: Host,
      port: v.optional(Port),
      user: v.optional(DbUser),
      source: v.optional(
        v.strictObject({ kind: v.literal('redis'), tls: v.boolean('must be true or false') }),
      ),
    }),
    v.strictObject({
      ...DatabaseCommon,
      engine: v.literal('sqlite'),
      source: v.strictObject({ kind: v.literal('sqlite'), path: AbsolutePath }),
    }),
    v.strictObject({
      ...DatabaseCommon,
      engine: v.literal('directory'),
      source: DirectorySource,
    }),
  ],
  'must be one of postgres, mysql, mariadb, sqlite, redis, directory',
);
export const UpdateDatabaseBody = v.strictObject({
  name: v.optional(Name),
  host: v.optional(Host),
  port: v.optional(Port),
  database: v.optional(DbName),
  user: v.optional(DbUser),
  credentials: v.optional(Credentials),
  schedule: v.optional(ScheduleSchema),
  retentionDays: v.optional(RetentionDays),
  agentId: v.optional(Id),
  compressionLevel: v.optional(CompressionLevel),
  /** the same kind as the database's engine */
  source: v.optional(SourceSettings),
  /** back up into the account's deduplicated chunk store (PostgreSQL; docs/dedup.md) */
  dedup: v.optional(v.boolean()),
});
export const DATABASE_STATUSES = ['active', 'paused', 'error'] as const;
export const Database = v.object({
  id: Id,
  name: v.string(),
  engine: EngineSchema,
  host: v.string(),
  port: v.number(),
  database: v.string(),
  user: v.string(),
  credentialsMode: v.picklist(['sealed', 'local']),
  schedule: ScheduleSchema,
  retentionDays: v.number(),
  compressionLevel: v.number(),
  /** deduplicated storage (docs/dedup.md); absent from older control planes */
  dedup: v.optional(v.boolean()),
  agentId: v.nullable(Id),
  paused: v.boolean(),
  status: v.picklist(DATABASE_STATUSES),
  lastBackupAt: v.nullable(Timestamp),
  lastSuccessAt: v.nullable(Timestamp),
  lastError: v.nullable(v.string()),
  nextRunAt: v.nullable(Timestamp),
  /** the latest connection check; null before the first one was asked for */
  connectionCheck: v.nullable(ConnectionCheck),
  /** SQLite, Redis and directory sources: the file, TLS, the paths; null for SQL servers */
  source: v.nullish(SourceSettings),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export const DatabaseList = v.object({ items: v.array(Database) });

/** What the agent receives for each database it runs: includes the sealed password. */
export const DatabaseWork = v.object({
  id: Id,
  name: v.string(),
  engine: EngineSchema,
  host: v.string(),
  port: v.number(),
  database: v.string(),
  user: v.string(),
  credentials: Credentials,
  schedule: ScheduleSchema,
  compressionLevel: v.number(),
  paused: v.boolean(),
  /** back up into the account's deduplicated chunk store (absent from older control planes) */
  dedup: v.optional(v.boolean()),
  /** SQLite, Redis and directory sources (absent from older control planes) */
  source: v.nullish(SourceSettings),
});
export const BackupRequest = v.object({ id: Id, databaseId: Id, requestedAt: Timestamp });
export const HeartbeatResponse = v.object({
  agent: Agent,
  databases: v.array(DatabaseWork),
  backupRequests: v.array(BackupRequest),
  /** databases whose connection the agent should test now (absent from older control planes) */
  checkRequests: v.optional(v.array(CheckRequest), []),
  /** restores the agent should run (absent from older control planes) */
  restoreRequests: v.optional(v.array(RestoreJob), []),
  /** restore tests the agent should run (absent from older control planes) */
  restoreTestRequests: v.optional(v.array(RestoreTestJob), []),
  /** backups whose copy the agent transfers to the second storage location (issue 18) */
  copyRequests: v.optional(v.array(CopyJob), []),
  /** the account is closing; once readOnly the agent gets no work and says so once (absent from older control planes) */
  accountClosing: v.optional(v.nullable(AccountClosing)),
  serverTime: Timestamp,
  heartbeatIntervalSeconds: v.number(),
  /**
   * Why the account takes no new backups right now (e.g. 'backups_stopped': unpaid past the grace
   * period); the agent logs it once and runs no backups while it is set. Absent from older planes.
   */
  accountNotice: v.optional(v.nullable(v.object({ code: v.string(), message: v.string() })), null),
});

// ---------- backups ----------
export const BACKUP_STATUSES = ['running', 'succeeded', 'failed'] as const;
export const BackupStatus = v.picklist(BACKUP_STATUSES, 'must be running, succeeded or failed');
export const BACKUP_TRIGGERS = ['schedule', 'manual', 'retry'] as const;
const Sha256Hex = v.pipe(Text, v.regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters'));
const KeyId = v.pipe(Text, v.regex(/^[0-9a-f]{8,64}$/, 'must be hex'));

export const StartBackupBody = v.strictObject({
  databaseId: Id,
  trigger: v.picklist(BACKUP_TRIGGERS, 'must be schedule, manual or retry'),
  requestId: v.optional(Id),
  /** when the dump began; earlier than now for a backup delivered from the agent's spool */
  startedAt: v.optional(Timestamp),
  /** the agent that runs it (from its heartbeat) */
  agentId: v.optional(Id),
});
/**
 * How storage checks each part (docs/checksums.md): the agent sends the part's checksum in this
 * algorithm when it asks for the part's URL, and the URL takes only bytes with that checksum.
 */
export const PART_CHECKSUMS = ['sha256', 'md5'] as const;
export type PartChecksum = (typeof PART_CHECKSUMS)[number];
/** `checksum` is absent from a service that predates part checksums. */
export const UploadPlan = v.object({
  partSize: v.number(),
  maxParts: v.number(),
  checksum: v.optional(v.picklist(PART_CHECKSUMS)),
});
export const Backup = v.object({
  id: Id,
  databaseId: Id,
  databaseName: v.string(),
  agentId: v.nullable(Id),
  status: BackupStatus,
  trigger: v.picklist(BACKUP_TRIGGERS),
  sizeBytes: v.nullable(v.number()),
  sha256: v.nullable(v.string()),
  /** the object's checksum as storage computed it from the parts it verified (SHA-256 of their SHA-256s, "-<parts>") */
  storageChecksum: v.optional(v.nullable(v.string())),
  keyId: v.nullable(v.string()),
  error: v.nullable(v.string()),
  /** why it failed as a code the dashboard words in the account's language (absent from an older agent) */
  errorCode: v.optional(v.nullable(BackupErrorCodeSchema)),
  errorParams: v.optional(v.nullable(BackupErrorParams)),
  startedAt: Timestamp,
  finishedAt: v.nullable(Timestamp),
  durationMs: v.nullable(v.number()),
  fileName: v.string(),
  /** S3 object lock (compliance mode): storage refuses to delete the backup before this time */
  lockedUntil: v.optional(v.nullable(Timestamp)),
  /** its copy in the account's second storage location; null: none (yet, or not copied) */
  copy: v.optional(v.nullable(BackupCopy)),
  /** deduplicated storage (docs/dedup.md): the download is streamed from the account's chunks */
  dedup: v.optional(v.boolean()),
  /** deduplicated: the bytes the backup holds before deduplication (sizeBytes is its manifest) */
  logicalBytes: v.optional(v.nullable(v.number())),
});
export const StartBackupResponse = v.object({ backup: Backup, upload: UploadPlan });
const PartNumber = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000));
/** A SHA-256 (44 characters) or MD5 (24) digest in base64, as S3's checksum headers take it. */
const PartDigest = v.pipe(
  Text,
  v.regex(/^(?:[A-Za-z0-9+/]{43}=|[A-Za-z0-9+/]{22}==)$/, 'must be a base64 SHA-256 or MD5 digest'),
);
/**
 * `parts` with each part's checksum (in the upload plan's algorithm) for a backup whose upload
 * checks them; `partNumbers` alone only for a backup started without (an older agent's).
 */
export const PartUrlsBody = v.pipe(
  v.strictObject({
    partNumbers: v.optional(
      v.pipe(
        v.array(PartNumber),
        v.minLength(1, 'must ask for at least one part'),
        v.maxLength(100, 'at most 100 parts per request'),
      ),
    ),
    parts: v.optional(
      v.pipe(
        v.array(v.strictObject({ partNumber: PartNumber, checksum: PartDigest })),
        v.minLength(1, 'must ask for at least one part'),
        v.maxLength(100, 'at most 100 parts per request'),
      ),
    ),
  }),
  v.forward(
    v.check(
      (b) => (b.parts === undefined) !== (b.partNumbers === undefined),
      'give either parts (with checksums) or partNumbers',
    ),
    ['parts'],
  ),
);
export const PartUrlsResponse = v.object({
  parts: v.array(v.object({ partNumber: v.number(), url: v.string() })),
  expiresAt: Timestamp,
});
/** The largest value of an int4 column (backups.duration_ms): about 24.8 days in milliseconds. */
export const INT4_MAX = 2_147_483_647;
/** Bounded by its column: a larger value passed the contract and then failed the row update. */
const DurationMs = v.optional(
  v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(INT4_MAX, `must be 0–${INT4_MAX}`)),
);
export const CompleteBackupBody = v.strictObject({
  parts: v.pipe(
    v.array(
      v.strictObject({
        partNumber: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000)),
        etag: v.pipe(Text, v.minLength(1), v.maxLength(200)),
        /** the checksum the part was uploaded with; required when the upload checks SHA-256 */
        checksum: v.optional(PartDigest),
      }),
    ),
    v.minLength(1, 'must list at least one part'),
    v.maxLength(10_000),
  ),
  sizeBytes: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER)),
  sha256: Sha256Hex,
  keyId: KeyId,
  durationMs: DurationMs,
});
export const FailBackupBody = v.strictObject({
  /**
   * The agent's error text, often a tool's stderr: a NUL or a broken character in it becomes
   * U+FFFD instead of refusing the report, which would leave the backup running.
   */
  error: v.pipe(
    v.string('must be a string'),
    v.transform(toStorableText),
    v.minLength(1),
    v.maxLength(8000, 'is too long'),
  ),
  /** what kind of failure (see backup-errors.ts); an older agent sends only `error` */
  errorCode: v.optional(BackupErrorCodeSchema),
  errorParams: v.optional(BackupErrorParams),
  durationMs: DurationMs,
});
export const ListBackupsQuery = v.strictObject({
  databaseId: v.optional(Id),
  status: v.optional(BackupStatus),
  from: v.optional(Timestamp),
  to: v.optional(Timestamp),
  cursor: v.optional(v.pipe(Text, v.maxLength(200))),
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
export const BackupList = v.object({ items: v.array(Backup), nextCursor: v.nullable(v.string()) });
export const DownloadResponse = v.object({
  url: v.string(),
  expiresAt: Timestamp,
  fileName: v.string(),
  /** 'copy': the primary storage was unavailable; the URL is the copy in the second location */
  source: v.optional(v.picklist(['primary', 'copy'])),
});
export const BackupNowResponse = v.object({ request: BackupRequest });

// ---------- closing and export ----------
export const ClosingResponse = v.object({ closing: v.nullable(AccountClosing) });
/** SECURITY: the password again, so an open session alone cannot delete an account. */
export const DeleteAccountBody = v.strictObject({ password: v.pipe(Text, v.minLength(1), v.maxLength(200)) });
export const ExportManifestQuery = v.strictObject({
  databaseId: v.optional(Id),
  cursor: v.optional(Cursor),
  limit: v.optional(Limit),
});
/** How long the manifest's links stay valid (S3's SigV4 allows at most 7 days). */
export const EXPORT_LINK_TTL_SECONDS = 7 * 86400;
export const ExportItem = v.object({
  backupId: Id,
  databaseId: Id,
  databaseName: v.string(),
  startedAt: Timestamp,
  sizeBytes: v.number(),
  /** SHA-256 of the file as the agent uploaded it (lowercase hex) */
  sha256: v.string(),
  /** where the export puts it: `<database>/backup-<database>-<date>-<id8>.resistro` */
  path: v.string(),
  url: v.string(),
});
export const ExportManifest = v.object({
  accountId: Id,
  generatedAt: Timestamp,
  expiresAt: Timestamp,
  /** the whole export's count and size (every page), not this page's */
  backups: v.number(),
  totalBytes: v.number(),
  /** newest first, a page at a time (`limit`, default 100) */
  items: v.array(ExportItem),
  nextCursor: v.nullable(v.string()),
});

export type SignupBody = v.InferInput<typeof SignupBody>;
export type User = v.InferOutput<typeof User>;
export type Account = v.InferOutput<typeof Account>;
export type MeResponse = v.InferOutput<typeof MeResponse>;
export type ClosingResponse = v.InferOutput<typeof ClosingResponse>;
export type ExportManifest = v.InferOutput<typeof ExportManifest>;
export type ExportItem = v.InferOutput<typeof ExportItem>;
export type ApiKey = v.InferOutput<typeof ApiKey>;
export type CreatedApiKey = v.InferOutput<typeof CreatedApiKey>;
export type Agent = v.InferOutput<typeof Agent>;
export type HeartbeatBody = v.InferInput<typeof HeartbeatBody>;
export type HeartbeatResponse = v.InferOutput<typeof HeartbeatResponse>;
export type CreateDatabaseBody = v.InferInput<typeof CreateDatabaseBody>;
export type UpdateDatabaseBody = v.InferInput<typeof UpdateDatabaseBody>;
export type Database = v.InferOutput<typeof Database>;
export type DatabaseWork = v.InferOutput<typeof DatabaseWork>;
export type Backup = v.InferOutput<typeof Backup>;
export type BackupRequest = v.InferOutput<typeof BackupRequest>;
export type BackupList = v.InferOutput<typeof BackupList>;
export type StartBackupBody = v.InferInput<typeof StartBackupBody>;
export type StartBackupResponse = v.InferOutput<typeof StartBackupResponse>;
export type CompleteBackupBody = v.InferInput<typeof CompleteBackupBody>;
export type PartUrlsBody = v.InferInput<typeof PartUrlsBody>;
export type PartUrlsResponse = v.InferOutput<typeof PartUrlsResponse>;
export type DownloadResponse = v.InferOutput<typeof DownloadResponse>;
