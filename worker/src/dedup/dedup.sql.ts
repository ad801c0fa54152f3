// Deduplicated storage (docs/dedup.md): the account's chunk index, its pack objects, and each
// deduplicated backup's ordered chunk references. Written only by worker/src/dedup/.
import { bigint, index, integer, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { accounts } from '../accounts/accounts.sql.ts';
import { backups } from '../backups/backups.sql.ts';
import { ts } from '../lib/columns.ts';

/** One pack object: many encrypted chunks back to back, uploaded by one backup. */
export const dedupPacks = pgTable(
  'dedup_packs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    /** the database whose backup uploaded it (no foreign key: packs outlive a deleted database's rows) */
    databaseId: uuid('database_id').notNull(),
    objectKey: text('object_key').notNull(),
    /** S3 multipart upload id while uploading */
    uploadId: text('upload_id'),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    checksum: text('checksum').notNull(),
    status: text('status', { enum: ['uploading', 'stored'] }).notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    /**
     * Storage refuses to delete the pack before this date (S3 object lock, compliance mode): at
     * least the lock of every locked backup with a chunk in it (migration 0021).
     */
    lockedUntil: ts('locked_until'),
    /**
     * Rewritten into a smaller pack (its live chunks copied server-side, the index moved there):
     * kept until a grace period has passed, for readers that planned their reads before.
     */
    retiredAt: ts('retired_at'),
  },
  (t) => [index('dedup_packs_account_idx').on(t.accountId, t.status)],
);

/** The account's chunk index: keyed chunk id → where its blob lies. */
export const dedupChunks = pgTable(
  'dedup_chunks',
  {
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    /** HMAC-SHA256 under a key derived from the customer's key, base64url: reveals nothing of the content */
    chunkId: text('chunk_id').notNull(),
    packId: uuid('pack_id')
      .notNull()
      .references(() => dedupPacks.id, { onDelete: 'cascade' }),
    offset: bigint('offset', { mode: 'number' }).notNull(),
    length: integer('length').notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.chunkId] }), index('dedup_chunks_pack_idx').on(t.packId)],
);

/** A deduplicated backup's chunks in manifest order (the download's order; what keeps chunks alive). */
export const dedupRefs = pgTable(
  'dedup_refs',
  {
    backupId: uuid('backup_id')
      .notNull()
      .references(() => backups.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    accountId: uuid('account_id').notNull(),
    chunkId: text('chunk_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.backupId, t.seq] }),
    index('dedup_refs_chunk_idx').on(t.accountId, t.chunkId),
  ],
);

/**
 * Accounts whose backups lost references since their last collection; filled by a trigger on
 * dedup_refs (migration 0017), so whichever feature removes a backup, its chunks get collected.
 */
export const dedupPending = pgTable('dedup_pending', {
  accountId: uuid('account_id')
    .primaryKey()
    .references(() => accounts.id, { onDelete: 'cascade' }),
});
