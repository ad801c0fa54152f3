// Every drizzle table, for the driver's relational queries and for drizzle-kit.
export * from './accounts/accounts.sql.ts';
export * from './agents/agents.sql.ts';
export * from './alerts/alerts.sql.ts';
export * from './api-keys/api-keys.sql.ts';
export * from './audit/audit.sql.ts';
export * from './backups/backups.sql.ts';
export * from './billing/billing.sql.ts';
export * from './closing/closing.sql.ts';
export * from './databases/databases.sql.ts';
export * from './dedup/dedup.sql.ts';
export * from './lib/batch-cursor.sql.ts';
export * from './metrics/metrics.sql.ts';
export * from './notifications/notifications.sql.ts';
export * from './pitr/pitr.sql.ts';
// issue 14: restore tests
export * from './restore-tests/restore-tests.sql.ts';
export * from './restores/restores.sql.ts';
export * from './retention/retention.sql.ts';
export * from './teams/teams.sql.ts';
