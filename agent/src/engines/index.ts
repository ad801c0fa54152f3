import { createDirectoryEngine } from './directory.ts';
import type { Engine, EngineName, EngineOptions, ToolInfo } from './engine.ts';
import { createMysqlEngine } from './mysql.ts';
import { createPostgresEngine } from './postgres.ts';
import { createRedisEngine } from './redis.ts';
import { createSqliteEngine } from './sqlite.ts';

export type { CheckItem, ConnectionCheckResult } from './check.ts';
export type {
  DatabaseTarget,
  DumpProcess,
  DumpSection,
  Engine,
  EngineName,
  EngineOptions,
  ParallelDump,
  ParallelDumpOptions,
  RestoreOptions,
  RestoreReport,
  ToolInfo,
} from './engine.ts';
export { DumpError, EngineError, type EngineErrorCode, targetNotEmpty } from './engine.ts';

export const ENGINE_NAMES: readonly EngineName[] = [
  'postgres',
  'mysql',
  'mariadb',
  'sqlite',
  'redis',
  'directory',
];
/** The engines whose backups are SQL text replayed by a client into a database. */
export const SQL_ENGINES: readonly EngineName[] = ['postgres', 'mysql', 'mariadb'];

/** `opts` lets tests watch every spawned tool or fake the installed ones. */
export function getEngine(name: EngineName, opts: EngineOptions = {}): Engine {
  switch (name) {
    case 'postgres':
      return createPostgresEngine(opts);
    case 'mysql':
    case 'mariadb':
      return createMysqlEngine(name, opts);
    case 'sqlite':
      return createSqliteEngine(opts);
    case 'redis':
      return createRedisEngine(opts);
    case 'directory':
      return createDirectoryEngine(opts);
    default:
      throw new Error(`unknown database engine: ${name satisfies never}`);
  }
}

/** Every dump and restore tool installed on this machine, each path once. */
export async function detectAllTools(opts: EngineOptions = {}): Promise<ToolInfo[]> {
  const seen = new Set<string>();
  const all: ToolInfo[] = [];
  for (const name of ['postgres', 'mariadb', 'sqlite', 'redis', 'directory'] as const) {
    // a machine without one engine's tools still reports the others'
    for (const tool of await getEngine(name, opts)
      .detectTools()
      .catch(() => [])) {
      if (seen.has(tool.path)) continue;
      seen.add(tool.path);
      all.push(tool);
    }
  }
  return all;
}
