// Shared pieces of the agent's integration tests: a tenant on the local control plane, the agent
// run as a real process (`node agent/src/cli.ts …` or the single-file build) with its own env
// file and state directory, and customer database servers with password authentication.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Backup, type Database, sealToAgent } from '@resistro/contract';
import pg from 'pg';
import { systemHost } from '../../scripts/stack/data-dir.ts';
import type { MariadbServer } from '../../scripts/stack/mariadb.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import { type PostgresServer, startPostgres } from '../../scripts/stack/postgres.ts';
import { createKey, Session, signup } from '../../scripts/test/api.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'agent/src/cli.ts');
export const BUNDLE = join(ROOT, 'agent/dist/resistro.mjs');

export type LogEvent = { level: string; event: string; msg: string; [key: string]: unknown };

/** A fresh directory under .test-data that the postgres and mysql users can traverse. */
export function testDir(label: string): { dir: string; remove(): void } {
  const dir = join(ROOT, '.test-data', `agent-${label}-${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------- the agent as a process

export type AgentSetup = {
  dir: string;
  envFile: string;
  stateDir: string;
  home: string;
  encryptionKey: string;
  /** the environment the agent process gets (nothing RESISTRO_* leaks in from the test runner) */
  env: Record<string, string>;
};

export function makeAgentSetup(opts: {
  apiKey: string;
  endpoint: string;
  encryptionKey?: string;
  extraEnv?: Record<string, string>;
}): AgentSetup {
  const { dir } = testDir('agent');
  setups.push(dir);
  const stateDir = join(dir, 'state');
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const encryptionKey = opts.encryptionKey ?? `resistro-key-1:${randomBytes(32).toString('base64url')}`;
  const envFile = join(dir, 'env');
  writeFileSync(
    envFile,
    `# written by the test\nRESISTRO_API_KEY=${opts.apiKey}\nRESISTRO_ENDPOINT=${opts.endpoint}\nRESISTRO_ENCRYPTION_KEY="${encryptionKey}"\nRESISTRO_STATE_DIR=${stateDir}\n`,
    { mode: 0o600 },
  );
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    RESISTRO_ENV_FILE: envFile,
    RESISTRO_LOG_FORMAT: 'json',
    RESISTRO_LOG_LEVEL: 'debug',
    ...opts.extraEnv,
  };
  return { dir, envFile, stateDir, home, encryptionKey, env };
}

export type RunResult = {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  events: LogEvent[];
};

function parseEvents(stderr: string): LogEvent[] {
  const events: LogEvent[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      events.push(JSON.parse(line) as LogEvent);
    } catch {}
  }
  return events;
}

const live = new Set<AgentProcess>();
const setups: string[] = [];

/** afterAll: kill agent processes a failed test left behind, remove the agents' directories. */
export async function cleanupAgents(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop('SIGKILL')));
  for (const dir of setups.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * The agent (Node and the bundle) where another system user can run it, as an installed agent in
 * /usr/local/bin is: a server that runs the agent itself (PostgreSQL's restore_command) runs as
 * `postgres`, which cannot enter a checkout inside a folder only root can enter. Copied to the
 * temp folder only then; otherwise the checkout's own.
 */
export function agentRunnableBy(user: string): { node: string; script: string; remove(): void } {
  const here = { node: process.execPath, script: CLI, remove() {} };
  if (!systemHost.isRoot) return here;
  if (systemHost.canEnter(user, dirname(here.node)) && systemHost.canEnter(user, dirname(here.script)))
    return here;
  const dir = mkdtempSync(join(tmpdir(), 'resistro-agent-'));
  chmodSync(dir, 0o755);
  const node = join(dir, 'node');
  const script = join(dir, 'resistro.mjs');
  copyFileSync(here.node, node);
  chmodSync(node, 0o755);
  // the single-file build of this checkout's agent, as install-agent.sh places it on a server
  const build = spawnSync(
    process.execPath,
    ['--no-warnings', join(ROOT, 'agent/build.ts'), '--out', script],
    {
      encoding: 'utf8',
    },
  );
  if (build.status !== 0) throw new Error(`building the agent failed: ${build.stderr}`);
  chmodSync(script, 0o644);
  return { node, script, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Starts a restored PostgreSQL data directory (a point-in-time restore's) as the postgres user when
 * we are root, with `env` for its restore_command (the agent's settings for wal-fetch).
 */
export async function startRestoredCluster(opts: {
  dir: string;
  binDir: string;
  port: number;
  env: Record<string, string>;
  settings?: Record<string, string>;
}): Promise<{ output(): string; exited: Promise<number | null>; stop(): Promise<void> }> {
  const { dir } = opts;
  rmSync(join(dir, 'postmaster.pid'), { force: true });
  const root = process.getuid?.() === 0;
  if (root) {
    const chown = spawnSync('chown', ['-R', 'postgres:postgres', dir]);
    if (chown.status !== 0) throw new Error(`chown of ${dir} failed: ${chown.stderr}`);
  }
  const bin = join(opts.binDir, 'postgres');
  // as the source runs (scripts/stack/postgres.ts): recovery refuses a lower max_connections
  const settings = { max_connections: '200', ...opts.settings };
  const args = ['-D', dir, '-p', String(opts.port), '-c', 'listen_addresses=127.0.0.1'];
  args.push('-c', `unix_socket_directories=${dir}`);
  for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
  const [cmd, full] = root ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const child = spawn(cmd, full, {
    cwd: dir,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (b: Buffer) => {
    output += b.toString();
  });
  child.stderr!.on('data', (b: Buffer) => {
    output += b.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    output: () => output,
    exited,
    async stop() {
      // the postmaster itself: runuser does not forward signals
      try {
        const pid = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
        process.kill(pid, 'SIGINT');
      } catch {
        child.kill('SIGKILL');
      }
      await exited;
    },
  };
}

/**
 * A new account whose agent knows the PostgreSQL database `shop` on `port` (as `postgres`), with
 * continuous protection turned on through the API (`pitr`: more of its settings).
 */
export async function protectedPostgres(
  port: number,
  opts: { pitr?: Record<string, unknown>; extraEnv?: Record<string, string> } = {},
): Promise<{ tenant: Tenant; setup: AgentSetup; db: Database }> {
  const tenant = await createTenant();
  const setup = makeAgentSetup({
    apiKey: tenant.apiKey,
    endpoint: tenant.endpoint,
    ...(opts.extraEnv && { extraEnv: opts.extraEnv }),
  });
  const agent = await registerAgent(tenant, setup);
  const db = await addDatabase(tenant, agent, {
    name: 'shop',
    engine: 'postgres',
    port,
    database: 'shop',
    user: 'postgres',
  });
  const on = await tenant.session.json(`/databases/${db.id}/pitr`, {
    method: 'PUT',
    json: { enabled: true, rpoSeconds: 10, ...opts.pitr },
  });
  if (on.status !== 200)
    throw new Error(`continuous protection refused: ${on.status} ${JSON.stringify(on.body)}`);
  return { tenant, setup, db };
}

/** The agent as a running process, with its log events as they come. */
export class AgentProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #waiters: { test: (e: LogEvent) => boolean; resolve: (e: LogEvent) => void }[] = [];
  #events: LogEvent[] = [];

  constructor(
    args: string[],
    env: Record<string, string>,
    opts: { bundle?: boolean; program?: { node: string; script: string } } = {},
  ) {
    const script = opts.program?.script ?? (opts.bundle ? BUNDLE : CLI);
    this.child = spawn(opts.program?.node ?? process.execPath, ['--no-warnings', script, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (b: Buffer) => {
      this.stdout += b.toString();
    });
    let partial = '';
    this.child.stderr!.on('data', (b: Buffer) => {
      const text = b.toString();
      this.stderr += text;
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const event of parseEvents(lines.join('\n'))) {
        this.#events.push(event);
        for (const w of [...this.#waiters]) {
          if (w.test(event)) {
            this.#waiters.splice(this.#waiters.indexOf(w), 1);
            w.resolve(event);
          }
        }
      }
    });
    live.add(this);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        live.delete(this);
        resolve({ code, signal });
      }),
    );
  }

  get events(): LogEvent[] {
    return this.#events;
  }

  /** The first event (already seen or still to come) that passes `test`. */
  waitFor(test: (e: LogEvent) => boolean, what = 'a log event', timeoutMs = 90_000): Promise<LogEvent> {
    const seen = this.#events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`no ${what} within ${timeoutMs / 1000} s; stderr:\n${this.stderr.slice(-6000)}`)),
        timeoutMs,
      );
      this.#waiters.push({
        test,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
      this.exited.then(() => {
        // Give the last stderr bytes a moment to be parsed.
        setTimeout(() => {
          clearTimeout(timer);
          reject(new Error(`the agent exited before ${what}; stderr:\n${this.stderr.slice(-6000)}`));
        }, 200);
      });
    });
  }

  waitForEvent(event: string): Promise<LogEvent> {
    return this.waitFor((e) => e.event === event, `"${event}"`);
  }

  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

export async function runCli(
  args: string[],
  env: Record<string, string>,
  opts: { bundle?: boolean; program?: { node: string; script: string } } = {},
): Promise<RunResult> {
  const p = new AgentProcess(args, env, opts);
  const { code, signal } = await p.exited;
  await new Promise((r) => setImmediate(r));
  return { code, signal, stdout: p.stdout, stderr: p.stderr, events: parseEvents(p.stderr) };
}

// ---------------------------------------------------------------- the control plane

export type Tenant = { session: Session; apiKey: string; endpoint: string };

/**
 * A new account (Business: 5 databases) with an agent API key, on the shared stack or another
 * (`url` and its Paddle stand-in's `paddleUrl`: Business is active once paid, as a user pays).
 */
export async function createTenant(url?: string, paddleUrl?: string): Promise<Tenant> {
  let session: Session;
  if (url === undefined) {
    session = (await signup({ plan: 'business' })).session;
  } else {
    session = new Session(url);
    const r = await session.json('/auth/signup', {
      method: 'POST',
      json: {
        email: `agent-${process.pid}-${randomBytes(4).toString('hex')}@example.test`,
        password: 'correct horse battery staple',
        plan: 'business',
      },
    });
    if (r.status !== 201) throw new Error(`signup failed: ${r.status} ${JSON.stringify(r.body)}`);
    if (paddleUrl) {
      const checkout = await session.json('/billing/checkout', {
        method: 'POST',
        json: { plan: 'business' },
      });
      if (checkout.status !== 201)
        throw new Error(`checkout failed: ${checkout.status} ${JSON.stringify(checkout.body)}`);
      const paid = await fetch(`${paddleUrl}/__control/checkout/${checkout.body.transactionId}`, {
        method: 'POST',
        body: '{}',
      });
      if (!paid.ok) throw new Error(`the Paddle stand-in refused the payment: ${await paid.text()}`);
    }
  }
  const apiKey = await createKey(session, 'agent');
  return { session, apiKey, endpoint: `${session.url}/api` };
}

/** Runs `resistro status` (the first heartbeat registers the agent) and returns the agent. */
export async function registerAgent(
  tenant: Tenant,
  setup: AgentSetup,
): Promise<{ id: string; publicKey: string }> {
  const result = await runCli(['status', '--json'], setup.env);
  if (result.code !== 0)
    throw new Error(`resistro status failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
  const identity = JSON.parse(readFileSync(join(setup.stateDir, 'identity.json'), 'utf8')) as {
    publicKey: string;
  };
  const agents = await tenant.session.json<{ items: { id: string; publicKey: string }[] }>('/agents');
  const agent = agents.body.items.find((a) => a.publicKey === identity.publicKey);
  if (!agent) throw new Error('the agent did not register');
  return agent;
}

export type DatabaseInput = {
  name: string;
  engine: 'postgres' | 'mysql' | 'mariadb';
  port: number;
  database: string;
  user: string;
  /** sealed to the agent; undefined: local credentials */
  password?: string;
  schedule?: Database['schedule'];
};

export async function addDatabase(
  tenant: Tenant,
  agent: { id: string; publicKey: string },
  input: DatabaseInput,
): Promise<Database> {
  const credentials =
    input.password === undefined
      ? { mode: 'local' as const }
      : { mode: 'sealed' as const, sealedPassword: await sealToAgent(agent.publicKey, input.password) };
  const r = await tenant.session.json<{ database: Database }>('/databases', {
    method: 'POST',
    json: {
      name: input.name,
      engine: input.engine,
      host: '127.0.0.1',
      port: input.port,
      database: input.database,
      user: input.user,
      credentials,
      schedule: input.schedule ?? { kind: 'daily', time: '03:00', timezone: 'UTC' },
      agentId: agent.id,
    },
  });
  if (r.status !== 201)
    throw new Error(`creating the database failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.database;
}

export async function listBackups(tenant: Tenant, databaseId: string): Promise<Backup[]> {
  const r = await tenant.session.json<{ items: Backup[] }>(`/backups?databaseId=${databaseId}&limit=100`);
  if (r.status !== 200) throw new Error(`listing backups failed: ${r.status}`);
  return r.body.items;
}

/** Polls until `test` holds for the database's backups (the agent works asynchronously). */
export async function waitForBackups(
  tenant: Tenant,
  databaseId: string,
  test: (backups: Backup[]) => boolean,
  timeoutMs = 90_000,
): Promise<Backup[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const backups = await listBackups(tenant, databaseId);
    if (test(backups)) return backups;
    if (Date.now() > deadline)
      throw new Error(
        `backups never matched; last: ${JSON.stringify(backups.map((b) => [b.status, b.trigger, b.error?.slice(0, 200)]))}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Downloads a backup the way the dashboard does: a short-lived URL, then a plain GET. */
export async function downloadBackup(tenant: Tenant, backupId: string, dir: string): Promise<string> {
  const r = await tenant.session.json<{ url: string; fileName: string }>(`/backups/${backupId}/download`);
  if (r.status !== 200) throw new Error(`download link failed: ${r.status} ${JSON.stringify(r.body)}`);
  const res = await fetch(r.body.url);
  if (!res.ok) throw new Error(`download failed: ${res.status}`);
  const path = join(dir, r.body.fileName);
  writeFileSync(path, Buffer.from(await res.arrayBuffer()));
  return path;
}

// ---------------------------------------------------------------- customer PostgreSQL

export type CustomerPostgres = {
  port: number;
  /** a login role with a password (scram over TCP) that owns the test databases */
  user: string;
  password: string;
  admin(sql: string, database?: string): Promise<pg.QueryResult>;
  asOwner(sql: string, database: string): Promise<pg.QueryResult>;
  createDatabase(name: string): Promise<void>;
  /** pg_dump of a database, normalised for comparison */
  dump(database: string): Promise<string>;
  server: PostgresServer;
  stop(): Promise<void>;
};

export const PG_PASSWORD = `pw with 'quotes', "double" \\back $dollar #hash 😀`;

/** The machine's PostgreSQL on a loopback port; TCP logins other than postgres need a password. */
export async function startCustomerPostgres(
  label = 'pg',
  settings?: Record<string, string>,
): Promise<CustomerPostgres> {
  const { dir, remove } = testDir(label);
  const port = await freePort();
  const server = await startPostgres({ dir: join(dir, 'data'), port, fast: true, settings });
  const admin = async (sql: string, database = 'postgres') => {
    const client = new pg.Client({ connectionString: server.url(database) });
    await client.connect();
    try {
      return await client.query(sql);
    } finally {
      await client.end();
    }
  };
  const user = 'backup_owner';
  await admin(`create role ${user} login password '${PG_PASSWORD.replaceAll("'", "''")}'`);
  writeFileSync(
    join(dir, 'data', 'pg_hba.conf'),
    'local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n',
  );
  await admin('select pg_reload_conf()');
  const asOwner = async (sql: string, database: string) => {
    const client = new pg.Client({ host: '127.0.0.1', port, user, password: PG_PASSWORD, database });
    await client.connect();
    try {
      return await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return {
    port,
    user,
    password: PG_PASSWORD,
    admin,
    asOwner,
    server,
    async createDatabase(name) {
      await admin(`create database "${name}" owner ${user}`);
    },
    async dump(database) {
      const { execFile } = await import('node:child_process');
      const out = await new Promise<string>((resolve, reject) =>
        execFile(
          join(server.binDir, 'pg_dump'),
          [
            '-h',
            '127.0.0.1',
            '-p',
            String(port),
            '-U',
            'postgres',
            '--no-owner',
            '--no-privileges',
            database,
          ],
          { maxBuffer: 1 << 30, encoding: 'utf8' },
          (error, stdout, stderr) =>
            error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
        ),
      );
      return normalisePgDump(out);
    },
    async stop() {
      await server.stop();
      remove();
    },
  };
}

/** Blanks what differs between two dumps of equal content: the per-run \restrict key. */
export function normalisePgDump(sql: string): string {
  return sql.replace(/^\\(un)?restrict \S+$/gm, '\\$1restrict <key>');
}

/** Compares two dumps line by line so a failure shows the first difference, not megabytes. */
export function firstDifference(
  a: string,
  b: string,
): { line: number; a: string | undefined; b: string | undefined } | undefined {
  const la = a.split('\n');
  const lb = b.split('\n');
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return { line: i + 1, a: la[i]?.slice(0, 300), b: lb[i]?.slice(0, 300) };
  }
  return undefined;
}

/** `resistro restore` arguments: a backup id or a file, into `database` on a loopback server. */
export function restoreArgs(
  source: { backup: string } | { file: string },
  server: { port: number; user: string },
  database: string,
  ...extra: string[]
): string[] {
  const from = 'backup' in source ? ['--backup', source.backup] : ['--file', source.file];
  return [
    'restore',
    ...from,
    '--host',
    '127.0.0.1',
    '--port',
    String(server.port),
    '--database',
    database,
    '--user',
    server.user,
    ...extra,
  ];
}

/** mariadb-dump of a database as root, normalised for comparison (host, database name). */
export function mariadbDump(server: Pick<MariadbServer, 'socket'>, database: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      'mariadb-dump',
      [
        '--no-defaults',
        `--socket=${server.socket}`,
        '--user=root',
        '--skip-dump-date',
        '--single-transaction',
        '--routines',
        '--triggers',
        '--events',
        '--hex-blob',
        '--default-character-set=utf8mb4',
        database,
      ],
      { maxBuffer: 1 << 30, encoding: 'utf8' },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`${error.message}\n${stderr}`))
          : resolve(
              stdout
                .replace(/^-- Host: .*$/m, '-- Host: <normalised>')
                .replaceAll(`database '${database}'`, "database '<db>'"),
            ),
    ),
  );
}
