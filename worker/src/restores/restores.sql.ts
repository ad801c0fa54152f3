import type { RestoreErrorCode, RestorePhase, RestoreState } from '@resistro/contract';
import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { accounts } from '../accounts/accounts.sql.ts';
import { agents } from '../agents/agents.sql.ts';
import { backups } from '../backups/backups.sql.ts';
import { databases } from '../databases/databases.sql.ts';
import { ts } from '../lib/columns.ts';

/** One restore job: asked for in the dashboard or the API, run by the agent of the backup's database. */
export const restores = pgTable(
  'restores',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    /** the database the backup is of (its history lists the restore) */
    databaseId: uuid('database_id')
      .notNull()
      .references(() => databases.id, { onDelete: 'cascade' }),
    databaseName: text('database_name').notNull(),
    /** null once retention deleted the backup; the history keeps its time */
    backupId: uuid('backup_id').references(() => backups.id, { onDelete: 'set null' }),
    backupStartedAt: ts('backup_started_at').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    agentId: uuid('agent_id').references(() => agents.id, { onDelete: 'set null' }),
    targetKind: text('target_kind', { enum: ['new', 'database', 'original'] }).notNull(),
    /** the registered database restored into (original, database) */
    targetDatabaseId: uuid('target_database_id'),
    /** whose configuration (host, user, credentials) the agent connects with */
    connectionDatabaseId: uuid('connection_database_id').notNull(),
    engine: text('engine', { enum: ['postgres', 'mysql', 'mariadb'] }).notNull(),
    targetHost: text('target_host').notNull(),
    targetPort: integer('target_port').notNull(),
    targetDatabase: text('target_database').notNull(),
    replace: boolean('replace').notNull().default(false),
    state: text('state').$type<RestoreState>().notNull(),
    phase: text('phase').$type<RestorePhase>(),
    bytesDone: bigint('bytes_done', { mode: 'number' }).notNull().default(0),
    bytesTotal: bigint('bytes_total', { mode: 'number' }),
    /** an e-mail address or an API key's name, kept as it was when asked */
    requestedBy: text('requested_by'),
    requestedByUserId: uuid('requested_by_user_id'),
    requestedByApiKeyId: uuid('requested_by_api_key_id'),
    requestedAt: ts('requested_at').notNull(),
    startedAt: ts('started_at'),
    progressAt: ts('progress_at'),
    finishedAt: ts('finished_at'),
    durationMs: integer('duration_ms'),
    cancelRequestedAt: ts('cancel_requested_at'),
    errorCode: text('error_code').$type<RestoreErrorCode>(),
    error: text('error'),
  },
  (t) => [
    index('restores_account_requested_idx').on(t.accountId, t.requestedAt),
    index('restores_database_requested_idx').on(t.databaseId, t.requestedAt),
    index('restores_pending_agent_idx').on(t.agentId).where(sql`state = 'pending'`),
  ],
);
