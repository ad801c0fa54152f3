// Starts a throw-away or persistent MariaDB server on loopback, using the machine's own binaries
// (Debian's mariadb-server package), without systemd. mariadbd refuses to run as root unless told
// to, so when we are root the data directory belongs to and the server runs as the `mysql` user,
// in a directory that user can reach (data-dir.ts).
// Authentication stays real: tests connect over TCP as `resistro` with a password; root logs in
// through the Unix socket inside `dir`.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sqlString } from '../../agent/src/engines/mysql.ts';
import { prepareServerDataDir } from './data-dir.ts';

export type MariadbServer = {
  port: number;
  /** Unix socket of the server; root connects here without a password */
  socket: string;
  rootUser: 'root';
  /** a user with all privileges that logs in over TCP (127.0.0.1) with a password */
  user: string;
  password: string;
  createDatabase(name: string): Promise<void>;
  /** Runs SQL as root through the socket; returns the result rows (tab-separated columns, NULL as null). */
  query(sql: string, database?: string): Promise<(string | null)[][]>;
  stop(): Promise<void>;
};

/** A password with characters that break naive quoting in option files, shells and SQL. */
export const DEFAULT_TEST_PASSWORD = `Resistro pw #1 "q" 'a' \\b $x;`;

function findBinary(names: string[]): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/mysql/bin']) {
    for (const name of names) if (existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

// SQL literals as the agent's MySQL engine writes them (tests seed with it too).
export { sqlString };

function quoteIdentifier(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

/** Undoes the escaping of `mariadb --batch` output. */
function unescapeBatchField(field: string): string | null {
  if (field === 'NULL') return null;
  return field.replace(/\\([0ntr\\])/g, (_, c: string) =>
    c === '0' ? '\0' : c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : '\\',
  );
}

function runClient(
  client: string,
  socket: string,
  sql: string,
  database?: string,
): Promise<(string | null)[][]> {
  const args = [
    '--no-defaults',
    `--socket=${socket}`,
    '--user=root',
    '--batch',
    '--skip-column-names',
    '--default-character-set=utf8mb4',
    '--max-allowed-packet=1G',
  ];
  if (database) args.push(`--database=${database}`);
  return new Promise((resolve, reject) => {
    const child = spawn(client, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      err = (err + b.toString()).slice(-4000);
    });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`mariadb query failed (exit ${code}): ${err.trim()}`));
      const text = Buffer.concat(out).toString('utf8');
      const lines = text.split('\n');
      if (lines.at(-1) === '') lines.pop();
      resolve(lines.map((line) => line.split('\t').map(unescapeBatchField)));
    });
    child.stdin.end(sql);
  });
}

export async function startMariadb(opts: {
  dir: string;
  port: number;
  /** turn off durability for test servers (throw-away: relocated data is removed on stop) */
  fast?: boolean;
  /** password of the `resistro` user */
  password?: string;
  /**
   * write a binary log (what point-in-time recovery streams): log_bin in the data directory,
   * server_id 1, row format, and the retention in seconds (default 0: never expire)
   */
  binlog?: { expireSeconds?: number };
  log?: (line: string) => void;
}): Promise<MariadbServer> {
  const installDb = findBinary(['mariadb-install-db', 'mysql_install_db']);
  const server = findBinary(['mariadbd', 'mysqld']);
  const client = findBinary(['mariadb', 'mysql']);
  if (!installDb || !server || !client) {
    throw new Error(
      'No MariaDB server found (mariadb-install-db, mariadbd, mariadb). Install it with `apt-get install -y mariadb-server`.',
    );
  }
  const data = prepareServerDataDir(opts.dir, 'mysql', { temporary: opts.fast === true });
  const dir = data.dir;
  const socket = join(dir, 'mysqld.sock');
  const userArgs = process.getuid?.() === 0 ? ['--user=mysql'] : [];
  const firstStart = !existsSync(join(dir, 'mysql'));

  if (firstStart) {
    const r = spawnSync(
      installDb,
      [
        '--no-defaults',
        `--datadir=${dir}`,
        ...userArgs,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        '--skip-name-resolve',
      ],
      { encoding: 'utf8', cwd: dir },
    );
    if (r.status !== 0) {
      data.remove();
      throw new Error(`mariadb-install-db failed: ${r.stderr || r.stdout}`);
    }
  }

  const settings = [
    '--no-defaults',
    `--datadir=${dir}`,
    ...userArgs,
    `--socket=${socket}`,
    `--pid-file=${join(dir, 'mysqld.pid')}`,
    `--port=${opts.port}`,
    '--bind-address=127.0.0.1',
    '--skip-name-resolve',
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_unicode_ci',
    '--max-allowed-packet=64M',
    // Events are dumped and restored as definitions; they must not fire while a test compares dumps.
    '--event-scheduler=OFF',
    '--innodb-buffer-pool-size=64M',
    ...(opts.binlog
      ? [
          `--log-bin=${join(dir, 'binlog')}`,
          '--server-id=1',
          '--binlog-format=ROW',
          `--binlog-expire-logs-seconds=${opts.binlog.expireSeconds ?? 0}`,
        ]
      : ['--skip-log-bin']),
  ];
  if (opts.fast) {
    settings.push('--innodb-flush-log-at-trx-commit=0', '--sync-binlog=0', '--innodb-doublewrite=0');
  }
  const child: ChildProcess = spawn(server, settings, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  let output = '';
  let ready = false;
  let exited = false;
  let signalReady: () => void = () => {};
  const readyOrExit = new Promise<void>((resolve) => {
    signalReady = resolve;
  });
  const collect = (b: Buffer) => {
    output = (output + b.toString()).slice(-4000);
    opts.log?.(b.toString());
    if (!ready && output.includes('ready for connections')) {
      ready = true;
      signalReady();
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.on('exit', () => {
    exited = true;
    signalReady();
  });

  const timeout = setTimeout(signalReady, 30_000);
  await readyOrExit;
  clearTimeout(timeout);
  if (exited) {
    data.remove();
    throw new Error(`mariadbd exited during start:\n${output}`);
  }
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(`mariadbd did not start within 30 s:\n${output}`);
  }

  const password = opts.password ?? DEFAULT_TEST_PASSWORD;
  const query = (sql: string, database?: string) => runClient(client, socket, sql, database);
  // Both host forms: the client may present itself as 127.0.0.1 or (with skip-name-resolve off) a name.
  const users = ["'resistro'@'127.0.0.1'", "'resistro'@'%'"];
  await query(
    users
      .map(
        (u) =>
          `CREATE OR REPLACE USER ${u} IDENTIFIED BY ${sqlString(password)}; GRANT ALL PRIVILEGES ON *.* TO ${u} WITH GRANT OPTION;`,
      )
      .join('\n'),
  );

  return {
    port: opts.port,
    socket,
    rootUser: 'root',
    user: 'resistro',
    password,
    query,
    async createDatabase(name) {
      await query(`CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(name)} CHARACTER SET utf8mb4;`);
    },
    async stop() {
      await new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        // SIGTERM = normal shutdown: flush InnoDB, remove the pid file and socket, exit.
        child.kill('SIGTERM');
      });
      data.remove();
    },
  };
}
