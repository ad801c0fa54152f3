// The heartbeat: registers the agent (first call), tells the control plane what this machine has,
// and fetches the agent's work. Each answer is kept on disk, so schedules keep running from it
// while the control plane is away. `resistro backup` and `resistro status` send one too.
import { readFileSync } from 'node:fs';
import { arch, hostname, release, type } from 'node:os';
import type { HeartbeatResponse } from '@resistro/contract';
import { findZstdProgram } from '../backup/compress.ts';
import type { AgentContext, CachedWork } from '../context.ts';
import { detectAllTools, type ToolInfo } from '../engines/index.ts';
import { readJson, type StateDir, writeJson } from '../state.ts';
import { VERSION_LINE } from '../version.ts';

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
  if (zstd) tools.push(zstd);
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
    version: VERSION_LINE,
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
