// Which pg_dump and psql to run. pg_dump reads servers of its own major version and older ones, but
// refuses newer servers; a machine may carry several client versions side by side (Debian's
// /usr/lib/postgresql/<major>/bin, PGDG RPMs' /usr/pgsql-<major>/bin), plus whatever is on PATH.
import { join } from 'node:path';
import { EngineError, type ToolInfo } from './engine.ts';
import { describeTools, findExecutables, type ToolHost } from './tools.ts';

export type PgTool = ToolInfo & { major: number };

/** Version-specific bin directories, newest first. */
export function pgBinDirs(host: ToolHost): string[] {
  const debian = host
    .listDir('/usr/lib/postgresql')
    .map((v) => ({ v, dir: join('/usr/lib/postgresql', v, 'bin') }));
  const pgdg = host
    .listDir('/usr')
    .filter((e) => /^pgsql-\d/.test(e))
    .map((e) => ({ v: e.slice('pgsql-'.length), dir: join('/usr', e, 'bin') }));
  return [...debian, ...pgdg]
    .filter(({ v }) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b.v) - Number(a.v))
    .map(({ dir }) => dir);
}

/** "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" → "15.18" */
export function parsePgVersion(output: string): string | undefined {
  return /\(PostgreSQL\)\s+(\d+(?:\.\d+)*(?:[a-z]+\d*)?)/.exec(output)?.[1];
}

/** "9.6.24" → 9.6, "15.18" → 15, "17beta1" → 17: the number that decides pg_dump compatibility */
export function pgMajor(version: string): number {
  const [first = '0', second = '0'] = version.split(/[.a-z]/);
  return Number(first) >= 10 ? Number(first) : Number(`${first}.${second}`);
}

/** server_version_num 90624 → 9.6, 150018 → 15 */
export function pgMajorFromVersionNum(num: number): number {
  return num >= 100000
    ? Math.floor(num / 10000)
    : Math.floor(num / 10000) + (Math.floor(num / 100) % 100) / 10;
}

/** Every installed copy of a PostgreSQL client tool, one per major version, newest first. */
export async function findPgTools(host: ToolHost, name: 'pg_dump' | 'psql'): Promise<PgTool[]> {
  const paths = findExecutables(host, name, pgBinDirs(host));
  const described = await describeTools(host, name, paths, parsePgVersion);
  const byMajor = new Map<number, PgTool>();
  // Version directories come before PATH, so /usr/bin/pg_dump (Debian's pg_wrapper) only counts
  // when it is a version we have not seen.
  for (const tool of described) {
    const major = pgMajor(tool.version);
    if (!byMajor.has(major)) byMajor.set(major, { ...tool, major });
  }
  return [...byMajor.values()].sort((a, b) => b.major - a.major);
}

/**
 * The pg_dump for a server: the lowest installed major that is >= the server's (exact match
 * first); older pg_dumps refuse newer servers, and the closest version writes the most faithful
 * dump.
 */
export function selectPgDump(tools: PgTool[], serverMajor: number): PgTool {
  const fitting = tools.filter((t) => t.major >= serverMajor).sort((a, b) => a.major - b.major);
  const chosen = fitting[0];
  if (chosen) return chosen;
  const found = tools.length ? tools.map((t) => t.major).join(', ') : 'none';
  throw new EngineError(
    tools.length ? 'tool_too_old' : 'tool_missing',
    `the PostgreSQL server is version ${serverMajor}, but no pg_dump ${serverMajor} or newer is installed (found: ${found})`,
    `Install the PostgreSQL ${serverMajor} client on this machine: apt-get install -y postgresql-client-${serverMajor} (from apt.postgresql.org if your distribution does not carry it).`,
  );
}

/** The newest psql: it understands every dump an older or equal pg_dump wrote. */
export function selectPsql(tools: PgTool[]): PgTool {
  const newest = tools[0];
  if (newest) return newest;
  throw new EngineError(
    'tool_missing',
    'psql is not installed',
    'Install the PostgreSQL client: apt-get install -y postgresql-client.',
  );
}
