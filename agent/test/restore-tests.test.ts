// Test restores asked for through the API ("test now") and run by the real agent daemon (issue 14):
// a PostgreSQL and a MariaDB database each get a passing test with per-table counts, a customer
// check that fails is reported with the value it saw, and the scratch databases are gone after.
// Real PostgreSQL, MariaDB, control plane and S3 server.
import { join } from 'node:path';
import type { RestoreTest } from '@resistro/contract';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type MariadbServer, startMariadb } from '../../scripts/stack/mariadb.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import {
  AgentProcess,
  type AgentSetup,
  addDatabase,
  type CustomerPostgres,
  cleanupAgents,
  createTenant,
  makeAgentSetup,
  registerAgent,
  runCli,
  startCustomerPostgres,
  type Tenant,
  testDir,
} from './helpers.ts';
import { mariadbSeed, postgresSeed } from './seeds.ts';

let pgServer: CustomerPostgres;
let maria: MariadbServer;
let tenant: Tenant;
let setup: AgentSetup;
let daemon: AgentProcess;
const ids = { pg: '', maria: '' };
const work = testDir('restore-tests');

async function waitForTest(id: string): Promise<RestoreTest> {
  for (let i = 0; ; i++) {
    const r = (await tenant.session.json<{ restoreTest: RestoreTest }>(`/restore-tests/${id}`)).body
      .restoreTest;
    if (r.state !== 'pending' && r.state !== 'running') return r;
    if (i > 1800)
      throw new Error(`test restore never ended: ${JSON.stringify(r)}\n${daemon.stderr.slice(-4000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function testNow(databaseId: string): Promise<RestoreTest> {
  const r = await tenant.session.json<{ restoreTest: RestoreTest }>('/restore-tests', {
    method: 'POST',
    json: { databaseId },
  });
  if (r.status !== 202 && r.status !== 201)
    throw new Error(`test refused: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.restoreTest;
}

async function settings(databaseId: string, checks: unknown[]) {
  const r = await tenant.session.json(`/databases/${databaseId}/restore-tests/settings`, {
    method: 'PUT',
    json: {
      enabled: true,
      intervalHours: 168,
      target: { kind: 'scratch' },
      timeLimitMinutes: 30,
      alertAfterDays: 14,
      checks,
    },
  });
  if (r.status !== 200) throw new Error(`settings refused: ${r.status} ${JSON.stringify(r.body)}`);
}

beforeAll(async () => {
  pgServer = await startCustomerPostgres('pg-restore-tests');
  await pgServer.createDatabase('shop');
  await pgServer.asOwner(postgresSeed(), 'shop');
  // the scratch database is created by the agent's own database user
  await pgServer.admin(`alter role ${pgServer.user} createdb`);
  maria = await startMariadb({ dir: join(work.dir, 'maria'), port: await freePort(), fast: true });
  await maria.createDatabase('shop');
  await maria.query(mariadbSeed(), 'shop');

  tenant = await createTenant();
  setup = makeAgentSetup({ apiKey: tenant.apiKey, endpoint: tenant.endpoint });
  const agent = await registerAgent(tenant, setup);
  ids.pg = (
    await addDatabase(tenant, agent, {
      engine: 'postgres',
      user: pgServer.user,
      password: pgServer.password,
      name: 'pg',
      port: pgServer.port,
      database: 'shop',
    })
  ).id;
  ids.maria = (
    await addDatabase(tenant, agent, {
      name: 'maria',
      engine: 'mariadb',
      port: maria.port,
      database: 'shop',
      user: maria.user,
      password: maria.password,
    })
  ).id;
  for (const name of ['pg', 'maria']) {
    const backup = await runCli(['backup', '--database', name], setup.env);
    expect(backup.code, backup.stderr).toBe(0);
  }
  daemon = new AgentProcess(['agent', '--heartbeat-interval', '1'], setup.env);
}, 240_000);

afterAll(async () => {
  await daemon?.stop();
  await cleanupAgents();
  await pgServer?.stop();
  await maria?.stop();
  work.remove();
});

describe('test restores run by the agent', () => {
  test('PostgreSQL: passes with every table compared and the customer check held; the scratch database is gone', async () => {
    await settings(ids.pg, [
      {
        name: 'has rows',
        sql: 'select count(*) from information_schema.tables',
        expect: { op: '>', value: '0' },
      },
    ]);
    const done = await waitForTest((await testNow(ids.pg)).id);
    expect(done, `${done.error} ${done.errorHint}`).toMatchObject({ state: 'passed', errorCode: null });
    expect(done.tables?.checked).toBeGreaterThan(0);
    expect(done.tables?.failed).toBe(0);
    expect(done.checks[0]).toMatchObject({ name: 'has rows', passed: true });
    expect(done.restoreMs).toBeGreaterThan(0);
    console.log(
      `test restore of PostgreSQL: ${done.tables?.checked} tables, measured restore time ${done.restoreMs} ms, total ${done.totalMs} ms`,
    );
    const left = await pgServer.admin(
      "select count(*) as n from pg_database where datname like 'resistro_verify_%'",
    );
    expect(Number(left.rows[0]?.n)).toBe(0);
    expect(daemon.stderr).not.toContain(pgServer.password);
  });

  test('MariaDB: passes; a customer check that does not hold fails the test with the value it saw', async () => {
    const passed = await waitForTest((await testNow(ids.maria)).id);
    expect(passed, `${passed.error} ${passed.errorHint}`).toMatchObject({ state: 'passed' });
    expect(passed.tables?.checked).toBeGreaterThan(0);

    await settings(ids.maria, [
      {
        name: 'impossible',
        sql: 'SELECT COUNT(*) FROM information_schema.TABLES',
        expect: { op: '<', value: '0' },
      },
    ]);
    const failed = await waitForTest((await testNow(ids.maria)).id);
    expect(failed).toMatchObject({ state: 'failed' });
    expect(failed.tables?.failed).toBe(0);
    expect(failed.checks[0]).toMatchObject({ name: 'impossible', passed: false });
    expect(Number(failed.checks[0]?.actual)).toBeGreaterThan(0);
    const left = await maria.query(
      "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'resistro\\_verify\\_%'",
      'shop',
    );
    expect(left[0]?.[0]).toBe('0');
  });
});
