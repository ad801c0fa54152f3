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
import { ts, tsMs } from '../lib/columns.ts';

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
  /** an owner's setting: every member must use two-factor authentication */
  require2fa: boolean('require_2fa').notNull().default(false),
  /** alert addresses that confirmed a verification link (alerts go only to verified addresses) */
  verifiedAlertEmails: jsonb('verified_alert_emails').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
  /** OIDC single sign-on (Enterprise); its client secret is the next column, never in here */
  sso: jsonb('sso').$type<SsoConfig | null>(),
  /**
   * SECURITY: the SSO client secret sealed with the data key (accounts/sso-secret.ts); write-only
   * through the API. A plaintext value moved here by migration 0022 is sealed by the Worker.
   */
  ssoClientSecret: text('sso_client_secret'),
});

export type SsoConfig = {
  issuer: string;
  clientId: string;
  /** e-mail domains whose people become members on their first SSO log-in */
  domains: string[];
  enabled: boolean;
};

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
    createdAt: tsMs('created_at').notNull().defaultNow(),
    /** null until the address confirmed the link sent to it */
    emailVerifiedAt: ts('email_verified_at'),
    /** base32 TOTP secret; set during setup, in force once totpEnabledAt is set */
    totpSecret: text('totp_secret'),
    totpEnabledAt: ts('totp_enabled_at'),
    /** the last 30-second step a code was accepted for: a code works once */
    totpLastStep: bigint('totp_last_step', { mode: 'number' }),
    passwordChangedAt: ts('password_changed_at'),
    /** the OIDC provider's `sub` for a member who logs in by single sign-on */
    ssoSubject: text('sso_subject'),
  },
  (t) => [
    uniqueIndex('users_email_key').on(t.email),
    index('users_account_idx').on(t.accountId),
    uniqueIndex('users_sso_subject_key').on(t.accountId, t.ssoSubject),
  ],
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
    /** shown in the sessions list: the browser's User-Agent (cut to 300 characters) */
    userAgent: text('user_agent'),
    /** the client's network, never its full address: a.b.c.0/24 or the /48 of an IPv6 address */
    ipPrefix: text('ip_prefix'),
    country: text('country'),
    lastSeenAt: ts('last_seen_at'),
    method: text('method', { enum: ['password', 'sso'] })
      .notNull()
      .default('password'),
  },
  (t) => [
    uniqueIndex('sessions_token_hash_key').on(t.tokenHash),
    index('sessions_expires_idx').on(t.expiresAt),
    index('sessions_user_idx').on(t.userId),
  ],
);

/**
 * Single-use secrets sent by e-mail or held during a log-in: e-mail verification, password reset,
 * the second step of a log-in with 2FA, an OIDC log-in's state. SECURITY: only the SHA-256 is stored.
 */
export const authTokens = pgTable(
  'auth_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tokenHash: text('token_hash').notNull(),
    kind: text('kind', {
      enum: ['verify_email', 'change_email', 'verify_alert_email', 'reset_password', 'login_2fa', 'oidc'],
    }).notNull(),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
    accountId: uuid('account_id').references(() => accounts.id, { onDelete: 'cascade' }),
    /** the address the link was sent to (verification, change of e-mail) */
    email: text('email'),
    data: jsonb('data').$type<Record<string, string>>(),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
    usedAt: ts('used_at'),
  },
  (t) => [
    uniqueIndex('auth_tokens_token_hash_key').on(t.tokenHash),
    index('auth_tokens_user_idx').on(t.userId, t.kind),
    index('auth_tokens_expires_idx').on(t.expiresAt),
  ],
);

/** Two-factor recovery codes: shown once, stored as SHA-256, each usable once. */
export const recoveryCodes = pgTable(
  'recovery_codes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    usedAt: ts('used_at'),
  },
  (t) => [index('recovery_codes_user_idx').on(t.userId)],
);

/** Fixed-window counters for login attempts, shared by every isolate through the database. */
export const rateLimits = pgTable('rate_limits', {
  key: text('key').primaryKey(),
  windowStart: ts('window_start').notNull(),
  count: integer('count').notNull(),
});
