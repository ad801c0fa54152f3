// What an agent is told to run: its databases, the pending "back up now" requests and connection
// checks. The heartbeat (agent-work/) answers with it; agents/ knows nothing of databases.
import type { BackupRequest, CheckRequest, DatabaseWork } from '@resistro/contract';
import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { checkRequestsOf } from './checks.ts';
import { backupRequests, databases } from './databases.sql.ts';

export function toDatabaseWork(row: typeof databases.$inferSelect): DatabaseWork {
  return {
    id: row.id,
    name: row.name,
    engine: row.engine,
    host: row.host,
    port: row.port,
    database: row.databaseName,
    user: row.username,
    credentials:
      row.credentialsMode === 'sealed' && row.sealedPassword
        ? { mode: 'sealed', sealedPassword: row.sealedPassword }
        : { mode: 'local' },
    schedule: row.schedule,
    compressionLevel: row.compressionLevel,
    ...(row.dedup && { dedup: true }),
    paused: row.paused,
    source: row.source ?? null,
  };
}

/** The agent's databases (not deleted), the unclaimed requests of the unpaused ones, and pending checks. */
export async function agentWork(
  db: Db,
  accountId: string,
  agentId: string,
): Promise<{ databases: DatabaseWork[]; backupRequests: BackupRequest[]; checkRequests: CheckRequest[] }> {
  const dbs = await db
    .select()
    .from(databases)
    .where(
      and(eq(databases.accountId, accountId), eq(databases.agentId, agentId), isNull(databases.deletedAt)),
    )
    .orderBy(asc(databases.createdAt));
  let requests: BackupRequest[] = [];
  const ids = dbs.filter((d) => !d.paused).map((d) => d.id);
  if (ids.length > 0) {
    const rows = await db
      .select()
      .from(backupRequests)
      .where(and(inArray(backupRequests.databaseId, ids), isNull(backupRequests.claimedAt)))
      .orderBy(asc(backupRequests.requestedAt));
    requests = rows.map((r) => ({
      id: r.id,
      databaseId: r.databaseId,
      requestedAt: r.requestedAt.toISOString(),
    }));
  }
  return {
    databases: dbs.map(toDatabaseWork),
    backupRequests: requests,
    checkRequests: checkRequestsOf(dbs),
  };
}

/** True while a database that is not deleted is assigned to the agent. */
export async function agentRunsDatabases(db: Db, agentId: string): Promise<boolean> {
  const [used] = await db
    .select({ id: databases.id })
    .from(databases)
    .where(and(eq(databases.agentId, agentId), isNull(databases.deletedAt)))
    .limit(1);
  return used !== undefined;
}
