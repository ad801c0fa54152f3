// The connection check end to end: the real daemon, the control plane of the shared stack and a
// real MariaDB. A database added with an account that may not read routine bodies is reported at
// the agent's next heartbeat, long before its first backup; the GRANT from the report plus "test
// again" turns it green. A wrong password is reported as such, and never shows in a log.
import { join } from 'node:path';
import type { Database } from '@resistro/contract';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type MariadbServer, sqlString, startMariadb } from '../../scripts/stack/mariadb.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import {
  AgentProcess,
  type AgentSetup,
  addDatabase,
  cleanupAgents,
  createTenant,
  listBackups,
  makeAgentSetup,
  registerAgent,
  type Tenant,
  testDir,
} from './helpers.ts';

const PASSWORD = `check pw 'q' "d" \\b 😀`;

describe('connection check through the daemon', () => {
  let server: MariadbServer;
  let tenant: Tenant;
  let setup: AgentSetup;
  let agent: { id: string; publicKey: string };
  let daemon: AgentProcess;
  const work = testDir('check-daemon');

  beforeAll(async () => {
    server = await startMariadb({ dir: join(work.dir, 'data'), port: await freePort(), fast: true });
    await server.createDatabase('shop');
    await server.query(
      `CREATE TABLE orders (id INT PRIMARY KEY);
       CREATE FUNCTION add_tax(amount DECIMAL(10,2)) RETURNS DECIMAL(10,2) DETERMINISTIC RETURN amount * 1.19;
       CREATE USER 'shopbackup'@'%' IDENTIFIED BY ${sqlString(PASSWORD)};
       GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES, EXECUTE ON shop.* TO 'shopbackup'@'%';`,
      'shop',
    );
    tenant = await createTenant();
    setup = makeAgentSetup({ apiKey: tenant.apiKey, endpoint: tenant.endpoint });
    agent = await registerAgent(tenant, setup);
    daemon = new AgentProcess(['agent', '--heartbeat-interval', '1'], setup.env);
    await daemon.waitForEvent('heartbeat.online');
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    await cleanupAgents();
    await server?.stop();
    work.remove();
  });

  async function settledCheck(id: string): Promise<NonNullable<Database['connectionCheck']>> {
    for (;;) {
      const r = await tenant.session.json<{ database: Database }>(`/databases/${id}`);
      const check = r.body.database.connectionCheck;
      if (check && check.status !== 'pending') return check;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  test('a missing routine right is reported at the next heartbeat; its GRANT and "test again" fix it', async () => {
    const db = await addDatabase(tenant, agent, {
      name: 'shop',
      engine: 'mariadb',
      port: server.port,
      database: 'shop',
      user: 'shopbackup',
      password: PASSWORD,
    });
    expect(db.connectionCheck?.status).toBe('pending');
    const logged = await daemon.waitFor(
      (e) => e.event === 'check.failed' && e.databaseId === db.id,
      'the failed check',
    );
    expect(logged.msg).toContain('privilege SHOW CREATE ROUTINE: privilege_missing');

    const check = await settledCheck(db.id);
    expect(check.status).toBe('failed');
    expect(check.serverVersion).toMatch(/MariaDB/);
    expect(check.items.filter((i) => !i.ok)).toEqual([
      {
        step: 'privilege',
        subject: 'SHOW CREATE ROUTINE',
        ok: false,
        code: 'privilege_missing',
        params: {
          privilege: 'SELECT ON mysql.proc',
          grant: "GRANT SELECT ON mysql.proc TO 'shopbackup'@'%';",
        },
      },
    ]);
    expect(await listBackups(tenant, db.id)).toEqual([]); // no backup was needed to find out

    await server.query(check.items.find((i) => !i.ok)!.params!.grant!);
    const again = await tenant.session.json(`/databases/${db.id}/check`, { method: 'POST' });
    expect(again.status).toBe(200);
    const fixed = await settledCheck(db.id);
    expect(fixed.status).toBe('ok');
    expect(fixed.items.every((i) => i.ok)).toBe(true);
    expect(Date.parse(fixed.requestedAt)).toBeGreaterThan(Date.parse(check.requestedAt));
  }, 120_000);

  test('a wrong password is reported at authentication and appears in no log line', async () => {
    const wrong = `not-it-${Math.random().toString(36).slice(2)}`;
    const db = await addDatabase(tenant, agent, {
      name: 'shop with a typo',
      engine: 'mariadb',
      port: server.port,
      database: 'shop',
      user: 'shopbackup',
      password: wrong,
    });
    const check = await settledCheck(db.id);
    expect(check.items.map((i) => [i.step, i.ok, i.code])).toEqual([
      ['connection', true, undefined],
      ['authentication', false, 'auth_failed'],
    ]);
    expect(check.items[1]?.detail).toMatch(/Access denied for user 'shopbackup'/);
    expect(daemon.stderr).not.toContain(wrong);
    expect(daemon.stderr).not.toContain(PASSWORD);
  }, 120_000);
});
