import {
  type Agent,
  CURRENT_AGENT_VERSION,
  isAgentOutdated,
  PAGE_LIMIT_MAX,
  type PageQuery,
} from '@resistro/contract';
import { and, desc, eq } from 'drizzle-orm';
import { apiKeys } from '../api-keys/api-keys.sql.ts';
import type { Db } from '../db.ts';
import { notFound } from '../errors.ts';
import { afterCursor, toPage } from '../lib/page.ts';
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

export type HeartbeatInput = {
  hostname: string;
  os: string;
  version: string;
  tools: { name: string; version: string; path: string }[];
  publicKey: string;
};

/**
 * Registers the agent on its first heartbeat (identified by its X25519 public key within the
 * account), or records that it was seen; agent-work/ adds the work it is answered with.
 */
export async function recordHeartbeat(
  db: Db,
  principal: { accountId: string; apiKeyId: string | null },
  input: HeartbeatInput,
  now: Date,
): Promise<typeof agents.$inferSelect> {
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
  return row!;
}

/** Agents with the revocation of their key: the refusal shows at once, not as "offline" minutes later. */
function selectAgents(db: Db) {
  return db
    .select({ agent: agents, keyRevokedAt: apiKeys.revokedAt })
    .from(agents)
    .leftJoin(apiKeys, and(eq(apiKeys.id, agents.apiKeyId), eq(apiKeys.accountId, agents.accountId)));
}

/** Every agent of the account (the metrics scrape, which reports each one). */
export async function allAgents(db: Db, accountId: string, now: Date): Promise<Agent[]> {
  const rows = await selectAgents(db).where(eq(agents.accountId, accountId));
  return rows.map((r) => toAgent(r.agent, now, r.keyRevokedAt));
}

/**
 * The account's agents, newest registered first, a page at a time (by registration, which never
 * changes: the last heartbeat moves and would shift agents between pages).
 */
export async function listAgents(db: Db, accountId: string, now: Date, q: PageQuery = {}) {
  const limit = q.limit ?? PAGE_LIMIT_MAX;
  const where = [eq(agents.accountId, accountId)];
  if (q.cursor) where.push(afterCursor(q.cursor, agents.createdAt, agents.id));
  const rows = await selectAgents(db)
    .where(and(...where))
    .orderBy(desc(agents.createdAt), desc(agents.id))
    .limit(limit + 1);
  return toPage(
    rows,
    limit,
    (r) => toAgent(r.agent, now, r.keyRevokedAt),
    (r) => [r.agent.createdAt, r.agent.id],
  );
}

export async function getAgent(db: Db, accountId: string, id: string, now: Date): Promise<Agent> {
  const [row] = await selectAgents(db).where(and(eq(agents.id, id), eq(agents.accountId, accountId)));
  if (!row) throw notFound('agent');
  return toAgent(row.agent, now, row.keyRevokedAt);
}

/** Deletes the agent's row; agent-work/ first refuses while databases still run on it. */
export async function removeAgent(db: Db, accountId: string, id: string): Promise<void> {
  await db.delete(agents).where(and(eq(agents.id, id), eq(agents.accountId, accountId)));
}
