// The daemon (`resistro agent`) against the shared local stack: "back up now", schedules from the
// cached configuration while the control plane is away, retries at the next heartbeat, and one
// backup per database at a time across processes.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sealToAgent } from '@resistro/contract';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sql, stackInfo } from '../../scripts/test/api.ts';
import {
  AgentProcess,
  type AgentSetup,
  addDatabase,
  type CustomerPostgres,
  cleanupAgents,
  createTenant,
  listBackups,
  makeAgentSetup,
  registerAgent,
  runCli,
  startCustomerPostgres,
  type Tenant,
  waitForBackups,
} from './helpers.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

describe('the agent daemon', () => {
  let pgServer: CustomerPostgres;
  let tenant: Tenant;
  let setup: AgentSetup;
  let agent: { id: string; publicKey: string };
  let controlPlane: TcpProxy;

  beforeAll(async () => {
    pgServer = await startCustomerPostgres('pg-daemon');
    await pgServer.createDatabase('app');
    await pgServer.asOwner(
      'create table events (id int primary key, body text); insert into events select i, md5(i::text) from generate_series(1, 5000) i;',
      'app',
    );
    controlPlane = await startTcpProxy({ port: Number(new URL(stackInfo().url).port) });
    tenant = await createTenant();
    setup = makeAgentSetup({ apiKey: tenant.apiKey, endpoint: `${controlPlane.url}/api` });
    agent = await registerAgent(tenant, setup);
  }, 120_000);

  afterAll(async () => {
    await cleanupAgents();
    await pgServer?.stop();
    await controlPlane?.close();
  });

  const addApp = (name: string, password = pgServer.password) =>
    addDatabase(tenant, agent, {
      name,
      engine: 'postgres',
      port: pgServer.port,
      database: 'app',
      user: pgServer.user,
      password,
    });

  test('runs a "back up now" request from the dashboard at the next heartbeat', async () => {
    const db = await addApp('on-demand');
    const requested = await tenant.session.json(`/databases/${db.id}/backup-now`, { method: 'POST' });
    expect(requested.status).toBe(202);
    const daemon = new AgentProcess(['agent', '--heartbeat-interval', '1'], setup.env);
    const [backup] = await waitForBackups(tenant, db.id, (b) => b.some((x) => x.status === 'succeeded'));
    expect(backup).toMatchObject({ status: 'succeeded', trigger: 'manual', agentId: agent.id });
    // A second daemon on the same state directory would run every schedule twice: refused.
    const second = await runCli(['agent', '--heartbeat-interval', '1'], setup.env);
    expect(second.code).toBe(1);
    expect(second.events.find((e) => e.event === 'command.failed')?.msg).toMatch(
      /another resistro agent \(pid \d+\) already runs with the state directory/,
    );
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    expect(existsSync(join(setup.stateDir, 'agent.lock'))).toBe(false);
    // One request, one backup: the request was claimed.
    expect((await listBackups(tenant, db.id)).length).toBe(1);
  }, 120_000);

  test('runs a missed scheduled backup from the cached configuration while the control plane is down, and delivers it later', async () => {
    const db = await addApp('scheduled', pgServer.password);
    expect((await runCli(['status'], setup.env)).code).toBe(0); // caches the configuration
    // The slot of yesterday 03:00 was missed (the agent was "down"): it is owed once.
    const yesterday = new Date(Date.now() - 2 * 86400_000).toISOString();
    const statePath = join(setup.stateDir, 'schedule.json');
    const state = JSON.parse(
      (() => {
        try {
          return readFileSync(statePath, 'utf8');
        } catch {
          return '{}';
        }
      })(),
    );
    state[db.id] = { lastSlot: yesterday, schedule: JSON.stringify(db.schedule) };
    writeFileSync(statePath, JSON.stringify(state));

    controlPlane.cut();
    let daemon: AgentProcess | undefined;
    try {
      daemon = new AgentProcess(['agent', '--heartbeat-interval', '1'], setup.env);
      await daemon.waitFor((e) => e.event === 'heartbeat.failed');
      const spooled = await daemon.waitFor(
        (e) => e.event === 'backup.spooled' && e.databaseId === db.id,
        'the scheduled backup to be spooled',
      );
      expect(spooled.msg).toMatch(/offline spool/);
      expect(await listBackups(tenant, db.id)).toEqual([]);
    } finally {
      controlPlane.restore();
    }
    await daemon.waitFor((e) => e.event === 'spool.delivered' && e.databaseId === db.id, 'the delivery');
    const [backup] = await listBackups(tenant, db.id);
    expect(backup).toMatchObject({ status: 'succeeded', trigger: 'schedule' });
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  }, 120_000);

  test('retries a failed backup at the next heartbeat and succeeds once the password is fixed', async () => {
    const db = await addApp('retried', 'wrong password');
    await tenant.session.json(`/databases/${db.id}/backup-now`, { method: 'POST' });
    const daemon = new AgentProcess(['agent', '--heartbeat-interval', '2'], setup.env);
    await daemon.waitFor((e) => e.event === 'backup.retry-scheduled' && e.databaseId === db.id);
    const patched = await tenant.session.json(`/databases/${db.id}`, {
      method: 'PATCH',
      json: {
        credentials: {
          mode: 'sealed',
          sealedPassword: await sealToAgent(agent.publicKey, pgServer.password),
        },
      },
    });
    expect(patched.status).toBe(200);
    const backups = await waitForBackups(tenant, db.id, (b) => b.some((x) => x.status === 'succeeded'));
    expect(backups.at(-1)).toMatchObject({ status: 'failed', trigger: 'manual' });
    expect(backups.at(-1)?.error).toMatch(/authentication failed/);
    expect(backups[0]).toMatchObject({ status: 'succeeded', trigger: 'retry' });
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  }, 120_000);

  test('refuses a second backup of a database that another resistro process is backing up', async () => {
    const db = await addApp('locked');
    // A live resistro process (this test runner is a node process) holds the database's lock.
    mkdirSync(join(setup.stateDir, 'locks'), { recursive: true });
    writeFileSync(join(setup.stateDir, 'locks', `${db.id}.lock`), String(process.pid));
    const run = await runCli(['backup', '--database', 'locked'], setup.env);
    expect(run.code).toBe(1);
    expect(run.events.find((e) => e.event === 'command.failed')?.msg).toMatch(
      /a backup of "locked" is already running/,
    );
    expect(await listBackups(tenant, db.id)).toEqual([]);
  }, 60_000);
  test('a full storage quota is reported with a hint and not retried', async () => {
    const quota = await createTenant();
    const quotaSetup = makeAgentSetup({ apiKey: quota.apiKey, endpoint: quota.endpoint });
    const quotaAgent = await registerAgent(quota, quotaSetup);
    const db = await addDatabase(quota, quotaAgent, {
      name: 'full',
      engine: 'postgres',
      port: pgServer.port,
      database: 'app',
      user: pgServer.user,
      password: pgServer.password,
    });
    const me = await quota.session.json<{ account: { id: string } }>('/auth/me');
    await sql('update accounts set storage_used_bytes = 60000000000 where id = $1', [me.body.account.id]);

    const run = await runCli(['backup', '--database', 'full'], quotaSetup.env);
    expect(run.code).toBe(1);
    const failure = run.events.find((e) => e.event === 'command.failed');
    expect(failure?.msg).toMatch(/storage quota .* is used up/);
    expect(failure?.hint).toMatch(/Delete old backups, shorten retention, or move to a larger plan/);

    await quota.session.json(`/databases/${db.id}/backup-now`, { method: 'POST' });
    const daemon = new AgentProcess(['agent', '--heartbeat-interval', '1'], quotaSetup.env);
    const noRetry = await daemon.waitForEvent('backup.no-retry');
    expect(noRetry.msg).toMatch(/not retrying "full": this needs a fix first/);
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    expect(daemon.events.filter((e) => e.event === 'backup.refused')).toHaveLength(1);
  }, 60_000);
});
