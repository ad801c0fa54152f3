// PostgreSQL's own tools for continuous protection: pg_basebackup, pg_receivewal, and the
// server binaries a restore can start. Found next to each other in the PostgreSQL bin folder.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.ts';

const BIN_DIRS = ['/usr/lib/postgresql', '/usr/pgsql', '/opt/homebrew/opt'];

/** The newest installed PostgreSQL bin folder that has `tool`, or RESISTRO_PG_BIN when set. */
export function pgBin(
  tool: 'pg_basebackup' | 'pg_receivewal' | 'pg_ctl' | 'postgres' | 'psql',
  binDir?: string,
): string {
  const dirs: string[] = [];
  const fromEnv = binDir ?? process.env.RESISTRO_PG_BIN;
  if (fromEnv) dirs.push(fromEnv);
  const root = BIN_DIRS[0]!;
  if (existsSync(root))
    for (const v of readdirSync(root).sort((a, b) => Number(b) - Number(a))) dirs.push(join(root, v, 'bin'));
  for (const d of dirs) if (existsSync(join(d, tool))) return join(d, tool);
  throw new UserError(
    `${tool} is not installed on this host`,
    'Install the PostgreSQL client tools of your server version (Debian: apt install postgresql-client-15), or set RESISTRO_PG_BIN to the folder that holds them.',
  );
}

/** "0/3000028" → 50331688 */
export function parseLsn(text: string): number {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!m) throw new Error(`not an LSN: ${text}`);
  return Number.parseInt(m[1]!, 16) * 2 ** 32 + Number.parseInt(m[2]!, 16);
}

export function formatLsn(offset: number): string {
  return `${Math.floor(offset / 2 ** 32)
    .toString(16)
    .toUpperCase()}/${(offset % 2 ** 32).toString(16).toUpperCase()}`;
}

/** A WAL file name ("000000010000000000000003") → timeline and the LSN it starts at. */
export function parseWalName(name: string, segmentSize: number): { timeline: string; start: number } | null {
  const m = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})$/.exec(name);
  if (!m) return null;
  const perId = 2 ** 32 / segmentSize;
  const segno = Number.parseInt(m[2]!, 16) * perId + Number.parseInt(m[3]!, 16);
  return { timeline: m[1]!, start: segno * segmentSize };
}

export function walName(timeline: string, lsn: number, segmentSize: number): string {
  const segno = Math.floor(lsn / segmentSize);
  const perId = 2 ** 32 / segmentSize;
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');
  return `${timeline}${hex(Math.floor(segno / perId))}${hex(segno % perId)}`;
}

/** The libpq environment for a target: SECURITY: the password travels in the environment, never argv. */
export function pgEnv(t: { password?: string | undefined }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('RESISTRO_')) delete env[k];
  if (t.password !== undefined) env.PGPASSWORD = t.password;
  return env;
}

/** One row of one query through psql (text, tab-separated). */
export function psqlRow(
  t: { host: string; port: number; user: string; database: string; password?: string | undefined },
  query: string,
  binDir?: string,
): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const args = ['-h', t.host, '-p', String(t.port), '-U', t.user, '-d', t.database];
    args.push('--no-password', '-X', '-A', '-t', '-F', '\t', '-c', query);
    const child = spawn(pgBin('psql', binDir), args, { stdio: ['ignore', 'pipe', 'pipe'], env: pgEnv(t) });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString('utf8');
    });
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve(out.trim().split('\t')) : reject(new Error(`psql: ${err.trim().slice(-1000)}`)),
    );
  });
}
