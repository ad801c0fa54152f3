// Retention shapes (issue 18): grandfather-father-son tiers, object lock, the second storage
// location and the auditors' export. Browser-safe: valibot only.
import * as v from 'valibot';
import { Text, Timestamp } from './text.ts';

export const TIERS = ['daily', 'weekly', 'monthly', 'yearly'] as const;
export type Tier = (typeof TIERS)[number];

const Count = (max: number) =>
  v.pipe(
    v.number('must be a number'),
    v.integer('must be a whole number'),
    v.minValue(0, 'must not be negative'),
    v.maxValue(max, `must be at most ${max}`),
  );

/**
 * How many periods of each tier keep their first good backup: 7 daily keeps the first good backup
 * of today and each of the 6 days before, in the account's time zone.
 */
export const RetentionTiers = v.pipe(
  v.strictObject({ daily: Count(366), weekly: Count(53), monthly: Count(120), yearly: Count(10) }),
  v.check((t) => t.daily + t.weekly + t.monthly + t.yearly > 0, 'must keep at least one tier'),
);
export type RetentionTiers = v.InferOutput<typeof RetentionTiers>;

const LockDays = v.pipe(
  v.number('must be a number'),
  v.integer('must be a whole number'),
  v.minValue(1, 'must be at least 1 day'),
  v.maxValue(36_500, 'must be at most 36500 days'),
);
/**
 * Object lock (S3 compliance mode) for new backups: `all` locks every backup for that many days;
 * a tier locks the backups that are the first good one of their day/week/month/year.
 */
export const ObjectLockRule = v.strictObject({
  all: v.optional(LockDays),
  daily: v.optional(LockDays),
  weekly: v.optional(LockDays),
  monthly: v.optional(LockDays),
  yearly: v.optional(LockDays),
});
export type ObjectLockRule = v.InferOutput<typeof ObjectLockRule>;

/** The longest a tiered rule keeps a backup, in days, as the plan's limit counts it (a month 30 days, a year 365). */
export function tierSpanDays(t: RetentionTiers): number {
  return Math.max(t.daily, t.weekly * 7, t.monthly * 30, t.yearly * 365);
}

export const RetentionRule = v.object({
  databaseId: v.string(),
  /** 'days': the database's retentionDays; 'tiers': the tiers below */
  mode: v.picklist(['days', 'tiers']),
  retentionDays: v.number(),
  tiers: v.nullable(RetentionTiers),
  objectLock: v.nullable(ObjectLockRule),
  /** whether the service's storage can lock objects (its bucket was created with object lock) */
  objectLockAvailable: v.boolean(),
  planMaxDays: v.number(),
  timeZone: v.string(),
});
export type RetentionRule = v.InferOutput<typeof RetentionRule>;
export const RetentionRuleResponse = v.object({ rule: RetentionRule });

export const PutRetentionBody = v.strictObject({
  /** null: back to the database's retentionDays */
  tiers: v.nullable(RetentionTiers),
  /** null or absent: no lock for new backups (existing locks stay until their date) */
  objectLock: v.optional(v.nullable(ObjectLockRule)),
});
export const RetentionPreviewBody = v.strictObject({ tiers: v.nullable(RetentionTiers) });

export const PreviewBackup = v.object({
  id: v.string(),
  startedAt: Timestamp,
  status: v.string(),
  sizeBytes: v.nullable(v.number()),
});
/** What a rule would delete now: the backups (oldest first, at most 500 listed) and totals. */
export const RetentionPreview = v.object({
  deleted: v.array(PreviewBackup),
  deletedCount: v.number(),
  deletedBytes: v.number(),
  keptCount: v.number(),
  /** kept only because they are locked */
  lockedCount: v.number(),
});
export type RetentionPreview = v.InferOutput<typeof RetentionPreview>;

// ---------- the second storage location ----------
const Endpoint = v.pipe(
  Text,
  v.maxLength(300, 'is too long'),
  v.url('must be a URL'),
  v.regex(/^https?:\/\//, 'must start with https:// or http://'),
);
const Region = v.pipe(
  Text,
  v.minLength(1, 'must not be empty'),
  v.maxLength(64, 'is too long'),
  v.regex(/^[a-z0-9-]+$/, 'must be a region like eu-central-1'),
);
const Bucket = v.pipe(
  Text,
  v.regex(
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    'must be a bucket name (3–63 lower-case letters, digits, dots, hyphens)',
  ),
);
const Secret = v.pipe(Text, v.minLength(1, 'must not be empty'), v.maxLength(200, 'is too long'));
export const COPY_SCOPES = ['all', 'monthly'] as const;

export const PutStorageLocationBody = v.strictObject({
  endpoint: Endpoint,
  region: Region,
  bucket: Bucket,
  pathStyle: v.optional(v.boolean(), true),
  accessKeyId: Secret,
  /** SECURITY: stored encrypted with a Worker secret, never returned */
  secretAccessKey: Secret,
  copies: v.picklist(COPY_SCOPES, 'must be all or monthly'),
});
/** The location as the browser sees it: no secret, only the key id's first characters. */
export const StorageLocation = v.object({
  endpoint: v.string(),
  region: v.string(),
  bucket: v.string(),
  pathStyle: v.boolean(),
  accessKeyIdPrefix: v.string(),
  copies: v.picklist(COPY_SCOPES),
  /** server-side copy (same provider and credentials) or a transfer of the encrypted file */
  method: v.picklist(['server_copy', 'transfer']),
  objectLock: v.boolean(),
  updatedAt: Timestamp,
});
export const StorageLocationResponse = v.object({ location: v.nullable(StorageLocation) });

export const COPY_STATUSES = ['pending', 'copied', 'failed'] as const;
export const BackupCopy = v.object({
  status: v.picklist(COPY_STATUSES),
  verifiedAt: v.nullable(Timestamp),
  lockedUntil: v.nullable(Timestamp),
  error: v.nullable(v.string()),
});
export type BackupCopy = v.InferOutput<typeof BackupCopy>;

export const BackupAuditExportQuery = v.strictObject({
  format: v.optional(v.picklist(['csv', 'json'], 'must be csv or json'), 'json'),
});
export const AuditSigningKey = v.object({
  algorithm: v.literal('Ed25519'),
  /** the public key, SPKI DER in base64 */
  publicKey: v.string(),
  keyId: v.string(),
});

// ---------- copies the agent transfers (the second location is at another provider) ----------
/** A backup the agent copies: it downloads the ciphertext and uploads it to the second location. */
export const CopyJob = v.object({ backupId: v.string() });
export type CopyJob = v.InferOutput<typeof CopyJob>;
/** Where the agent reads the backup from and how it uploads the copy (parts of `partSize`). */
export const CopyStartResponse = v.object({
  sourceUrl: v.string(),
  sizeBytes: v.number(),
  partSize: v.number(),
  /** the parts' checksum algorithm at the second location (as the backup's own upload) */
  checksum: v.optional(v.picklist(['sha256', 'md5'])),
  /** the SHA-256 recorded at backup: the agent checks the bytes it read against it */
  sha256: v.string(),
});
export type CopyStartResponse = v.InferOutput<typeof CopyStartResponse>;
const CopyDigest = v.pipe(
  Text,
  v.minLength(1, 'must not be empty'),
  v.maxLength(64, 'is too long'),
  v.regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64'),
);
const CopyPartNumber = v.pipe(
  v.number('must be a number'),
  v.integer('must be a whole number'),
  v.minValue(1, 'must be 1–10000'),
  v.maxValue(10_000, 'must be 1–10000'),
);
export const CopyPartsBody = v.strictObject({
  parts: v.pipe(
    v.array(v.strictObject({ partNumber: CopyPartNumber, checksum: v.optional(CopyDigest) })),
    v.minLength(1, 'must ask for at least one part'),
    v.maxLength(100, 'at most 100 parts per request'),
  ),
});
export const CompleteCopyBody = v.strictObject({
  parts: v.pipe(
    v.array(
      v.strictObject({
        partNumber: CopyPartNumber,
        etag: v.pipe(Text, v.minLength(1, 'must not be empty'), v.maxLength(200, 'is too long')),
        checksum: v.optional(CopyDigest),
      }),
    ),
    v.minLength(1, 'must list at least one part'),
    v.maxLength(10_000, 'at most 10000 parts'),
  ),
  /** the SHA-256 (hex) of the bytes the agent read from the backup and uploaded */
  sha256: v.pipe(Text, v.regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex')),
});
export type CompleteCopyBody = v.InferInput<typeof CompleteCopyBody>;
export const FailCopyBody = v.strictObject({
  error: v.pipe(Text, v.minLength(1, 'must not be empty'), v.maxLength(2000, 'is too long')),
});
export const BackupCopyResponse = v.object({ copy: BackupCopy });
