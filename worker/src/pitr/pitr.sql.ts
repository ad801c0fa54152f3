import type { PitrMethod, PitrSlot } from '@resistro/contract';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { accounts } from '../accounts/accounts.sql.ts';
import { backups } from '../backups/backups.sql.ts';
import { databases } from '../databases/databases.sql.ts';
import { ts } from '../lib/columns.ts';

/**
 * Continuous protection of one database server (the registered database the agent connects
 * through): the user's settings and what the agent last reported about its stream.
 */
export const pitrSettings = pgTable('pitr_settings', {
  databaseId: uuid('database_id')
    .primaryKey()
    .references(() => databases.id, { onDelete: 'cascade' }),
  accountId: uuid('account_id')
    .notNull()
    .references(() => accounts.id, { onDelete: 'cascade' }),
  enabled: boolean('enabled').notNull().default(false),
  method: text('method').$type<PitrMethod>().notNull().default('stream'),
  rpoSeconds: integer('rpo_seconds').notNull(),
  baseBackupEveryDays: integer('base_backup_every_days').notNull(),
  windowDays: integer('window_days').notNull(),
  enabledAt: ts('enabled_at'),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  /** the agent's last report (POST …/pitr/status) */
  reportedAt: ts('reported_at'),
  lagSeconds: integer('lag_seconds'),
  serverPosition: text('server_position'),
  serverOffset: bigint('server_offset', { mode: 'number' }),
  segmentSizeBytes: bigint('segment_size_bytes', { mode: 'number' }),
  slot: jsonb('slot').$type<PitrSlot>(),
  /** MariaDB/MySQL: the server's binlog retention in seconds (0: forever), as the agent read it */
  logRetentionSeconds: integer('log_retention_seconds'),
  errorCode: text('error_code'),
  error: text('error'),
  /** the last object check (cron): segments storage no longer has are marked missing */
  checkedAt: ts('checked_at'),
});

/** Every uploaded log segment (PostgreSQL WAL, MariaDB/MySQL binlog): one object each. */
export const pitrSegments = pgTable(
  'pitr_segments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    databaseId: uuid('database_id')
      .notNull()
      .references(() => databases.id, { onDelete: 'cascade' }),
    stream: text('stream').notNull(),
    name: text('name').notNull(),
    startPosition: text('start_position').notNull(),
    endPosition: text('end_position').notNull(),
    startOffset: bigint('start_offset', { mode: 'number' }).notNull(),
    endOffset: bigint('end_offset', { mode: 'number' }).notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    sha256: text('sha256').notNull(),
    objectKey: text('object_key').notNull(),
    partial: boolean('partial').notNull(),
    closedAt: ts('closed_at').notNull(),
    firstCommitAt: ts('first_commit_at'),
    lastCommitAt: ts('last_commit_at'),
    missingSince: ts('missing_since'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('pitr_segments_name_key').on(t.databaseId, t.stream, t.name),
    index('pitr_segments_offset_idx').on(t.databaseId, t.stream, t.startOffset),
    index('pitr_segments_account_idx').on(t.accountId),
  ],
);

/** A succeeded backup that is a base backup: the start of a chain of segments. */
export const pitrBaseBackups = pgTable(
  'pitr_base_backups',
  {
    backupId: uuid('backup_id')
      .primaryKey()
      .references(() => backups.id, { onDelete: 'cascade' }),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    databaseId: uuid('database_id')
      .notNull()
      .references(() => databases.id, { onDelete: 'cascade' }),
    stream: text('stream').notNull(),
    startPosition: text('start_position').notNull(),
    endPosition: text('end_position').notNull(),
    startOffset: bigint('start_offset', { mode: 'number' }).notNull(),
    endOffset: bigint('end_offset', { mode: 'number' }).notNull(),
    firstSegment: text('first_segment'),
    consistentAt: ts('consistent_at').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('pitr_base_backups_database_idx').on(t.databaseId, t.consistentAt)],
);
