// Faults, each made deterministic with a proxy the test controls: object storage and the control
// plane behind TCP proxies that can be cut or made to hold uploads mid-way. This file runs its own
// local stack, whose storage is reached only through the proxy (the shared stack's storage must
// stay up for the other test files).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../../scripts/stack/ports.ts';
import { type Stack, startStack } from '../../scripts/stack/stack.ts';
import {
  AgentProcess,
  type AgentSetup,
  addDatabase,
  type CustomerPostgres,
  cleanupAgents,
  createTenant,
  downloadBackup,
  listBackups,
  makeAgentSetup,
  registerAgent,
  runCli,
  startCustomerPostgres,
  type Tenant,
  testDir,
} from './helpers.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

const PART = 8 * 1024 * 1024;

describe('faults during a backup', () => {
  const work = testDir('faults');
  let stack: Stack;
  let storage: TcpProxy;
  let controlPlane: TcpProxy;
  let pgServer: CustomerPostgres;
  let tenant: Tenant;
  let setup: AgentSetup;
  let agent: { id: string; publicKey: string };
  let dbId: string;

  beforeAll(async () => {
    const s3Port = await freePort();
    storage = await startTcpProxy({ port: s3Port });
    stack = await startStack({
      dataDir: join(work.dir, 'stack'),
      fast: true,
      ports: { s3: s3Port },
      vars: { S3_ENDPOINT: storage.url, PBKDF2_ITERATIONS: '100000' },
    });
    controlPlane = await startTcpProxy({ port: Number(new URL(stack.url).port) });
    pgServer = await startCustomerPostgres('pg-faults');
    await pgServer.createDatabase('big');
    // ~58 MB of random bytes: about 7 parts of 8 MiB after compression, so there is a "midway".
    await pgServer.asOwner(
      `create table blobs (id int primary key, data bytea not null);
       insert into blobs select i, (select decode(string_agg(md5(random()::text || j || i), ''), 'hex') from generate_series(1, 4096) j) from generate_series(1, 900) i;`,
      'big',
    );
    tenant = await createTenant(stack.url, stack.paddle.url);
    setup = makeAgentSetup({ apiKey: tenant.apiKey, endpoint: `${controlPlane.url}/api` });
    agent = await registerAgent(tenant, setup);
    dbId = (
      await addDatabase(tenant, agent, {
        name: 'big',
        engine: 'postgres',
        port: pgServer.port,
        database: 'big',
        user: pgServer.user,
        password: pgServer.password,
      })
    ).id;
  }, 180_000);

  afterAll(async () => {
    await cleanupAgents();
    await pgServer?.stop();
    await stack?.stop();
    await storage?.close();
    await controlPlane?.close();
    work.remove();
  }, 60_000);

  const succeeded = async () =>
    (await listBackups(tenant, dbId)).filter((b) => b.status === 'succeeded').length;

  test('a dump tool killed midway fails the backup with its stderr; nothing is marked successful', async () => {
    const before = await succeeded();
    const uploaded = storage.uploadedBytes;
    // The keys given in the environment (not only the env file) must not reach the dump tool.
    const run = new AgentProcess(['backup', '--database', 'big'], {
      ...setup.env,
      RESISTRO_API_KEY: tenant.apiKey,
      RESISTRO_ENCRYPTION_KEY: setup.encryptionKey,
    });
    const tools = await run.waitForEvent('backup.tools');
    await storage.waitForUploadedBytes(uploaded + PART);
    storage.holdUploads(); // the pipeline backs up: the dump is now blocked midway
    const dumpPid = Number(/pid (\d+)/.exec(tools.msg)?.[1]);
    const dumpEnv = readFileSync(`/proc/${dumpPid}/environ`, 'utf8');
    expect(dumpEnv).toContain('PGPASSWORD=');
    expect(dumpEnv).not.toContain(tenant.apiKey);
    expect(dumpEnv).not.toContain(setup.encryptionKey.split(':')[1]);
    try {
      process.kill(dumpPid, 'SIGKILL');
    } finally {
      storage.releaseUploads();
    }
    const { code } = await run.exited;
    expect(code).toBe(1);
    const failed = run.events.find((e) => e.event === 'backup.failed');
    expect(failed?.msg).toMatch(/pg_dump was killed by signal SIGKILL/);
    const [latest] = await listBackups(tenant, dbId);
    expect(latest?.status).toBe('failed');
    expect(latest?.error).toMatch(/pg_dump was killed by signal SIGKILL/);
    expect(await succeeded()).toBe(before);
  }, 120_000);

  test('a part corrupted on its way is refused by the storage (BadDigest), sent again, and the backup restores', async () => {
    const before = await succeeded();
    storage.corruptNextUpload();
    const run = await runCli(['backup', '--database', 'big'], setup.env);
    expect(run.code).toBe(0);
    expect(storage.corrupted).toBe(1);
    const retried = run.events.filter((e) => e.event === 'upload.retry');
    expect(retried).toHaveLength(1);
    expect(retried[0]?.msg).toMatch(/storage answered 400 BadDigest; retrying/);
    expect(await succeeded()).toBe(before + 1);
    const [latest] = await listBackups(tenant, dbId);
    expect(latest?.status).toBe('succeeded');
    // the object's checksum as storage computed it from the parts it verified
    expect(latest?.storageChecksum).toMatch(/^[A-Za-z0-9+/]{43}=-\d+$/);
    const file = await downloadBackup(tenant, latest!.id, work.dir);
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(latest?.sha256);
    const verify = await runCli(['verify', '--file', file], setup.env);
    expect(verify.code).toBe(0);
  }, 180_000);

  test("a dump that fails (wrong password) is reported failed with the tail of the tool's stderr", async () => {
    const wrong = await addDatabase(tenant, agent, {
      name: 'wrong-password',
      engine: 'postgres',
      port: pgServer.port,
      database: 'big',
      user: pgServer.user,
      password: 'not the password',
    });
    const run = await runCli(['backup', '--database', 'wrong-password'], setup.env);
    expect(run.code).toBe(1);
    const failure = run.events.find((e) => e.event === 'command.failed');
    expect(failure?.msg).toMatch(/backup of "wrong-password" failed \(reported to the control plane\)/);
    expect(failure?.hint).toMatch(/password/);
    const [latest] = await listBackups(tenant, wrong.id);
    expect(latest?.status).toBe('failed');
    expect(latest?.error).toMatch(/authentication failed for user "backup_owner"/);
    expect(latest?.error).toMatch(/stderr[\s\S]*password authentication failed/);
    expect(latest?.error).toMatch(/Hint: Check the password/);
    expect(latest?.error).not.toContain('not the password');
    // the kind of failure, for the dashboard and alerts to say in the account's language
    expect(latest?.errorCode).toBe('auth_failed');
    expect(latest?.errorParams).toEqual({ user: pgServer.user });
  }, 60_000);

  test('storage down mid-upload: the rest goes to the spool and is delivered, as the same backup, when storage is back', async () => {
    const run = new AgentProcess(['backup', '--database', 'big'], setup.env);
    // Parts go up several at a time and only an unbroken run from part 1 counts as uploaded: the
    // first "uploaded" event can be part 2's while part 1 is still on its way (seen under load).
    await run.waitFor((e) => e.event === 'upload.part' && e.part === 1, 'part 1 uploaded');
    storage.cut();
    let code: number | null;
    try {
      ({ code } = await run.exited);
    } finally {
      storage.restore();
    }
    expect(code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/is in the offline spool: storage unreachable during the upload/);
    const spooling = run.events.find((e) => e.event === 'backup.spooling');
    expect(Number(spooling?.uploadedParts)).toBeGreaterThanOrEqual(1);
    const [pending] = await listBackups(tenant, dbId);
    expect(pending?.status).toBe('running');

    const daemon = new AgentProcess(['agent', '--heartbeat-interval', '1'], setup.env);
    const delivered = await daemon.waitForEvent('spool.delivered');
    expect(delivered.backupId).toBe(pending!.id);
    expect(await daemon.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const [done] = await listBackups(tenant, dbId);
    expect(done).toMatchObject({ id: pending!.id, status: 'succeeded' });

    // The resumed upload is byte-exact: the stored file verifies completely.
    const file = await downloadBackup(tenant, done!.id, work.dir);
    const verify = await runCli(['verify', '--file', file], setup.env);
    expect(verify.code, verify.stderr).toBe(0);
  }, 180_000);

  test('control plane down: the backup goes to the spool and is delivered, dated by its dump, when it returns', async () => {
    // The agent knows its databases from an earlier heartbeat (cached on disk).
    expect((await runCli(['status'], setup.env)).code).toBe(0);
    controlPlane.cut();
    const spooledAt = Date.now();
    const run = await runCli(['backup', '--database', 'big'], setup.env).finally(() =>
      controlPlane.restore(),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/is in the offline spool: control plane unreachable at the start/);
    expect(run.events.map((e) => e.event)).toContain('heartbeat.offline');

    const before = (await listBackups(tenant, dbId)).length;
    const daemon = new AgentProcess(['agent', '--heartbeat-interval', '1'], setup.env);
    const delivered = await daemon.waitForEvent('spool.delivered');
    expect(await daemon.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const backups = await listBackups(tenant, dbId);
    expect(backups.length).toBe(before + 1);
    const backup = backups.find((b) => b.id === delivered.backupId)!;
    expect(backup).toMatchObject({ status: 'succeeded', trigger: 'manual' });
    // Dated by the dump, not by the delivery.
    expect(Date.parse(backup.startedAt)).toBeGreaterThanOrEqual(spooledAt - 1000);
    expect(Date.parse(backup.startedAt)).toBeLessThan(Date.parse(backup.finishedAt!) - 1000);
  }, 180_000);

  test('the agent killed (SIGKILL) mid-upload records no success; the next run reports it failed and succeeds', async () => {
    const uploaded = storage.uploadedBytes;
    const run = new AgentProcess(['backup', '--database', 'big'], setup.env);
    const started = await run.waitForEvent('backup.started');
    await storage.waitForUploadedBytes(uploaded + PART);
    storage.holdUploads();
    try {
      run.child.kill('SIGKILL');
      await run.exited;
    } finally {
      storage.releaseUploads();
    }
    expect((await listBackups(tenant, dbId)).find((b) => b.id === started.backupId)?.status).toBe('running');

    const next = await runCli(['backup', '--database', 'big'], setup.env);
    expect(next.code, next.stderr).toBe(0);
    expect(next.events.find((e) => e.event === 'backup.interrupted')?.backupId).toBe(started.backupId);
    const backups = await listBackups(tenant, dbId);
    const killed = backups.find((b) => b.id === started.backupId)!;
    expect(killed.status).toBe('failed');
    expect(killed.error).toMatch(/agent stopped during this backup/);
    expect(backups[0]).toMatchObject({ status: 'succeeded' });
  }, 180_000);

  test('SIGTERM during a backup stops it and reports it failed; the daemon exits 0', async () => {
    const now = await tenant.session.json(`/databases/${dbId}/backup-now`, { method: 'POST' });
    expect(now.status).toBe(202);
    const uploaded = storage.uploadedBytes;
    const daemon = new AgentProcess(['agent', '--heartbeat-interval', '1'], setup.env);
    const started = await daemon.waitForEvent('backup.started');
    await storage.waitForUploadedBytes(uploaded + PART);
    storage.holdUploads();
    const exit = await daemon.stop('SIGTERM').finally(() => storage.releaseUploads());
    expect(exit, daemon.stderr.slice(-3000)).toEqual({ code: 0, signal: null });
    const backup = (await listBackups(tenant, dbId)).find((b) => b.id === started.backupId)!;
    expect(backup).toMatchObject({ status: 'failed', trigger: 'manual' });
    expect(backup.error).toMatch(/stopped \(SIGTERM\)/);
    expect(daemon.events.map((e) => e.event)).toEqual(
      expect.arrayContaining(['agent.stopping', 'backup.failed', 'agent.stopped']),
    );
  }, 120_000);
});
