// `resistro status`: what this agent is configured with, whether it reaches the control plane,
// which dump tools it found, its databases and its offline spool. Exit 1 when something needs
// attention (no API key or encryption key, control plane unreachable, no tools).

import { readdir } from 'node:fs/promises';
import { ApiClientError, type DatabaseWork, nextRuns } from '@resistro/contract';
import { findZstdProgram, hasNodeZstd } from '../backup/compress.ts';
import type { CommandInput } from '../command.ts';
import { createAgentContext, loadCachedWork } from '../context.ts';
import { heartbeat, installedTools } from '../daemon/heartbeat.ts';
import { explainApiError } from '../errors.ts';
import { loadIdentity } from '../identity.ts';
import { formatBytes } from '../log.ts';
import { openStateDir } from '../state.ts';
import { VERSION } from '../version.ts';

type Report = {
  version: string;
  node: string;
  envFile: string | null;
  endpoint: string;
  apiKey: string | null;
  encryptionKey: { kind: string; keyId: string } | null;
  stateDir: string;
  agentPublicKey: string | null;
  compressor: string;
  tools: { name: string; version: string; path: string }[];
  /** `refused`: it answered, but said no (API key, scope, account) */
  controlPlane: { reachable: boolean; refused?: boolean; agentId?: string; error?: string; hint?: string };
  databases: {
    id: string;
    name: string;
    engine: string;
    target: string;
    schedule: string;
    nextRun: string | null;
    credentials: string;
    paused: boolean;
  }[];
  spool: { backups: number; bytes: number };
  pendingReports: number;
  problems: string[];
};

function describeSchedule(d: DatabaseWork): string {
  return d.schedule.kind === 'daily'
    ? `daily ${d.schedule.time} ${d.schedule.timezone}`
    : `cron "${d.schedule.expression}" ${d.schedule.timezone}`;
}

export async function run({ options, config, log, out }: CommandInput): Promise<number> {
  const problems: string[] = [];
  const zstd = await findZstdProgram();
  const compressor =
    config.compressor === 'node' || !zstd
      ? hasNodeZstd()
        ? 'node:zlib zstd (install the zstd program for faster backups)'
        : 'none available: install zstd or Node >= 22.15'
      : `zstd ${zstd.version} program (${zstd.path})`;
  if (!zstd && !hasNodeZstd())
    problems.push('no zstd: install the zstd program (apt-get install -y zstd) or Node.js >= 22.15');
  const report: Report = {
    version: VERSION,
    node: process.version,
    envFile: config.envFile ?? null,
    endpoint: config.endpoint,
    // SECURITY: only the prefix of the API key, never the key; only the id of the encryption key.
    apiKey: config.apiKey ? `${config.apiKey.slice(0, 8)}…` : null,
    encryptionKey: config.encryptionKey
      ? { kind: config.encryptionKey.kind, keyId: config.encryptionKey.keyId }
      : null,
    stateDir: config.stateDir,
    agentPublicKey: null,
    compressor,
    tools: await installedTools(),
    controlPlane: { reachable: false },
    databases: [],
    spool: { backups: 0, bytes: 0 },
    pendingReports: 0,
    problems,
  };
  if (!config.apiKey) problems.push('RESISTRO_API_KEY is not set');
  if (!config.encryptionKey) problems.push('RESISTRO_ENCRYPTION_KEY is not set (backups cannot run)');
  if (
    !report.tools.some((t) => t.name === 'pg_dump' || t.name === 'mysqldump' || t.name === 'mariadb-dump')
  ) {
    problems.push('no dump tool found (pg_dump, mysqldump or mariadb-dump)');
  }

  let databases: DatabaseWork[] = [];
  if (config.apiKey) {
    const ctx = await createAgentContext(config, log);
    report.agentPublicKey = ctx.identity.publicKey;
    try {
      const res = await heartbeat(ctx);
      report.controlPlane = { reachable: true, agentId: res.agent.id };
      databases = res.databases;
    } catch (error) {
      const explained =
        error instanceof ApiClientError
          ? explainApiError(error)
          : { message: (error as Error).message, hint: '' };
      const refused =
        error instanceof ApiClientError &&
        error.code !== 'network_error' &&
        error.code !== 'unexpected_response';
      report.controlPlane = { reachable: false, refused, error: explained.message, hint: explained.hint };
      problems.push(`control plane: ${explained.message}`);
      databases = (await loadCachedWork(ctx.state))?.databases ?? [];
    }
    const entries = await ctx.spool.list();
    report.spool = { backups: entries.length, bytes: await ctx.spool.usage() };
    report.pendingReports = (await readdir(ctx.state.dir('reports'))).filter((n) =>
      n.endsWith('.json'),
    ).length;
    ctx.agents.destroy();
  } else {
    report.agentPublicKey =
      (await loadIdentity(openStateDir(config.stateDir)).catch(() => undefined))?.publicKey ?? null;
  }
  report.databases = databases.map((d) => ({
    id: d.id,
    name: d.name,
    engine: d.engine,
    target: `${d.host}:${d.port}/${d.database} as ${d.user}`,
    schedule: describeSchedule(d),
    nextRun: d.paused ? null : (nextRuns(d.schedule, new Date(), 1)[0]?.toISOString() ?? null),
    credentials:
      d.credentials.mode === 'sealed' ? 'password sealed to this agent' : 'local (.pgpass / option file)',
    paused: d.paused,
  }));

  if (options.json) {
    out(`${JSON.stringify(report, null, 2)}\n`);
    return problems.length ? 1 : 0;
  }
  const lines = [
    `resistro ${report.version} (node ${report.node})`,
    `config file:     ${report.envFile ?? '(none; environment only)'}`,
    `endpoint:        ${report.endpoint}`,
    `api key:         ${report.apiKey ?? 'NOT SET'}`,
    `encryption key:  ${report.encryptionKey ? `${report.encryptionKey.kind === 'recipient' ? 'public key (public-key mode)' : report.encryptionKey.kind}, key id ${report.encryptionKey.keyId}` : 'NOT SET'}`,
    `state directory: ${report.stateDir}`,
    `agent key:       ${report.agentPublicKey ?? '(not created yet)'}`,
    `compression:     ${report.compressor}`,
    'tools:',
    ...(report.tools.length
      ? report.tools.map((t) => `  ${t.name} ${t.version}  ${t.path}`)
      : ['  (none found)']),
    `control plane:   ${report.controlPlane.reachable ? `reachable; this is agent ${report.controlPlane.agentId}` : `${report.controlPlane.refused ? 'REFUSED' : 'UNREACHABLE'}: ${report.controlPlane.error ?? 'no API key'}${report.controlPlane.hint ? `\n                 hint: ${report.controlPlane.hint}` : ''}`}`,
    `databases:       ${report.databases.length}${report.controlPlane.reachable ? '' : ' (from the cached configuration)'}`,
    ...report.databases.map(
      (d) =>
        `  ${d.name} (${d.id})\n    ${d.engine} ${d.target}; ${d.schedule}; ${d.paused ? 'PAUSED' : `next ${d.nextRun}`}; ${d.credentials}`,
    ),
    `offline spool:   ${report.spool.backups} backups waiting (${formatBytes(report.spool.bytes)})`,
    `queued reports:  ${report.pendingReports}`,
  ];
  if (problems.length) lines.push('problems:', ...problems.map((p) => `  - ${p}`));
  else lines.push('status:          OK');
  out(`${lines.join('\n')}\n`);
  return problems.length ? 1 : 0;
}
