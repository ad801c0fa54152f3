// What the agent commands (agent, backup, status) share: the state directory, the identity, the
// API client, the spool, the last configuration the control plane sent (daemon/heartbeat.ts), and
// the database each item of it names.

import { type AgentKeyPair, type DatabaseWork, openSealed } from '@resistro/contract';
import type { Config } from './config.ts';
import type { DatabaseTarget } from './engines/index.ts';
import { UsageError, UserError } from './errors.ts';
import { loadOrCreateIdentity } from './identity.ts';
import type { Logger } from './log.ts';
import { savePendingReport } from './reports.ts';
import { openStateDir, readJson, type StateDir } from './state.ts';
import { type AgentApi, createAgentApi } from './upload/client.ts';
import { createAgents, type HttpAgents } from './upload/http.ts';
import { Spool } from './upload/spool.ts';

export type AgentContext = {
  config: Config;
  state: StateDir;
  identity: AgentKeyPair;
  api: AgentApi;
  /** a client with a long timeout, for completing large uploads */
  slowApi: AgentApi;
  spool: Spool;
  agents: HttpAgents;
  log: Logger;
  /** set by the first successful heartbeat (or the cache) */
  agentId: string | undefined;
};

/** The last heartbeat answer kept on disk, so schedules keep running when the control plane is away. */
export type CachedWork = {
  savedAt: string;
  agentId: string;
  heartbeatIntervalSeconds: number;
  databases: DatabaseWork[];
};

export async function createAgentContext(config: Config, log: Logger): Promise<AgentContext> {
  if (!config.apiKey) throw new Error('createAgentContext needs an API key');
  const state = openStateDir(config.stateDir);
  const identity = await loadOrCreateIdentity(state);
  const cached = await loadCachedWork(state);
  return {
    config,
    state,
    identity,
    api: createAgentApi({ endpoint: config.endpoint, apiKey: config.apiKey }),
    slowApi: createAgentApi({ endpoint: config.endpoint, apiKey: config.apiKey, timeoutMs: 600_000 }),
    spool: new Spool({
      dir: state.dir('spool'),
      maxBytes: config.spoolMaxBytes,
      log,
      // A dropped entry whose upload had begun is still "running" on the control plane: fail it.
      onDrop: async (entry) => {
        await savePendingReport(state, {
          backupId: entry.upload?.backupId,
          databaseId: entry.databaseId,
          databaseName: entry.databaseName,
          trigger: entry.trigger,
          startedAt: entry.startedAt,
          durationMs: entry.durationMs,
          error:
            'The agent could not upload this backup (offline) and dropped it from its full spool to make room for a newer one.',
          errorCode: 'spool_full',
        });
      },
    }),
    agents: createAgents(8),
    log,
    agentId: cached?.agentId,
  };
}

export async function loadCachedWork(state: StateDir): Promise<CachedWork | undefined> {
  const cached = await readJson<CachedWork>(state.path('config.json'));
  return cached && Array.isArray(cached.databases) ? cached : undefined;
}

/** The database a work item names, with its sealed password opened (or local credentials). */
export async function resolveTarget(ctx: AgentContext, work: DatabaseWork): Promise<DatabaseTarget> {
  const target: DatabaseTarget = {
    engine: work.engine,
    host: work.host,
    port: work.port,
    database: work.database,
    user: work.user,
    ...(work.source && { source: work.source }),
  };
  if (work.credentials.mode === 'local') return target;
  try {
    // SECURITY: the password exists in clear only here, in memory, and in the dump tool's
    // environment or private option file; it is never logged or written to disk.
    return { ...target, password: await openSealed(ctx.identity, work.credentials.sealedPassword) };
  } catch (error) {
    throw new UserError(
      `the password of database "${work.name}" cannot be opened: it was sealed to another agent key`,
      "Enter the database password again in the dashboard (it is sealed to this agent's current key), or choose local credentials (.pgpass / option file).",
      { cause: error },
    );
  }
}

/**
 * A database by id or by name; names are matched exactly, then case-insensitively. A name that
 * several databases share is refused with their ids: backing up the wrong one silently is worse.
 */
export function findDatabase(databases: DatabaseWork[], idOrName: string): DatabaseWork | undefined {
  const byId = databases.find((d) => d.id === idOrName);
  if (byId) return byId;
  for (const same of [
    (d: DatabaseWork) => d.name === idOrName,
    (d: DatabaseWork) => d.name.toLowerCase() === idOrName.toLowerCase(),
  ]) {
    const found = databases.filter(same);
    if (found.length === 1) return found[0];
    if (found.length > 1)
      throw new UsageError(
        `${found.length} databases of this agent are named "${idOrName}"`,
        `Give --database one of their ids: ${found.map((d) => `${d.id} (${d.engine} ${d.host}:${d.port}/${d.database})`).join(', ')}.`,
      );
  }
  return undefined;
}
