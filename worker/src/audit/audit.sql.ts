import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { accounts } from '../accounts/accounts.sql.ts';

/**
 * Who did what, append-only: a trigger refuses UPDATE, TRUNCATE and any DELETE but the one that
 * comes with the account's own deletion (migrations/0011_teams_audit.sql).
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    /** milliseconds, as the keyset cursors carry them (migrations/0019_polish.sql) */
    at: timestamp('at', { withTimezone: true, mode: 'date', precision: 3 }).notNull().defaultNow(),
    actorKind: text('actor_kind', { enum: ['user', 'api_key', 'agent', 'system'] }).notNull(),
    /** a user, API key or agent id, or the system job's name; no foreign key: the row outlives them */
    actorId: text('actor_id').notNull(),
    /** the actor's e-mail, key name or hostname when it acted */
    actorLabel: text('actor_label'),
    ip: text('ip'),
    action: text('action').notNull(),
    objectKind: text('object_kind'),
    objectId: text('object_id'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
  },
  (t) => [index('audit_log_account_at_idx').on(t.accountId, t.at.desc(), t.id.desc())],
);
