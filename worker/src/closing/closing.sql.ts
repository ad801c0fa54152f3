import { CLOSING_REASONS } from '@resistro/contract';
import { bigint, index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { accounts } from '../accounts/accounts.sql.ts';
import { ts } from '../lib/columns.ts';

export type ClosingReason = (typeof CLOSING_REASONS)[number];

/**
 * An account on its way out: cancelled (by the user or by Paddle) or deleted on request. Until
 * `effectiveAt` nothing changes (the paid period runs on); from then on the account is read-only;
 * at `purgeAt` (30 days later) everything of it is deleted. Reopening deletes the row.
 */
export const accountClosings = pgTable(
  'account_closings',
  {
    accountId: uuid('account_id')
      .primaryKey()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    reason: text('reason', { enum: CLOSING_REASONS }).notNull(),
    requestedAt: ts('requested_at').notNull(),
    effectiveAt: ts('effective_at').notNull(),
    purgeAt: ts('purge_at').notNull(),
    /** the reminder e-mails, each sent once (set in the transaction that queues it) */
    reminded7dAt: ts('reminded_7d_at'),
    reminded1dAt: ts('reminded_1d_at'),
  },
  (t) => [index('account_closings_purge_idx').on(t.purgeAt)],
);

/**
 * The record of a purge, kept after the account is gone: when, why, how much was deleted. No
 * e-mail address, no name, nothing the customer stored; the id is a random UUID that no longer
 * points anywhere. A large account is purged over several cron runs; each adds its counts.
 */
export const accountPurges = pgTable('account_purges', {
  accountId: uuid('account_id').primaryKey(),
  reason: text('reason', { enum: CLOSING_REASONS }).notNull(),
  requestedAt: ts('requested_at').notNull(),
  startedAt: ts('started_at').notNull(),
  /** null while objects or rows remain */
  finishedAt: ts('finished_at'),
  backups: integer('backups').notNull().default(0),
  objects: integer('objects').notNull().default(0),
  bytes: bigint('bytes', { mode: 'number' }).notNull().default(0),
});
