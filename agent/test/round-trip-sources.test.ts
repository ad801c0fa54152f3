// SQLite, Redis and directories end to end, as a new user would run them: three sources added
// through the API, backed up on their schedule by the running agent (daemon) through the control
// plane and storage, then restored with `resistro restore --backup` and compared — SQLite by .dump,
// Redis by keys, values and expiry times, the directory by content and metadata. A source that
// fails (a SQLite file that is gone) alerts through the PagerDuty and syslog stand-ins.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Database } from '@resistro/contract';
import { sealToAgent } from '@resistro/contract';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stackInfo } from '../../scripts/test/api.ts';
import { runCronAt } from '../../worker/test/cron-fixtures.ts';
import { loadKeys, type RedisServer, seedCommands, startRedis } from './engines/redis-setup.ts';
import {
  AgentProcess,
  type AgentSetup,
  cleanupAgents,
  createTenant,
  makeAgentSetup,
  registerAgent,
  runCli,
  type Tenant,
  testDir,
  waitForBackups,
} from './helpers.ts';

const EVERY_MINUTE = { kind: 'cron' as const, expression: '* * * * *', timezone: 'UTC' };
const REDIS_PASSWORD = 'redis pw "with" spaces';

describe('SQLite, Redis and directories through the agent, the control plane and storage', () => {
  const work = testDir('sources');
  let tenant: Tenant;
  let setup: AgentSetup;
  let agent: { id: string; publicKey: string };
  let redis: RedisServer;
  const sqlitePath = join(work.dir, 'app', 'shop.sqlite');
  const uploads = join(work.dir, 'uploads');

  beforeAll(async () => {
    mkdirSync(join(work.dir, 'app'), { recursive: true });
    const db = new DatabaseSync(sqlitePath);
    db.exec(`PRAGMA journal_mode=WAL; CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT, note BLOB);`);
    const ins = db.prepare('INSERT INTO orders(item, note) VALUES (?, ?)');
    for (let i = 0; i < 5000; i++) ins.run(`item ${i} — ü`, Buffer.alloc(64, i % 256));
    db.close();
    mkdirSync(join(uploads, '2026/12'), { recursive: true });
    writeFileSync(join(uploads, '2026/12/a.jpg'), Buffer.alloc(200_000, 7));
    writeFileSync(join(uploads, 'readme.txt'), 'hello\n');
    redis = await startRedis({
      dir: join(work.dir, 'redis'),
      password: REDIS_PASSWORD,
      extra: ['--appendonly', 'yes'],
    });
    loadKeys(redis, REDIS_PASSWORD, seedCommands(200_000));
    tenant = await createTenant();
    setup = makeAgentSetup({ apiKey: tenant.apiKey, endpoint: tenant.endpoint });
    agent = await registerAgent(tenant, setup);
  }, 180_000);

  afterAll(async () => {
    await cleanupAgents();
    await redis?.stop();
    work.remove();
  });

  async function add(json: Record<string, unknown>): Promise<Database> {
    const r = await tenant.session.json<{ database: Database }>('/databases', {
      method: 'POST',
      json: { schedule: EVERY_MINUTE, agentId: agent.id, credentials: { mode: 'local' }, ...json },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.database;
  }

  test('backs up three sources on their schedule and restores each identical', async () => {
    const sqlite = await add({
      name: 'shop-sqlite',
      engine: 'sqlite',
      source: { kind: 'sqlite', path: sqlitePath },
    });
    const files = await add({
      name: 'uploads',
      engine: 'directory',
      source: { kind: 'directory', paths: [uploads], exclude: ['*.tmp'] },
    });
    const cache = await add({
      name: 'cache',
      engine: 'redis',
      host: '127.0.0.1',
      port: redis.port,
      credentials: { mode: 'sealed', sealedPassword: await sealToAgent(agent.publicKey, REDIS_PASSWORD) },
    });
    expect(cache.source).toEqual({ kind: 'redis', tls: false });
    // Deduplication is for SQL dumps: a file source is refused, saying which engines have it.
    const dedup = await tenant.session.json<{ error: { code: string; message: string } }>(
      `/databases/${sqlite.id}`,
      { method: 'PATCH', json: { dedup: true } },
    );
    expect(dedup.status).toBe(422);
    expect(dedup.body.error.code).toBe('validation_failed');
    expect(dedup.body.error.message).toMatch(/PostgreSQL, MySQL and MariaDB databases only/);

    // the application keeps writing while the agent works
    const writer = new DatabaseSync(sqlitePath);
    writer.exec('PRAGMA busy_timeout=5000');
    const add1 = writer.prepare('INSERT INTO orders(item) VALUES (?)');
    const timer = setInterval(() => add1.run('during the backup'), 5);
    const daemon = new AgentProcess(['agent', '--heartbeat-interval', '1'], setup.env);
    const scheduled = (b: { status: string; trigger: string }[]) =>
      b.some((x) => x.status === 'succeeded' && x.trigger === 'schedule');
    try {
      await waitForBackups(tenant, sqlite.id, scheduled, 150_000);
      await waitForBackups(tenant, files.id, scheduled, 150_000);
      await waitForBackups(tenant, cache.id, scheduled, 150_000);
    } finally {
      clearInterval(timer);
      writer.close();
      await daemon.stop();
    }
    const idOf = async (id: string) =>
      (await waitForBackups(tenant, id, scheduled)).find((b) => b.status === 'succeeded')!.id;

    // SQLite: the restored file is a consistent copy; its .dump equals the source's up to its last row
    const restoredDb = join(work.dir, 'restored', 'shop.sqlite');
    mkdirSync(join(work.dir, 'restored'), { recursive: true });
    const r1 = await runCli(
      ['restore', '--backup', await idOf(sqlite.id), '--target-file', restoredDb],
      setup.env,
    );
    expect(r1.code, r1.stderr).toBe(0);
    const check = new DatabaseSync(restoredDb, { readOnly: true });
    const { maxId } = check.prepare('SELECT max(id) AS maxId FROM orders').get() as { maxId: number };
    check.close();
    const expected = join(work.dir, 'expected.sqlite');
    spawnSync('sqlite3', [sqlitePath, `VACUUM INTO '${expected}'`]);
    spawnSync('sqlite3', [expected, `DELETE FROM orders WHERE id > ${maxId}; VACUUM;`]);
    const dump = (p: string) =>
      spawnSync('sqlite3', [p, '.dump'], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout;
    expect(dump(restoredDb)).toBe(dump(expected));
    expect(maxId).toBeGreaterThanOrEqual(5000);

    // the directory: content and metadata
    const target = join(work.dir, 'restored-files');
    const r2 = await runCli(['restore', '--backup', await idOf(files.id), '--target-dir', target], setup.env);
    expect(r2.code, r2.stderr).toBe(0);
    const tree = (root: string) =>
      spawnSync('find', [root, '-printf', '%P %M %u %g %s %T@\\n'], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter((l) => l && !l.startsWith(' '))
        .sort();
    expect(tree(join(target, relative('/', uploads)))).toEqual(tree(uploads));
    expect(spawnSync('diff', ['-r', uploads, join(target, relative('/', uploads))]).status).toBe(0);

    // Redis: the files and how to start Redis on them, then the same keys, values and expiry times
    const redisDir = join(work.dir, 'restored-redis');
    const r3 = await runCli(
      ['restore', '--backup', await idOf(cache.id), '--target-dir', redisDir],
      setup.env,
    );
    expect(r3.code, r3.stderr).toBe(0);
    expect(r3.stdout).toContain('systemctl stop redis-server');
    const restored = await startRedis({ dir: redisDir, extra: ['--appendonly', 'yes'] });
    try {
      expect(restored.cli('DBSIZE').trim()).toBe('200002');
      expect(restored.cli('DEBUG', 'DIGEST')).toBe(redis.cli('DEBUG', 'DIGEST'));
      expect(restored.cli('PEXPIRETIME', 'k:300')).toBe(redis.cli('PEXPIRETIME', 'k:300'));
    } finally {
      await restored.stop();
    }
  }, 420_000);

  test('a source that fails alerts through the PagerDuty and syslog stand-ins', async () => {
    const routingKey = crypto.randomUUID().replaceAll('-', '');
    const sink = stackInfo().sinkUrl;
    const { tcpPort } = (await (await fetch(`${sink}/syslog`)).json()) as { tcpPort: number };
    for (const json of [
      { type: 'pagerduty', name: 'On call', routingKey, url: `${sink}/pagerduty/v2/enqueue` },
      { type: 'syslog', name: 'SIEM', host: '127.0.0.1', port: tcpPort, transport: 'tcp' },
    ]) {
      const r = await tenant.session.json('/channels', { method: 'POST', json });
      expect(r.status).toBe(201);
    }
    const gone = await (async () => {
      const r = await tenant.session.json<{ database: Database }>('/databases', {
        method: 'POST',
        json: {
          name: 'gone',
          engine: 'sqlite',
          source: { kind: 'sqlite', path: join(work.dir, 'moved-away.sqlite') },
          schedule: { kind: 'daily', time: '03:00', timezone: 'UTC' },
          agentId: agent.id,
          credentials: { mode: 'local' },
        },
      });
      return r.body.database;
    })();
    for (let i = 0; i < 2; i++) {
      const run = await runCli(['backup', '--database', 'gone'], setup.env);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain('no SQLite database at');
    }
    await runCronAt(new Date());
    const incidents = (await (await fetch(`${sink}/pagerduty/incidents`)).json()) as {
      items: Array<{ routingKey: string; status: string; source: string }>;
    };
    expect(incidents.items.filter((i) => i.routingKey === routingKey)).toMatchObject([
      { status: 'triggered', source: 'gone' },
    ]);
    const lines = (
      (await (await fetch(`${sink}/messages?kind=syslog`)).json()) as {
        items: Array<{
          syslog: { severity: number; structuredData: Record<string, Record<string, string>> };
        }>;
      }
    ).items.filter((m) => m.syslog.structuredData['resistro@32473']?.subjectId === gone.id);
    expect(lines.map((l) => [l.syslog.severity, l.syslog.structuredData['resistro@32473']?.kind])).toEqual([
      [2, 'failing'],
    ]);
  }, 180_000);
});
