import { pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { accounts } from '../accounts/accounts.sql.ts';
import { ts } from '../lib/columns.ts';

/** One scrape token per account; creating a new one replaces (rotates) the old. */
export const metricsTokens = pgTable(
  'metrics_tokens',
  {
    accountId: uuid('account_id')
      .primaryKey()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    prefix: text('prefix').notNull(),
    /** SECURITY: SHA-256 of the 256-bit token; the token itself is shown once */
    tokenHash: text('token_hash').notNull(),
    createdAt: ts('created_at').notNull(),
    lastUsedAt: ts('last_used_at'),
  },
  (t) => [uniqueIndex('metrics_tokens_hash_key').on(t.tokenHash)],
);
