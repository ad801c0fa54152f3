// Tables of the retention feature (migration 0013): a database's tiered rule and object lock,
// the account's second storage location, and the copies made there (0018: a transfer's upload).
// Only retention/ writes them.
import type { ObjectLockRule, RetentionTiers } from '@resistro/contract';
import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { accounts } from '../accounts/accounts.sql.ts';
import { databases } from '../databases/databases.sql.ts';
import { ts } from '../lib/columns.ts';

/** A database without a row keeps its retention days (databases.retention_days). */
export const retentionRules = pgTable(
  'retention_rules',
  {
    databaseId: uuid('database_id')
      .primaryKey()
      .references(() => databases.id, { onDelete: 'cascade' }),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    /** null: the database's retention days decide */
    tiers: jsonb('tiers').$type<RetentionTiers>(),
    /** null: new backups are not locked */
    objectLock: jsonb('object_lock').$type<ObjectLockRule>(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('retention_rules_account_idx').on(t.accountId)],
);

export const storageLocations = pgTable('storage_locations', {
  accountId: uuid('account_id')
    .primaryKey()
    .references(() => accounts.id, { onDelete: 'cascade' }),
  endpoint: text('endpoint').notNull(),
  region: text('region').notNull(),
  bucket: text('bucket').notNull(),
  pathStyle: boolean('path_style').notNull(),
  accessKeyId: text('access_key_id').notNull(),
  /** SECURITY: sealed with the service's data key (DATA_ENCRYPTION_KEYS, lib/secret-box.ts), bound to the account */
  secretSealed: text('secret_sealed').notNull(),
  copies: text('copies', { enum: ['all', 'monthly'] }).notNull(),
  /** the bucket was created with object lock: copies of locked backups are locked there too */
  objectLock: boolean('object_lock').notNull().default(false),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/**
 * One row per backup to copy. No foreign key to backups on purpose: when a backup row goes, its
 * copy row stays until the copy's object is deleted from the second bucket too (copies.ts).
 */
export const backupCopies = pgTable(
  'backup_copies',
  {
    backupId: uuid('backup_id').primaryKey(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    status: text('status', { enum: ['pending', 'copied', 'failed'] }).notNull(),
    objectKey: text('object_key').notNull(),
    /** the bucket the copy went to (a location changed later still finds old copies) */
    bucket: text('bucket').notNull(),
    method: text('method', { enum: ['server_copy', 'transfer'] }),
    /** the copy's SHA-256 as verified after copying (hex), equal to the backup's sha256 */
    checksum: text('checksum'),
    lockedUntil: ts('locked_until'),
    attempts: integer('attempts').notNull().default(0),
    error: text('error'),
    verifiedAt: ts('verified_at'),
    /** the multipart upload at the second location of a transfer the agent runs (migration 0018) */
    uploadId: text('upload_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('backup_copies_account_idx').on(t.accountId),
    index('backup_copies_pending_idx').on(t.updatedAt).where(sql`status <> 'copied'`),
    index('backup_copies_transfer_idx')
      .on(t.accountId)
      .where(sql`status = 'pending' AND method = 'transfer'`),
  ],
);

/**
 * A deduplicated backup's pack, copied to the account's second storage location (migration 0021;
 * read by dedup/ for the fallback download): a
 * deduplicated backup's copy counts once its manifest and every pack it needs are copied. No
 * foreign key to the pack: the row stays until the copy's object is deleted too.
 */
export const dedupPackCopies = pgTable(
  'dedup_pack_copies',
  {
    packId: uuid('pack_id').notNull(),
    bucket: text('bucket').notNull(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    objectKey: text('object_key').notNull(),
    /** the copy's SHA-256 (hex) as read back after copying */
    sha256: text('sha256').notNull(),
    lockedUntil: ts('locked_until'),
    copiedAt: ts('copied_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.packId, t.bucket] }),
    index('dedup_pack_copies_account_idx').on(t.accountId),
  ],
);
