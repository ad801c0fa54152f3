// What the agent commands (agent, backup, status) share: the state directory, the identity, the
// API client, the spool, and the heartbeat that registers the agent and fetches its work.

import { readFileSync } from 'node:fs';
import { arch, hostname, release, type } from 'node:os';
import type { AgentKeyPair, DatabaseWork, HeartbeatResponse } from '@resistro/contract';
import { findZstdProgram } from './compress.ts';
import type { Config } from './config.ts';
import { detectAllTools, type ToolInfo } from './engines/index.ts';
import { UsageError } from './errors.ts';
import { loadOrCreateIdentity } from './identity.ts';
import type { Logger } from './log.ts';
import { savePendingReport } from './reports.ts';
import { openStateDir, readJson, type StateDir, writeJson } from './state.ts';
import { type AgentApi, createAgentApi } from './upload/client.ts';
import { createAgents, type HttpAgents } from './upload/http.ts';
import { Spool } from './upload/spool.ts';
import { VERSION } from './version.ts';

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

function osDescription(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1];
    if (pretty) return `${pretty} (${type()} ${release()} ${arch()})`.slice(0, 200);
  } catch {}
  return `${type()} ${release()} ${arch()}`.slice(0, 200);
}

let toolsCache: { at: number; tools: ToolInfo[] } | undefined;
const TOOLS_MAX_AGE_MS = 10 * 60_000;

/**
 * Dump and restore tools on this machine (plus zstd), for the heartbeat. Detecting them runs every
 * tool's --version, which costs a few hundred milliseconds: the result is kept for 10 minutes, in
 * memory and in the state directory (so a `resistro backup` started by hand or cron does not pay
 * for it every time).
 */
export async function installedTools(state?: StateDir): Promise<ToolInfo[]> {
  if (toolsCache && Date.now() - toolsCache.at < TOOLS_MAX_AGE_MS) return toolsCache.tools;
  const saved = state
    ? await readJson<{ at: number; tools: ToolInfo[] }>(state.path('tools.json'))
    : undefined;
  if (
    saved &&
    Array.isArray(saved.tools) &&
    Date.now() - saved.at < TOOLS_MAX_AGE_MS &&
    saved.at <= Date.now()
  ) {
    toolsCache = saved;
    return saved.tools;
  }
  const tools = await detectAllTools().catch(() => [] as ToolInfo[]);
  const zstd = await findZstdProgram();
  if (zstd) tools.push({ name: 'zstd', version: zstd.version, path: zstd.path });
  toolsCache = { at: Date.now(), tools: tools.slice(0, 50) };
  if (state) await writeJson(state.path('tools.json'), toolsCache).catch(() => {});
  return toolsCache.tools;
}

/** Registers the agent (first call) and fetches its work; the answer is cached on disk. */
export async function heartbeat(ctx: AgentContext): Promise<HeartbeatResponse> {
  const tools = await installedTools(ctx.state);
  const res = await ctx.api.heartbeat({
    hostname: (hostname() || 'unknown').slice(0, 253),
    os: osDescription(),
    version: VERSION,
    tools: tools.map((t) => ({
      name: t.name.slice(0, 64),
      version: t.version.slice(0, 64),
      path: t.path.slice(0, 512),
    })),
    publicKey: ctx.identity.publicKey,
  });
  ctx.agentId = res.agent.id;
  const cached: CachedWork = {
    savedAt: new Date().toISOString(),
    agentId: res.agent.id,
    heartbeatIntervalSeconds: res.heartbeatIntervalSeconds,
    databases: res.databases,
  };
  // SECURITY: the cache holds sealed passwords (only this agent's private key opens them); 0600.
  await writeJson(ctx.state.path('config.json'), cached);
  return res;
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
