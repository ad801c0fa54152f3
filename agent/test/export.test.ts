// "Download all" as a customer leaving does it: the agent backs up two PostgreSQL databases
// through the real control plane and S3 server, the account is cancelled (read-only), and
// `resistro export --all` downloads every backup, verified, each of which restores to the source;
// an interrupted export resumes, a damaged object fails the run; the daemon says once that the
// account is read-only and stays quiet.
import { existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sql } from '../../scripts/test/api.ts';
import { putObject } from '../../worker/test/cron-fixtures.ts';
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
  registerAgent,
  restoreArgs,
  runCli,
  startCustomerPostgres,
  type Tenant,
  testDir,
} from './helpers.ts';
import { postgresSeed } from './seeds.ts';

type Manifest = { items: Array<{ backupId: string; path: string; sha256: string; databaseName: string }> };

describe('resistro export --all', () => {
  let pgServer: CustomerPostgres;
  let tenant: Tenant;
  let setup: AgentSetup;
  let agent: { id: string; publicKey: string };
  const dumps: Record<string, string> = {};
  const work = testDir('export');
  const out = join(work.dir, 'export');
  let manifest: Manifest;

  beforeAll(async () => {
    pgServer = await startCustomerPostgres('pg-export');
    await pgServer.createDatabase('shop');
    await pgServer.asOwner(postgresSeed(), 'shop');
    await pgServer.createDatabase('crm');
    await pgServer.asOwner(
      `create table contacts (id int primary key, name text); insert into contacts values (1, 'Zoë Müller'), (2, 'O''Brien')`,
      'crm',
    );
    for (const name of ['shop', 'crm']) dumps[name] = await pgServer.dump(name);
    tenant = await createTenant();
    setup = makeAgentSetup({ apiKey: tenant.apiKey, endpoint: tenant.endpoint });
    agent = await registerAgent(tenant, setup);
    for (const name of ['shop', 'crm']) {
      await addDatabase(tenant, agent, {
        name,
        engine: 'postgres',
        port: pgServer.port,
        database: name,
        user: pgServer.user,
        password: pgServer.password,
      });
    }
    for (const name of ['shop', 'shop', 'crm']) {
      const r = await runCli(['backup', '--database', name], setup.env);
      if (r.code !== 0) throw new Error(`backup of ${name} failed: ${r.stderr}`);
    }
  }, 240_000);

  afterAll(async () => {
    await cleanupAgents();
    await pgServer?.stop();
    work.remove();
  });

  test('after cancelling: the account is read-only, the agent says so once and stays quiet', async () => {
    expect((await tenant.session.json('/account', { method: 'DELETE' })).status).toBe(202);
    // The paid period ends (the stand-in Paddle's subscription runs a month): read-only from now.
    await sql(
      `update account_closings set effective_at = now() - interval '1 minute', purge_at = now() + interval '30 days'
       where account_id = (select account_id from agents where id = $1)`,
      [agent.id],
    );
    const refused = await runCli(['backup', '--database', 'shop'], setup.env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('read-only');

    const daemon = new AgentProcess(['agent', '--heartbeat-interval', '1'], setup.env);
    const told = await daemon.waitForEvent('account.read_only');
    expect(told.msg).toContain('resistro export --all');
    // Three more heartbeats, seen by the control plane.
    const seen = async () =>
      (
        await sql<{ t: Date }>('select last_seen_at as t from agents where id = $1', [agent.id])
      )[0]!.t.getTime();
    let last = await seen();
    for (let beats = 0; beats < 3; ) {
      await new Promise((r) => setTimeout(r, 300));
      const now = await seen();
      if (now > last) {
        beats++;
        last = now;
      }
    }
    await daemon.stop('SIGTERM');
    const events = daemon.events;
    expect(events.filter((e) => e.event === 'account.read_only')).toHaveLength(1);
    const after = events.slice(events.indexOf(told) + 1);
    expect(after.filter((e) => e.level === 'warn' || e.level === 'error')).toEqual([]);
    for (const db of await tenant.session
      .json<{ items: { id: string }[] }>('/databases')
      .then((r) => r.body.items)) {
      expect((await listBackups(tenant, db.id)).every((b) => b.status === 'succeeded')).toBe(true);
    }
    const alerts = await tenant.session.json<{ items: unknown[] }>('/alerts');
    expect(alerts.body.items).toEqual([]);
  }, 120_000);

  test('downloads every backup, verified, and each one restores to its source', async () => {
    const r = await runCli(['export', '--all', '--to', out], setup.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('3 backup(s)');
    expect(r.stdout).toContain('3 downloaded, 0 already there (verified), 0 failed');
    manifest = (await tenant.session.json<Manifest>('/export/manifest')).body;
    expect(manifest.items).toHaveLength(3);
    const sums = readFileSync(join(out, 'SHA256SUMS'), 'utf8');
    for (const item of manifest.items) {
      expect(existsSync(join(out, item.path)), item.path).toBe(true);
      expect(sums).toContain(`${item.sha256}  ${item.path}`);
    }
    expect(readdirSync(out).sort()).toHaveLength(3); // two database folders and SHA256SUMS

    for (const [i, item] of manifest.items.entries()) {
      const target = `restored_${i}`;
      await pgServer.createDatabase(target);
      const restore = await runCli(restoreArgs({ file: join(out, item.path) }, pgServer, target), {
        ...setup.env,
        PGPASSWORD: pgServer.password,
      });
      expect(restore.code, restore.stderr).toBe(0);
      expect(firstDifference(await pgServer.dump(target), dumps[item.databaseName]!)).toBeUndefined();
    }
  }, 240_000);

  test('resumes after an interruption: verified files are skipped, partial ones are downloaded again', async () => {
    const [a, b] = manifest.items;
    // As a killed run leaves it: one file never renamed (only its .part, cut short), one cut short.
    const aPath = join(out, a!.path);
    writeFileSync(`${aPath}.part`, readFileSync(aPath).subarray(0, 1000));
    writeFileSync(aPath, '');
    truncateSync(join(out, b!.path), 500);
    const r = await runCli(['export', '--all', '--to', out], setup.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('2 downloaded, 1 already there (verified), 0 failed');
    expect(existsSync(`${aPath}.part`)).toBe(false);
    const check = await runCli(['export', '--all', '--to', out], setup.env);
    expect(check.stdout).toContain('0 downloaded, 3 already there (verified), 0 failed');
  }, 120_000);

  test('a backup whose stored object does not match its checksum fails the run (exit 1) and leaves no file', async () => {
    const item = manifest.items[0]!;
    const [row] = await sql<{ object_key: string; size_bytes: string }>(
      'select object_key, size_bytes from backups where id = $1',
      [item.backupId],
    );
    const original = readFileSync(join(out, item.path));
    const damaged = Buffer.from(original);
    damaged[damaged.length - 10]! ^= 0xff;
    await putObject(row!.object_key, new Uint8Array(damaged));
    const fresh = join(work.dir, 'fresh');
    const r = await runCli(['export', '--all', '--to', fresh], setup.env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('2 downloaded, 0 already there (verified), 1 failed');
    expect(r.stderr).toContain("does not match the backup's checksum");
    expect(existsSync(join(fresh, item.path))).toBe(false);
    expect(existsSync(`${join(fresh, item.path)}.part`)).toBe(false);
    await putObject(row!.object_key, new Uint8Array(original));
    expect(statSync(join(out, item.path)).size).toBe(Number(row!.size_bytes));
  }, 120_000);
});
