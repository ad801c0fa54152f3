import type { BackupErrorCode, BackupErrorParams } from '@resistro/contract';
import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { accounts } from '../accounts/accounts.sql.ts';
import { databases } from '../databases/databases.sql.ts';
import { ts } from '../lib/columns.ts';

export const backups = pgTable(
  'backups',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    databaseId: uuid('database_id')
      .notNull()
      .references(() => databases.id, { onDelete: 'cascade' }),
    /** copied so that listings never join and the name survives renames */
    databaseName: text('database_name').notNull(),
    agentId: uuid('agent_id'),
    status: text('status', { enum: ['running', 'succeeded', 'failed'] }).notNull(),
    trigger: text('trigger', { enum: ['schedule', 'manual', 'retry'] }).notNull(),
    objectKey: text('object_key').notNull(),
    /** S3 multipart upload id while running; null once completed or aborted */
    uploadId: text('upload_id'),
    partSize: bigint('part_size', { mode: 'number' }).notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }),
    sha256: text('sha256'),
    /** how storage checks this upload's parts ('sha256', 'md5'); null: started before part checksums */
    partChecksum: text('part_checksum', { enum: ['sha256', 'md5'] }),
    /** the object's checksum from the parts storage verified (docs/checksums.md) */
    storageChecksum: text('storage_checksum'),
    keyId: text('key_id'),
    error: text('error'),
    /** the agent's kind of failure (contract BACKUP_ERROR_CODES); null from an older agent or the system */
    errorCode: text('error_code').$type<BackupErrorCode>(),
    errorParams: jsonb('error_params').$type<BackupErrorParams>(),
    startedAt: ts('started_at').notNull(),
    finishedAt: ts('finished_at'),
    durationMs: integer('duration_ms'),
    /** a running backup not completed by then is failed by the system */
    deadlineAt: ts('deadline_at').notNull(),
    /** S3 object lock (compliance): storage refuses to delete the object before this (retention/locks.ts) */
    lockedUntil: ts('locked_until'),
    /** deduplicated (docs/dedup.md): the object is the manifest, the chunks are in the account's packs */
    dedup: boolean('dedup').notNull().default(false),
    /** deduplicated: the plaintext bytes of all sections (what the backup holds, before dedup) */
    logicalBytes: bigint('logical_bytes', { mode: 'number' }),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    // Ascending: scanned backwards for newest-first, and usable for the (started_at, id) < cursor row comparison.
    index('backups_account_started_idx').on(t.accountId, t.startedAt, t.id),
    index('backups_database_started_idx').on(t.databaseId, t.startedAt.desc()),
    index('backups_running_deadline_idx').on(t.deadlineAt).where(sql`status = 'running'`),
  ],
);

/**
 * Failed backups already removed, per database (remove.ts counts them in as it deletes), so that
 * the Prometheus counter `backup_failures_total` never goes down, whichever path deletes a backup.
 */
export const databaseCounters = pgTable('database_counters', {
  databaseId: uuid('database_id')
    .primaryKey()
    .references(() => databases.id, { onDelete: 'cascade' }),
  failuresDeleted: bigint('failures_deleted', { mode: 'number' }).notNull().default(0),
});
