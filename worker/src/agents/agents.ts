import {
  type Agent,
  type BackupRequest,
  CURRENT_AGENT_VERSION,
  type DatabaseWork,
  type HeartbeatResponse,
  isAgentOutdated,
} from '@resistro/contract';
import { and, asc, desc, eq, inArray, isNull } from 'drizzle-orm';
import { apiKeys } from '../api-keys/api-keys.sql.ts';
import { checkRequestsOf } from '../databases/checks.ts';
import { backupRequests, databases } from '../databases/databases.sql.ts';
import type { Db } from '../db.ts';
import { ApiError, notFound } from '../errors.ts';
import { agents } from './agents.sql.ts';

export const HEARTBEAT_INTERVAL_SECONDS = 60;
/** An agent without a heartbeat for this long is offline. */
export const OFFLINE_AFTER_MS = 5 * 60_000;

export function toAgent(row: typeof agents.$inferSelect, now: Date, keyRevokedAt: Date | null = null): Agent {
  return {
    id: row.id,
    hostname: row.hostname,
    os: row.os,
    version: row.version,
    tools: row.tools,
    publicKey: row.publicKey,
    createdAt: row.createdAt.toISOString(),
    lastSeenAt: row.lastSeenAt.toISOString(),
    // A revoked key's heartbeats are refused: the agent is not online, whatever it last sent.
    online: !keyRevokedAt && now.getTime() - row.lastSeenAt.getTime() < OFFLINE_AFTER_MS,
    outdated: isAgentOutdated(row.version),
    latestVersion: CURRENT_AGENT_VERSION,
    apiKeyId: row.apiKeyId,
    keyRevokedAt: keyRevokedAt?.toISOString() ?? null,
  };
}

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
    paused: row.paused,
  };
}

export type HeartbeatInput = {
  hostname: string;
  os: string;
  version: string;
  tools: { name: string; version: string; path: string }[];
  publicKey: string;
};

/**
 * Registers the agent on its first heartbeat (identified by its X25519 public key within the
 * account) and returns its work: its databases and the pending "back up now" requests.
 */
export async function heartbeat(
  db: Db,
  principal: { accountId: string; apiKeyId: string | null },
  input: HeartbeatInput,
  now: Date,
): Promise<HeartbeatResponse> {
  const [row] = await db
    .insert(agents)
    .values({
      accountId: principal.accountId,
      apiKeyId: principal.apiKeyId,
      ...input,
      createdAt: now,
      lastSeenAt: now,
    })
    .onConflictDoUpdate({
      target: [agents.accountId, agents.publicKey],
      set: {
        hostname: input.hostname,
        os: input.os,
        version: input.version,
        tools: input.tools,
        lastSeenAt: now,
        apiKeyId: principal.apiKeyId,
      },
    })
    .returning();
  const agent = row!;
  const dbs = await db
    .select()
    .from(databases)
    .where(
      and(
        eq(databases.accountId, principal.accountId),
        eq(databases.agentId, agent.id),
        isNull(databases.deletedAt),
      ),
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
    agent: toAgent(agent, now),
    databases: dbs.map(toDatabaseWork),
    backupRequests: requests,
    checkRequests: checkRequestsOf(dbs),
    serverTime: now.toISOString(),
    heartbeatIntervalSeconds: HEARTBEAT_INTERVAL_SECONDS,
  };
}

/** Agents with the revocation of their key: the refusal shows at once, not as "offline" minutes later. */
function selectAgents(db: Db) {
  return db
    .select({ agent: agents, keyRevokedAt: apiKeys.revokedAt })
    .from(agents)
    .leftJoin(apiKeys, and(eq(apiKeys.id, agents.apiKeyId), eq(apiKeys.accountId, agents.accountId)));
}

export async function listAgents(db: Db, accountId: string, now: Date): Promise<Agent[]> {
  const rows = await selectAgents(db).where(eq(agents.accountId, accountId)).orderBy(desc(agents.lastSeenAt));
  return rows.map((r) => toAgent(r.agent, now, r.keyRevokedAt));
}

export async function getAgent(db: Db, accountId: string, id: string, now: Date): Promise<Agent> {
  const [row] = await selectAgents(db).where(and(eq(agents.id, id), eq(agents.accountId, accountId)));
  if (!row) throw notFound('agent');
  return toAgent(row.agent, now, row.keyRevokedAt);
}

export async function deleteAgent(db: Db, accountId: string, id: string): Promise<void> {
  await getAgent(db, accountId, id, new Date());
  const [used] = await db
    .select({ id: databases.id })
    .from(databases)
    .where(and(eq(databases.agentId, id), isNull(databases.deletedAt)))
    .limit(1);
  if (used) throw new ApiError('conflict', 'This agent still runs databases; move or delete them first');
  await db.delete(agents).where(and(eq(agents.id, id), eq(agents.accountId, accountId)));
}
