// Point-in-time recovery (issue 13): continuous protection of a database server. The agent
// streams the server's log (PostgreSQL WAL, MariaDB/MySQL binary log) as encrypted segments and
// takes base backups; the control plane keeps the registry of both, finds gaps and lag, and
// answers which base backup and which segments a restore to a point needs. The registry is
// generic: a segment is a byte range [startOffset, endOffset) of one stream.
//   PostgreSQL: stream = timeline as 8 hex digits ("00000001"), name = the WAL file name,
//     offsets = LSNs as integers, positions = LSNs as PostgreSQL prints them ("0/3000000").
//   MariaDB/MySQL: stream = the binlog's server id (or another id the agent keeps stable),
//     name = the agent's segment name, offsets = the agent's monotone position in that stream
//     (e.g. file sequence * 2^32 + byte position), positions = "mariadb-bin.000012:4" (+ GTID).
// Browser-safe: valibot only.
import * as v from 'valibot';
import { Text, Timestamp } from './text.ts';

const Id = v.pipe(v.string(), v.uuid('must be a UUID'));
/** letters, digits and . _ - only: these end up in object keys */
const Token = (max: number) =>
  v.pipe(
    Text,
    v.minLength(1, 'must not be empty'),
    v.maxLength(max, 'is too long'),
    v.regex(/^[A-Za-z0-9._-]+$/, 'may contain only letters, digits, dot, underscore and hyphen'),
  );
const Position = v.pipe(Text, v.minLength(1, 'must not be empty'), v.maxLength(200, 'is too long'));
const Offset = v.pipe(
  v.number('must be a number'),
  v.safeInteger('must be a whole number'),
  v.minValue(0, 'must not be negative'),
);
const Sha256Hex = v.pipe(Text, v.regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits'));
const Md5Base64 = v.pipe(Text, v.regex(/^[A-Za-z0-9+/]{22}==$/, 'must be the base64 of 16 bytes'));

export const PITR_ENGINES = ['postgres', 'mariadb', 'mysql'] as const;
export type PitrEngine = (typeof PITR_ENGINES)[number];

// ---------- settings (dashboard / API) ----------
export const PITR_DEFAULT_RPO_SECONDS = 300;
export const PITR_DEFAULT_BASE_BACKUP_DAYS = 7;
export const PITR_DEFAULT_WINDOW_DAYS = 7;
/** how the agent carries the log: a replication connection it holds, or the server pushing files */
export const PITR_METHODS = ['stream', 'archive_command'] as const;
export type PitrMethod = (typeof PITR_METHODS)[number];

export const PitrSettingsBody = v.strictObject({
  enabled: v.boolean('must be true or false'),
  /** the most data a failure may lose: lag above it alerts */
  rpoSeconds: v.optional(
    v.pipe(
      v.number('must be a number'),
      v.integer('must be a whole number'),
      v.minValue(10, 'must be at least 10 seconds'),
      v.maxValue(86400, 'must be at most 86400 seconds (one day)'),
    ),
  ),
  /** a new base backup every so many days (a gap takes one at once) */
  baseBackupEveryDays: v.optional(
    v.pipe(
      v.number('must be a number'),
      v.integer('must be a whole number'),
      v.minValue(1, 'must be 1–30'),
      v.maxValue(30, 'must be 1–30'),
    ),
  ),
  /** how far back a restore can go; at most the plan's retention */
  windowDays: v.optional(
    v.pipe(
      v.number('must be a number'),
      v.integer('must be a whole number'),
      v.minValue(1, 'must be at least 1 day'),
      v.maxValue(3650, 'must be at most 3650 days'),
    ),
  ),
  method: v.optional(v.picklist(PITR_METHODS, 'must be stream or archive_command')),
});
export type PitrSettingsBody = v.InferOutput<typeof PitrSettingsBody>;

export const PitrSettings = v.object({
  enabled: v.boolean(),
  rpoSeconds: v.number(),
  baseBackupEveryDays: v.number(),
  windowDays: v.number(),
  method: v.picklist(PITR_METHODS),
});
export type PitrSettings = v.InferOutput<typeof PitrSettings>;

// ---------- segments ----------
export const PitrSegmentInput = v.strictObject({
  stream: Token(64),
  name: Token(128),
  startPosition: Position,
  endPosition: Position,
  startOffset: Offset,
  endOffset: Offset,
  /** the ciphertext (.resistro file) as uploaded */
  sizeBytes: v.pipe(Offset, v.maxValue(5 * 1024 ** 3, 'must be at most 5 GiB')),
  sha256: Sha256Hex,
  /** base64 MD5 of the ciphertext: needed where storage checks Content-MD5 instead of SHA-256 */
  md5: v.optional(Md5Base64),
  /** a segment still being written (PostgreSQL .partial): a later upload of the same name replaces it */
  partial: v.boolean('must be true or false'),
  /** when the agent had the segment complete (or the partial snapshot) on hand */
  closedAt: Timestamp,
  firstCommitAt: v.optional(Timestamp),
  lastCommitAt: v.optional(Timestamp),
});
export type PitrSegmentInput = v.InferOutput<typeof PitrSegmentInput>;

export const PITR_BATCH_MAX = 100;
export const PitrSegmentBatch = v.strictObject({
  segments: v.pipe(
    v.array(
      // endOffset > startOffset is checked by the worker (a cross-field check here would name no field)
      PitrSegmentInput,
    ),
    v.minLength(1, 'must not be empty'),
    v.maxLength(PITR_BATCH_MAX, `must have at most ${PITR_BATCH_MAX} segments`),
  ),
});
export type PitrSegmentBatch = v.InferOutput<typeof PitrSegmentBatch>;

/** One presigned PUT per segment: send the body with exactly `headers`. */
export const PitrUploadUrls = v.object({
  urls: v.array(v.object({ name: v.string(), url: v.string(), headers: v.record(v.string(), v.string()) })),
  expiresAt: Timestamp,
});
export type PitrUploadUrls = v.InferOutput<typeof PitrUploadUrls>;

export const PitrSegment = v.object({
  stream: v.string(),
  name: v.string(),
  startPosition: v.string(),
  endPosition: v.string(),
  startOffset: v.number(),
  endOffset: v.number(),
  sizeBytes: v.number(),
  sha256: v.string(),
  partial: v.boolean(),
  closedAt: Timestamp,
  lastCommitAt: v.nullable(Timestamp),
  /** storage no longer has the object (found by the nightly check): a gap */
  missingSince: v.nullable(Timestamp),
});
export type PitrSegment = v.InferOutput<typeof PitrSegment>;
export const PitrRegistered = v.object({ registered: v.number() });

// ---------- base backups ----------
/** After POST /backups … /complete of a base backup: what it covers. */
export const PitrBaseBackupBody = v.strictObject({
  backupId: Id,
  stream: Token(64),
  startPosition: Position,
  endPosition: Position,
  startOffset: Offset,
  endOffset: Offset,
  /** PostgreSQL: the first WAL file the backup needs (from its backup_label) */
  firstSegment: v.optional(Token(128)),
  /** the server's time when the backup became consistent (a restore target must be after it) */
  consistentAt: Timestamp,
});
export type PitrBaseBackupBody = v.InferOutput<typeof PitrBaseBackupBody>;

export const PitrBaseBackup = v.object({
  backupId: Id,
  stream: v.string(),
  startPosition: v.string(),
  endPosition: v.string(),
  startOffset: v.number(),
  endOffset: v.number(),
  firstSegment: v.nullable(v.string()),
  consistentAt: Timestamp,
  sizeBytes: v.nullable(v.number()),
});
export type PitrBaseBackup = v.InferOutput<typeof PitrBaseBackup>;

// ---------- agent status ----------
export const PitrSlot = v.strictObject({
  name: Token(63),
  active: v.boolean(),
  /** WAL the server keeps for the slot (bytes behind its current position) */
  retainedBytes: Offset,
  /** free bytes on the server's WAL disk, when the agent runs on that host */
  diskFreeBytes: v.optional(Offset),
  /** PostgreSQL 13+: max_slot_wal_keep_size; absent when unlimited */
  maxRetainedBytes: v.optional(Offset),
  /**
   * PostgreSQL 13+: pg_replication_slots.wal_status. "unreserved": the next checkpoint removes WAL
   * the slot still needs; "lost": it did (the log has a gap)
   */
  walStatus: v.optional(v.picklist(['reserved', 'extended', 'unreserved', 'lost'])),
  /** PostgreSQL 13+: safe_wal_size, what can still be written before the slot loses WAL */
  safeWalBytes: v.optional(Offset),
});
export type PitrSlot = v.InferOutput<typeof PitrSlot>;

export const PitrStatusBody = v.strictObject({
  /** age of the oldest log the server has written and the agent not yet uploaded; 0 when caught up */
  lagSeconds: v.pipe(
    v.number('must be a number'),
    v.integer('must be a whole number'),
    v.minValue(0, 'must not be negative'),
    v.maxValue(2 ** 31 - 1, 'is too large'),
  ),
  /** the server's current write position (for the dashboard) */
  serverPosition: v.optional(Position),
  serverOffset: v.optional(Offset),
  segmentSizeBytes: v.optional(Offset),
  /** absent: no replication slot (archive_command, or MariaDB) */
  slot: v.optional(PitrSlot),
  /** MariaDB/MySQL: how long the server keeps its binary logs (0: forever); absent when unknown */
  logRetentionSeconds: v.optional(
    v.pipe(
      v.number('must be a number'),
      v.integer('must be a whole number'),
      v.minValue(0, 'must not be negative'),
      v.maxValue(2 ** 31 - 1, 'is too large'),
    ),
  ),
  /** what stops the stream right now, in the agent's words (no secrets); absent when all is well */
  error: v.optional(
    v.strictObject({
      code: Token(64),
      message: v.pipe(Text, v.maxLength(2000, 'is too long')),
    }),
  ),
});
export type PitrStatusBody = v.InferOutput<typeof PitrStatusBody>;

/** A slot holding more than this share of what the disk or max_slot_wal_keep_size allows alerts. */
export const SLOT_FULL_RATIO = 0.8;

/** What the server can keep for the slot: the smaller of its WAL limit and its WAL disk, when known. */
export function slotLimit(slot: PitrSlot): number | null {
  const limits = [
    slot.safeWalBytes != null ? slot.safeWalBytes + slot.retainedBytes : slot.maxRetainedBytes,
    slot.diskFreeBytes != null ? slot.diskFreeBytes + slot.retainedBytes : null,
  ].filter((x): x is number => typeof x === 'number' && x > 0);
  return limits.length > 0 ? Math.min(...limits) : null;
}

/**
 * Whether the replication slot is about to fill what the server can keep: 80 % of the smaller of
 * max_slot_wal_keep_size (retained + safe_wal_size when the server says it) and the WAL disk (retained +
 * free), or a wal_status that says the server drops (unreserved) or dropped (lost) WAL the slot needs.
 * Here so the alerts (worker) and the dashboard judge a slot alike.
 */
export function slotFilling(
  slot: PitrSlot | null | undefined,
): { ratio: number; limitBytes: number | null; walStatus: 'unreserved' | 'lost' | null } | null {
  if (!slot) return null;
  const limitBytes = slotLimit(slot);
  const ratio = limitBytes ? slot.retainedBytes / limitBytes : 0;
  const walStatus = slot.walStatus === 'unreserved' || slot.walStatus === 'lost' ? slot.walStatus : null;
  return ratio >= SLOT_FULL_RATIO || walStatus ? { ratio: Math.min(ratio, 1), limitBytes, walStatus } : null;
}

// ---------- what the agent is asked to do ----------
export const PitrJob = v.object({
  databaseId: Id,
  engine: v.picklist(PITR_ENGINES),
  method: v.picklist(PITR_METHODS),
  rpoSeconds: v.number(),
  /** take a base backup now: none yet, the schedule is due, or a gap broke the chain */
  baseBackupDue: v.boolean(),
  baseBackupReason: v.nullable(v.picklist(['first', 'schedule', 'gap'])),
});
export type PitrJob = v.InferOutput<typeof PitrJob>;
export const AgentPitrQuery = v.strictObject({ agentId: Id });
export const PitrJobList = v.object({ items: v.array(PitrJob) });

// ---------- status (dashboard) ----------
/** how many dumps the status lists for the timeline */
export const PITR_TIMELINE_DUMPS = 200;

export const PITR_STATES = ['off', 'starting', 'ok', 'lagging', 'gap', 'stalled'] as const;
export type PitrState = (typeof PITR_STATES)[number];

export const PitrGap = v.object({
  stream: v.string(),
  /** the last segment before the gap (null: the gap starts at the base backup) */
  after: v.nullable(v.string()),
  before: v.nullable(v.string()),
  fromPosition: v.string(),
  toPosition: v.nullable(v.string()),
  /** the missing segment names where the engine's naming allows (PostgreSQL), at most 20 */
  missing: v.array(v.string()),
});
export type PitrGap = v.InferOutput<typeof PitrGap>;

export const PitrStatus = v.object({
  databaseId: Id,
  engine: v.string(),
  settings: PitrSettings,
  /** the plan's retention: windowDays can not exceed it */
  maxWindowDays: v.number(),
  state: v.picklist(PITR_STATES),
  /** the earliest and latest point a restore can reach; null until a base backup and its log exist */
  window: v.nullable(v.object({ start: Timestamp, end: Timestamp })),
  /**
   * The stretches inside the window a restore can reach, oldest first: more than one when a gap
   * broke the chain and a later base backup started a new one (moments between them cannot be
   * restored).
   */
  ranges: v.array(v.object({ start: Timestamp, end: Timestamp })),
  /**
   * The database's other successful backups (dumps, not base backups) since the window's start or
   * the setting's window, whichever is earlier, newest first, at most PITR_TIMELINE_DUMPS: for the
   * dashboard's timeline.
   */
  dumps: v.array(v.object({ backupId: Id, startedAt: Timestamp, sizeBytes: v.nullable(v.number()) })),
  lagSeconds: v.nullable(v.number()),
  reportedAt: v.nullable(Timestamp),
  serverPosition: v.nullable(v.string()),
  lastSegment: v.nullable(PitrSegment),
  segmentCount: v.number(),
  segmentBytes: v.number(),
  baseBackups: v.array(PitrBaseBackup),
  gaps: v.array(PitrGap),
  slot: v.nullable(PitrSlot),
  error: v.nullable(v.object({ code: v.string(), message: v.string() })),
  baseBackupDue: v.boolean(),
});
export type PitrStatus = v.InferOutput<typeof PitrStatus>;

export const ListPitrSegmentsQuery = v.strictObject({
  /** segments ending after this offset */
  after: v.optional(v.pipe(Text, v.regex(/^\d{1,16}$/, 'must be a whole number'), v.transform(Number))),
  limit: v.optional(
    v.pipe(
      Text,
      v.regex(/^\d{1,4}$/, 'must be 1–1000'),
      v.transform(Number),
      v.minValue(1, 'must be 1–1000'),
      v.maxValue(1000, 'must be 1–1000'),
    ),
  ),
});
export const PitrSegmentList = v.object({ items: v.array(PitrSegment) });

// ---------- restore plan (the CLI's resistro restore --pitr) ----------
export const PitrRestorePlanQuery = v.pipe(
  v.strictObject({
    time: v.optional(Timestamp),
    /** a position as an integer offset (PostgreSQL: the LSN as a number) */
    offset: v.optional(v.pipe(Text, v.regex(/^\d{1,19}$/, 'must be a whole number'), v.transform(Number))),
    latest: v.optional(v.picklist(['true'], 'must be true')),
  }),
  v.check(
    (q) => [q.time, q.offset, q.latest].filter((x) => x !== undefined).length === 1,
    'give exactly one of time, offset, latest',
  ),
);
export type PitrRestorePlanQuery = v.InferOutput<typeof PitrRestorePlanQuery>;

export const PitrRestorePlan = v.object({
  databaseId: Id,
  engine: v.string(),
  baseBackup: PitrBaseBackup,
  /** the base backup's .resistro file, short-lived */
  baseBackupUrl: v.string(),
  /** every segment from the base backup to the target, in order, with short-lived URLs */
  segments: v.array(v.object({ ...PitrSegment.entries, url: v.string() })),
  /** the target as resolved: for latest, the end of the last segment */
  target: v.object({
    kind: v.picklist(['time', 'offset', 'latest']),
    time: v.nullable(Timestamp),
    offset: v.nullable(v.number()),
  }),
  window: v.object({ start: Timestamp, end: Timestamp }),
  expiresAt: Timestamp,
});
export type PitrRestorePlan = v.InferOutput<typeof PitrRestorePlan>;

/** One segment by name for `resistro wal-fetch`: its URL and checksum. */
export const PitrSegmentDownload = v.object({
  segment: PitrSegment,
  url: v.string(),
  expiresAt: Timestamp,
});
export type PitrSegmentDownload = v.InferOutput<typeof PitrSegmentDownload>;
export const PitrSegmentFetchQuery = v.strictObject({ stream: v.optional(Token(64)) });
