// PostgreSQL continuous protection without a WAL stream: a real PostgreSQL 15 server configured with
// archive_command = 'resistro wal-push %p', the agent daemon taking the segments over its socket and
// uploading them encrypted; a write load, a time T, more writes; restore --pitr to T holds exactly
// the transactions before T. With the agent stopped, archive_command fails and PostgreSQL keeps the
// segment (pg_stat_archiver counts the failure, the file stays in pg_wal); once the agent is back,
// PostgreSQL archives it again and it reaches storage.
import { appendFileSync, chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareServerDataDir } from '../../scripts/stack/data-dir.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import {
  AgentProcess,
  agentRunnableBy,
  type CustomerPostgres,
  cleanupAgents,
  protectedPostgres,
  runCli,
  startCustomerPostgres,
  startRestoredCluster,
  testDir,
} from './helpers.ts';

let source: CustomerPostgres;
let socketDir: string;
let socket: string;
const dirs: Array<{ remove(): void }> = [];
const restored: Array<() => Promise<void>> = [];

beforeAll(async () => {
  // a short path (Unix sockets allow ~107 bytes) the server's user can reach
  socketDir = mkdtempSync(join(tmpdir(), 'resistro-push-'));
  chmodSync(socketDir, 0o755);
  socket = join(socketDir, 'wal-push.sock');
  // archive_command runs this program as the postgres user (as an installed agent, it must reach it)
  const program = agentRunnableBy('postgres');
  dirs.push(program);
  const self = `${program.node} --no-warnings ${program.script}`;
  source = await startCustomerPostgres('pitr-push', {
    archive_mode: 'on',
    archive_command: `${self} wal-push --socket ${socket} %p`,
    // as the docs advise: a quiet server still closes a segment within the RPO
    archive_timeout: '5s',
  });
  // the weekly base backup is still pg_basebackup (a short replication connection, no slot)
  const hba = (await source.admin("select setting from pg_settings where name = 'hba_file'")).rows[0].setting;
  appendFileSync(hba, 'host replication postgres 127.0.0.1/32 trust\n');
  await source.admin('select pg_reload_conf()');
  await source.admin('create database shop');
  await source.admin('create table orders (id int primary key, note text not null)', 'shop');
});

afterAll(async () => {
  for (const stop of restored) await stop().catch(() => {});
  await cleanupAgents();
  await source?.stop();
  for (const d of dirs) d.remove();
  rmSync(socketDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

async function writeOrders(from: number, to: number, note: string) {
  for (let i = from; i <= to; i++)
    await source.admin(`insert into orders (id, note) values (${i}, '${note}')`, 'shop');
}

/** Closes the current segment so archive_command runs for it; its name. */
async function switchWal(): Promise<string> {
  const r = await source.admin('select pg_walfile_name(pg_switch_wal()) as name');
  return r.rows[0].name;
}

async function archiver() {
  return (
    await source.admin(
      'select archived_count::int as archived, failed_count::int as failed, last_archived_wal, last_failed_wal from pg_stat_archiver',
    )
  ).rows[0] as {
    archived: number;
    failed: number;
    last_archived_wal: string | null;
    last_failed_wal: string | null;
  };
}

// the restored copy archives nothing (it would push into the same agent)
async function startRestored(dir: string, env: Record<string, string>, port: number) {
  const server = await startRestoredCluster({
    dir,
    binDir: source.server.binDir,
    port,
    env,
    settings: { archive_mode: 'off' },
  });
  restored.push(server.stop);
  return server;
}

describe('point-in-time recovery of PostgreSQL through archive_command = resistro wal-push', () => {
  it('refuses at once when no agent listens on the socket (exit 1, naming why)', async () => {
    const { dir, remove } = testDir('push-none');
    dirs.push({ remove });
    const file = join(dir, '000000010000000000000001');
    appendFileSync(file, Buffer.alloc(1024));
    const r = await runCli(['wal-push', '--socket', join(socketDir, 'nobody.sock'), file], {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      RESISTRO_ENV_FILE: '/dev/null',
      RESISTRO_LOG_FORMAT: 'text',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('not running');
    const bad = await runCli(['wal-push', '--socket', socket, join(dir, 'postgresql.conf')], {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      RESISTRO_ENV_FILE: '/dev/null',
      RESISTRO_LOG_FORMAT: 'text',
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('not a WAL file name');
  });

  it('archives through the agent, restores to T exactly, and a stopped agent makes PostgreSQL keep the segment', async () => {
    const { tenant, setup, db } = await protectedPostgres(source.port, {
      pitr: { method: 'archive_command' },
      extraEnv: { RESISTRO_WAL_PUSH_SOCKET: socket },
    });
    const status = () => tenant.session.json(`/databases/${db.id}/pitr`).then((r) => r.body);
    const withLog = (daemon: AgentProcess) => (e: Error) => {
      throw new Error(`${e.message}\n${daemon.stderr.slice(-6000)}`);
    };

    let daemon = new AgentProcess(['agent', '--heartbeat-interval', '1'], setup.env);
    // the base backup waits for its last segment to be archived: through wal-push, into the agent
    await until(
      'the first base backup and its WAL',
      async () => ((await status()).window ? true : undefined),
      240_000,
    ).catch(withLog(daemon));
    // the server's archiver reached the agent: the segment names it archived are in the registry
    const first = await archiver();
    expect(first.archived).toBeGreaterThan(0);
    expect(daemon.stderr).not.toContain('pitr.receivewal');

    await writeOrders(1, 40, 'before');
    await sleep(1500);
    const t = new Date();
    await sleep(1500);
    await writeOrders(41, 80, 'after');
    const closed = await switchWal();
    await until(`segment ${closed} in storage`, async () => {
      const s = await status();
      return s.lastSegment && s.lastSegment.name >= closed ? true : undefined;
    }).catch(withLog(daemon));
    const plan = await tenant.session.json(
      `/databases/${db.id}/pitr/restore-plan?time=${encodeURIComponent(t.toISOString())}`,
    );
    expect(plan.status, JSON.stringify(plan.body)).toBe(200);

    // The agent stops: archive_command fails, PostgreSQL keeps the segment and counts the failure.
    await daemon.stop();
    await source.admin("insert into orders (id, note) values (1000, 'while down')", 'shop');
    const kept = await switchWal();
    const failedBefore = first.failed;
    const afterFailure = await until('archive_command to fail', async () => {
      const a = await archiver();
      // the oldest segment not yet archived fails first: `kept` or one archive_timeout closed before it
      return a.failed > failedBefore && a.last_failed_wal && a.last_failed_wal <= kept ? a : undefined;
    });
    expect(afterFailure.last_archived_wal === null || afterFailure.last_archived_wal < kept).toBe(true);
    const walDir = join(
      (await source.admin("select setting from pg_settings where name = 'data_directory'")).rows[0].setting,
      'pg_wal',
    );
    expect(existsSync(join(walDir, kept))).toBe(true);
    expect(existsSync(join(walDir, 'archive_status', `${kept}.ready`))).toBe(true);

    // Back up: PostgreSQL archives the kept segment again and it reaches storage.
    daemon = new AgentProcess(['agent', '--heartbeat-interval', '1'], setup.env);
    await until('the agent to listen again', async () => (existsSync(socket) ? true : undefined)).catch(
      withLog(daemon),
    );
    await source.admin("insert into orders (id, note) values (1001, 'back')", 'shop');
    await switchWal();
    await until(
      `segment ${kept} archived after the agent came back`,
      async () => {
        const s = await status();
        return s.lastSegment && s.lastSegment.name >= kept ? true : undefined;
      },
      // PostgreSQL's archiver waits up to a minute after failures before it tries again
      240_000,
    ).catch(withLog(daemon));
    expect((await archiver()).last_archived_wal! >= kept).toBe(true);
    await daemon.stop();

    const target = testDir('pitr-push-restored');
    dirs.push(target);
    // the restored server runs as the postgres user, which must reach its data directory and the
    // agent that restore_command names
    const reachable = prepareServerDataDir(join(target.dir, 'data'), 'postgres', { temporary: true });
    dirs.push(reachable);
    const dataDir = reachable.dir;
    const program = agentRunnableBy('postgres');
    dirs.push(program);
    const restore = await runCli(
      ['restore', '--pitr', '--from', db.id, '--data-dir', dataDir, '--time', t.toISOString()],
      setup.env,
      { program },
    );
    expect(restore.code, restore.stderr).toBe(0);
    const port = await freePort();
    const server = await startRestored(
      dataDir,
      {
        RESISTRO_API_KEY: tenant.apiKey,
        RESISTRO_ENDPOINT: tenant.endpoint,
        RESISTRO_ENCRYPTION_KEY: setup.encryptionKey,
        RESISTRO_LOG_FORMAT: 'text',
      },
      port,
    );
    const client = await until('the restored server to finish recovery', async () => {
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'shop' });
      try {
        await c.connect();
        if (!(await c.query('select pg_is_in_recovery() as rec')).rows[0].rec) return c;
        await c.end();
      } catch {
        await c.end().catch(() => {});
      }
      return undefined;
    }).catch((e) => {
      throw new Error(`${(e as Error).message}\n${server.output()}`);
    });
    const rows = (await client.query('select id, note from orders order by id')).rows;
    await client.end();
    expect(rows.length).toBe(40);
    expect(rows.every((r) => r.note === 'before')).toBe(true);
  }, 800_000);
});
