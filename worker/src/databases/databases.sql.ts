import { type CheckItem, ENGINES, type Schedule, type SourceSettings } from '@resistro/contract';
import { boolean, index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { accounts } from '../accounts/accounts.sql.ts';
import { agents } from '../agents/agents.sql.ts';
import { ts } from '../lib/columns.ts';

export const databases = pgTable(
  'databases',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    /** null only for deleted databases whose agent was removed later */
    agentId: uuid('agent_id').references(() => agents.id, { onDelete: 'set null' }),
    name: text('name').notNull(),
    engine: text('engine', { enum: ENGINES }).notNull(),
    host: text('host').notNull(),
    port: integer('port').notNull(),
    databaseName: text('database_name').notNull(),
    username: text('username').notNull(),
    credentialsMode: text('credentials_mode', { enum: ['sealed', 'local'] }).notNull(),
    /** SECURITY: sealed to the agent's public key in the browser; the control plane cannot open it */
    sealedPassword: text('sealed_password'),
    /** what a SQLite, Redis or directory source needs beyond host/port (null for SQL servers) */
    source: jsonb('source').$type<SourceSettings>(),
    schedule: jsonb('schedule').$type<Schedule>().notNull(),
    retentionDays: integer('retention_days').notNull(),
    compressionLevel: integer('compression_level').notNull().default(3),
    paused: boolean('paused').notNull().default(false),
    /** back up into the account's deduplicated chunk store (docs/dedup.md); opt-in */
    dedup: boolean('dedup').notNull().default(false),
    lastBackupAt: ts('last_backup_at'),
    lastSuccessAt: ts('last_success_at'),
    lastStatus: text('last_status', { enum: ['running', 'succeeded', 'failed'] }),
    lastError: text('last_error'),
    /** the connection check: null never asked, pending until the agent reports (see checks.ts) */
    checkStatus: text('check_status', { enum: ['pending', 'ok', 'failed'] }),
    checkRequestedAt: ts('check_requested_at'),
    checkedAt: ts('checked_at'),
    checkResult: jsonb('check_result').$type<{
      serverVersion: string | null;
      toolVersion: string | null;
      items: CheckItem[];
    }>(),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    /** soft delete: the configuration goes, the backups stay until their retention ends */
    deletedAt: ts('deleted_at'),
  },
  (t) => [index('databases_account_idx').on(t.accountId), index('databases_agent_idx').on(t.agentId)],
);

export const backupRequests = pgTable(
  'backup_requests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    databaseId: uuid('database_id')
      .notNull()
      .references(() => databases.id, { onDelete: 'cascade' }),
    requestedAt: ts('requested_at').notNull().defaultNow(),
    claimedAt: ts('claimed_at'),
    backupId: uuid('backup_id'),
  },
  (t) => [index('backup_requests_database_idx').on(t.databaseId, t.claimedAt)],
);
