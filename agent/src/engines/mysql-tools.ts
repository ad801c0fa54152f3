// Client tools of MySQL and MariaDB, and the temporary option file that carries a password to them.
// MariaDB ships mariadb-dump/mariadb and keeps mysqldump/mysql as aliases; Oracle MySQL ships only
// mysqldump/mysql. Either dump tool reads either server, with the flavour flags below.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineError, type EngineName, type ToolInfo } from './engine.ts';
import { describeTools, findExecutables, type ToolHost } from './tools.ts';

export const MYSQL_TOOL_DIRS = ['/usr/local/mysql/bin'];

export function toolPreference(engine: Exclude<EngineName, 'postgres'>): {
  dump: string[];
  client: string[];
} {
  return engine === 'mariadb'
    ? { dump: ['mariadb-dump', 'mysqldump'], client: ['mariadb', 'mysql'] }
    : { dump: ['mysqldump', 'mariadb-dump'], client: ['mysql', 'mariadb'] };
}

/**
 * "mysqldump  Ver 10.19 Distrib 10.11.18-MariaDB, for debian-linux-gnu" → "10.11.18-MariaDB";
 * "mariadb-dump from 11.4.2-MariaDB, client 10.19" → "11.4.2-MariaDB"; "mysql  Ver 8.0.36 for Linux" → "8.0.36"
 */
export function parseMysqlVersion(output: string): string | undefined {
  return (
    /\bDistrib ([0-9][^\s,]*)/.exec(output)?.[1] ??
    /\bfrom ([0-9][^\s,]*)/.exec(output)?.[1] ??
    /\bVer ([0-9][^\s,]*)/.exec(output)?.[1]
  );
}

export function isMariadbBuild(version: string): boolean {
  return /mariadb/i.test(version);
}

/** Every installed tool among `names`, in the order given. */
export async function findMysqlTools(host: ToolHost, names: string[]): Promise<ToolInfo[]> {
  const tools: ToolInfo[] = [];
  for (const name of names) {
    tools.push(
      ...(await describeTools(host, name, findExecutables(host, name, MYSQL_TOOL_DIRS), parseMysqlVersion)),
    );
  }
  return tools;
}

/** The first tool of the preference list that is installed. */
export async function selectMysqlTool(host: ToolHost, names: string[]): Promise<ToolInfo> {
  for (const name of names) {
    const [tool] = await findMysqlTools(host, [name]);
    if (tool) return tool;
  }
  throw new EngineError(
    'tool_missing',
    `none of ${names.join(', ')} is installed`,
    'Install the client tools: apt-get install -y mariadb-client (or mysql-client for Oracle MySQL).',
  );
}

/** Flags that depend on which vendor built the dump tool. */
export function flavourDumpArgs(tool: ToolInfo): string[] {
  if (isMariadbBuild(tool.version)) return [];
  const major = Number(tool.version.split('.')[0]);
  // Oracle mysqldump: without this a GTID-enabled source writes SET @@GLOBAL.GTID_PURGED, which
  // fails on any target that already has GTIDs. mysqldump 8 also queries column histograms that
  // MariaDB and MySQL 5.7 servers do not have.
  const args = ['--set-gtid-purged=OFF'];
  if (major >= 8) args.push('--column-statistics=0');
  return args;
}

/** Escapes a value for a double-quoted option-file value (the escapes my_default.c understands). */
export function optionFileValue(value: string): string {
  const escaped = value
    .replaceAll('\\', '\\\\')
    .replaceAll('"', '\\"')
    .replaceAll('\n', '\\n')
    .replaceAll('\r', '\\r')
    .replaceAll('\t', '\\t');
  return `"${escaped}"`;
}

export type OptionFile = { args: string[]; cleanup: () => Promise<void> };

/**
 * SECURITY: the password reaches mysqldump/mysql through a file only the agent's user can read,
 * in a fresh 0700 directory, removed as soon as the tool exits. On the command line it would be
 * world-readable (ps, /proc/<pid>/cmdline); MYSQL_PWD is deprecated and MySQL 8.4 drops it.
 * `--defaults-extra-file` must be the first argument or the tools reject it. Note that the
 * user's ~/.my.cnf is read after this file, so a password set there wins.
 * With no password, nothing is written and the tools use ~/.my.cnf by themselves.
 */
export async function passwordOptionFile(password: string | undefined): Promise<OptionFile> {
  if (password === undefined) return { args: [], cleanup: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'resistro-my-'));
  const file = join(dir, 'client.cnf');
  try {
    await writeFile(file, `[client]\npassword=${optionFileValue(password)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    args: [`--defaults-extra-file=${file}`],
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
