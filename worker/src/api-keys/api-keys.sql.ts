import { ROLES } from '@resistro/contract';
import { boolean, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { accounts, users } from '../accounts/accounts.sql.ts';
import { ts, tsMs } from '../lib/columns.ts';

export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    /** SECURITY: SHA-256 of the 256-bit secret; the secret itself is shown once and never stored */
    secretHash: text('secret_hash').notNull(),
    scope: text('scope', { enum: ['agent', 'read', 'full'] }).notNull(),
    /** what the key may do: never more than its creator's role when created (api-keys.ts) */
    role: text('role', { enum: ROLES }).notNull().default('viewer'),
    canDownload: boolean('can_download').notNull().default(false),
    /** who created it; null once that member is removed (the e-mail stays for the list) */
    createdByUserId: uuid('created_by_user_id').references(() => users.id, { onDelete: 'set null' }),
    createdByEmail: text('created_by_email'),
    createdAt: tsMs('created_at').notNull().defaultNow(),
    lastUsedAt: ts('last_used_at'),
    revokedAt: ts('revoked_at'),
  },
  (t) => [
    uniqueIndex('api_keys_secret_hash_key').on(t.secretHash),
    index('api_keys_account_idx').on(t.accountId),
    index('api_keys_created_by_idx').on(t.createdByUserId),
  ],
);
