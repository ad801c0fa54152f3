import { index, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { accounts } from '../accounts/accounts.sql.ts';
import { apiKeys } from '../api-keys/api-keys.sql.ts';
import { ts, tsMs } from '../lib/columns.ts';

export type AgentTool = { name: string; version: string; path: string };

export const agents = pgTable(
  'agents',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    apiKeyId: uuid('api_key_id').references(() => apiKeys.id, { onDelete: 'set null' }),
    hostname: text('hostname').notNull(),
    os: text('os').notNull(),
    version: text('version').notNull(),
    tools: jsonb('tools').$type<AgentTool[]>().notNull(),
    /** the agent's X25519 identity; passwords are sealed to it */
    publicKey: text('public_key').notNull(),
    createdAt: tsMs('created_at').notNull().defaultNow(),
    lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('agents_account_public_key_key').on(t.accountId, t.publicKey),
    index('agents_account_idx').on(t.accountId),
  ],
);
