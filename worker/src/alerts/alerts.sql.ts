import { ALERT_KINDS, ALERT_SEVERITIES, ALERT_SUBJECT_TYPES } from '@resistro/contract';
import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { accounts } from '../accounts/accounts.sql.ts';
import { ts } from '../lib/columns.ts';

export const alerts = pgTable(
  'alerts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ALERT_KINDS }).notNull(),
    severity: text('severity', { enum: ALERT_SEVERITIES }).notNull(),
    subjectType: text('subject_type', { enum: ALERT_SUBJECT_TYPES }).notNull(),
    /** a database, an agent or the account itself; no foreign key (three tables) */
    subjectId: uuid('subject_id').notNull(),
    subjectName: text('subject_name').notNull(),
    title: text('title').notNull(),
    detail: text('detail').notNull(),
    /** what the condition was evaluated on, e.g. the missed run or the shrunken backup */
    facts: jsonb('facts').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    openedAt: ts('opened_at').notNull(),
    resolvedAt: ts('resolved_at'),
    acknowledgedAt: ts('acknowledged_at'),
  },
  (t) => [
    // One open alert per condition and subject: concurrent cron runs cannot open it twice.
    uniqueIndex('alerts_open_key').on(t.accountId, t.kind, t.subjectId).where(sql`resolved_at is null`),
    index('alerts_account_opened_idx').on(t.accountId, t.openedAt.desc(), t.id.desc()),
    index('alerts_subject_open_idx').on(t.subjectId).where(sql`resolved_at is null`),
  ],
);
