import { LANGUAGES, ROLES } from '@resistro/contract';
import { sql } from 'drizzle-orm';
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
import { ts } from '../lib/columns.ts';

export const accounts = pgTable('accounts', {
  id: uuid('id').primaryKey().defaultRandom(),
  plan: text('plan', { enum: ['starter', 'business', 'professional', 'enterprise'] })
    .notNull()
    .default('starter'),
  /** exact: changed in the same transaction as the backup that adds or frees the bytes */
  storageUsedBytes: bigint('storage_used_bytes', { mode: 'number' }).notNull().default(0),
  alertEmails: jsonb('alert_emails').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
  /** every text for this account (dashboard, API errors, alerts, e-mails) is in this language */
  language: text('language', { enum: LANGUAGES }).notNull().default('en'),
  /** dates and times in e-mails and the dashboard */
  timeZone: text('time_zone').notNull().default('UTC'),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    /** the member's role in the account (accounts/members.ts; docs/teams.md) */
    role: text('role', { enum: ROLES }).notNull().default('viewer'),
    /** a viewer granted backup downloads (operator and higher always may) */
    canDownload: boolean('can_download').notNull().default(false),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('users_email_key').on(t.email), index('users_account_idx').on(t.accountId)],
);

export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** SECURITY: only the SHA-256 of the cookie value is stored */
    tokenHash: text('token_hash').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [
    uniqueIndex('sessions_token_hash_key').on(t.tokenHash),
    index('sessions_expires_idx').on(t.expiresAt),
  ],
);

/** Fixed-window counters for login attempts, shared by every isolate through the database. */
export const rateLimits = pgTable('rate_limits', {
  key: text('key').primaryKey(),
  windowStart: ts('window_start').notNull(),
  count: integer('count').notNull(),
});
