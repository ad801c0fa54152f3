// Restores asked for through the API and run by the real agent daemon (issue 20): a PostgreSQL
// backup into a new database, a MariaDB backup over its changed original, a restore cancelled
// midway whose new database is dropped again, and a refused target that is left untouched. Real
// PostgreSQL, MariaDB, control plane and S3 server; the databases are compared by their dumps.
import { join } from 'node:path';
import type { Restore } from '@resistro/contract';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type MariadbServer, startMariadb } from '../../scripts/stack/mariadb.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import { type GateProxy, startGateProxy } from './gate-proxy.ts';
import {
  AgentProcess,
  type AgentSetup,
  addDatabase,
  type CustomerPostgres,
  cleanupAgents,
  createTenant,
  firstDifference,
  listBackups,
  makeAgentSetup,
  mariadbDump,
  registerAgent,
  runCli,
  startCustomerPostgres,
  type Tenant,
  testDir,
} from './helpers.ts';
import { mariadbSeed, postgresSeed } from './seeds.ts';

let pgServer: CustomerPostgres;
let maria: MariadbServer;
let gate: GateProxy;
let tenant: Tenant;
let setup: AgentSetup;
let daemon: AgentProcess;
const ids = { pg: '', pgGated: '', maria: '' };
const dumps = { pg: '', maria: '' };
const work = testDir('restore-jobs');

async function waitForRestore(id: string, test: (r: Restore) => boolean, what: string): Promise<Restore> {
  for (let i = 0; ; i++) {
    const r = (await tenant.session.json<{ restore: Restore }>(`/restores/${id}`)).body.restore;
    if (test(r)) return r;
    if (i > 1200)
      throw new Error(`restore never ${what}: ${JSON.stringify(r)}\n${daemon.stderr.slice(-4000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
const over = (r: Restore) => r.state !== 'pending' && r.state !== 'running';

async function ask(body: unknown): Promise<Restore> {
  const r = await tenant.session.json<{ restore: Restore }>('/restores', { method: 'POST', json: body });
  if (r.status !== 202) throw new Error(`restore refused: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.restore;
}

beforeAll(async () => {
  pgServer = await startCustomerPostgres('pg-restore-jobs');
  await pgServer.createDatabase('shop');
  await pgServer.asOwner(postgresSeed(), 'shop');
  // a new database needs CREATEDB (docs/restore-dashboard.md)
  await pgServer.admin(`alter role ${pgServer.user} createdb`);
  dumps.pg = await pgServer.dump('shop');
  maria = await startMariadb({ dir: join(work.dir, 'maria'), port: await freePort(), fast: true });
  await maria.createDatabase('shop');
  await maria.query(mariadbSeed(), 'shop');
  dumps.maria = await mariadbDump(maria, 'shop');
  gate = await startGateProxy({ port: pgServer.port });

  tenant = await createTenant();
  setup = makeAgentSetup({ apiKey: tenant.apiKey, endpoint: tenant.endpoint });
  const agent = await registerAgent(tenant, setup);
  const pg = { engine: 'postgres' as const, user: pgServer.user, password: pgServer.password };
  ids.pg = (
    await addDatabase(tenant, agent, { ...pg, name: 'pg', port: pgServer.port, database: 'shop' })
  ).id;
  // the same server again, through the gate: its restores can be held mid-stream
  ids.pgGated = (
    await addDatabase(tenant, agent, { ...pg, name: 'pg-gated', port: gate.port, database: 'shop' })
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
  for (const name of ['pg', 'pg-gated', 'maria']) {
    const backup = await runCli(['backup', '--database', name], setup.env);
    expect(backup.code, backup.stderr).toBe(0);
  }
  daemon = new AgentProcess(['agent', '--heartbeat-interval', '1'], setup.env);
}, 240_000);

afterAll(async () => {
  await daemon?.stop();
  await cleanupAgents();
  await gate?.close();
  await pgServer?.stop();
  await maria?.stop();
  work.remove();
});

describe('restores run by the agent', () => {
  test('restores the PostgreSQL backup into a new database, identical to the original', async () => {
    const restore = await ask({
      databaseId: ids.pg,
      target: { kind: 'new', database: 'shop_restored_2026_12_02' },
    });
    const done = await waitForRestore(restore.id, over, 'ended');
    expect(done, done.error ?? '').toMatchObject({ state: 'succeeded', errorCode: null });
    expect(done.durationMs).toBeGreaterThan(0);
    console.log(
      `restore into a new PostgreSQL database: ${done.bytesTotal} bytes of backup, measured RTO ${done.durationMs} ms (queued ${Date.parse(done.startedAt!) - Date.parse(done.requestedAt)} ms)`,
    );
    expect(done.bytesDone).toBe(done.bytesTotal);
    expect(firstDifference(await pgServer.dump('shop_restored_2026_12_02'), dumps.pg)).toBeUndefined();
    // the agent went through every phase, and its log never holds the password
    const phases = daemon.events.filter(
      (e) => e.event === 'restore.started' || e.event === 'restore.downloaded',
    );
    expect(phases.map((e) => e.event)).toEqual(['restore.downloaded', 'restore.started']);
    expect(daemon.stderr).not.toContain(pgServer.password);
  });

  test('refuses a new database whose name exists and leaves that database alone', async () => {
    const restore = await ask({
      databaseId: ids.pg,
      target: { kind: 'new', database: 'shop_restored_2026_12_02' },
    });
    const done = await waitForRestore(restore.id, over, 'ended');
    expect(done).toMatchObject({ state: 'failed', errorCode: 'target_exists' });
    expect(firstDifference(await pgServer.dump('shop_restored_2026_12_02'), dumps.pg)).toBeUndefined();
  });

  test('replaces the changed MariaDB original with its backup', async () => {
    await maria.query(
      'DELETE FROM orders; CREATE TABLE stray (id INT); INSERT INTO stray VALUES (1);',
      'shop',
    );
    expect(firstDifference(await mariadbDump(maria, 'shop'), dumps.maria)).toBeDefined();
    const restore = await ask({
      databaseId: ids.maria,
      target: { kind: 'original', confirm: 'shop' },
      password: 'correct horse battery staple',
    });
    const done = await waitForRestore(restore.id, over, 'ended');
    expect(done, done.error ?? '').toMatchObject({ state: 'succeeded', target: { replace: true } });
    expect(firstDifference(await mariadbDump(maria, 'shop'), dumps.maria)).toBeUndefined();
  });

  test('a restore cancelled midway ends cancelled and its new database is dropped', async () => {
    gate.armAfter(256 * 1024);
    const restore = await ask({
      databaseId: ids.pgGated,
      target: { kind: 'new', database: 'shop_cancelled' },
    });
    await gate.held();
    const mid = await waitForRestore(
      restore.id,
      (r) => r.phase === 'data' || r.phase === 'indexes',
      'restoring',
    );
    expect(mid.state).toBe('running');
    const exists = async () =>
      (await pgServer.admin("select 1 from pg_database where datname = 'shop_cancelled'")).rowCount;
    expect(await exists()).toBe(1);

    const cancel = await tenant.session.json<{ restore: Restore }>(`/restores/${restore.id}/cancel`, {
      method: 'POST',
    });
    expect(cancel.body.restore).toMatchObject({ state: 'running', cancelRequested: true });
    // the agent stops its sessions and cleans up; the gate then lets the held one's close through
    await daemon.waitFor(
      (e) => e.event === 'restore.cleanup' || e.event === 'restore.dropped',
      'the cleanup',
    );
    gate.release();
    const done = await waitForRestore(restore.id, over, 'ended');
    expect(done).toMatchObject({ state: 'cancelled', errorCode: null });
    expect(await exists()).toBe(0);
    expect(daemon.events.map((e) => e.event)).toContain('restore.dropped');
  });

  test('lists all of them in the history of their databases', async () => {
    const history = async (id: string) =>
      (await tenant.session.json<{ items: Restore[] }>(`/restores?databaseId=${id}`)).body.items.map(
        (r) => r.state,
      );
    expect(await history(ids.pg)).toEqual(['failed', 'succeeded']);
    expect(await history(ids.maria)).toEqual(['succeeded']);
    expect(await history(ids.pgGated)).toEqual(['cancelled']);
    expect((await listBackups(tenant, ids.pg)).length).toBe(1);
  });
});
