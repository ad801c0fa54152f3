// The second storage location (3-2-1) end to end with two real S3 servers: the account's second
// bucket is at another "provider" (a second local S3 server), so the running agent transfers the
// encrypted backup there through presigned URLs; the control plane verifies the copy's checksum.
// Then the primary S3 server is stopped: a download and `resistro restore --backup` still work,
// from the copy, and both say so. A backup without a copy is not pretended to be downloadable.
import { createHash } from 'node:crypto';
import { AwsClient } from 'aws4fetch';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import { runCron, sql, stackInfo } from '../../scripts/test/api.ts';
import { startIsolatedControlPlane } from '../../scripts/test/isolated.ts';
import {
  AgentProcess,
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

const aws = new AwsClient({
  accessKeyId: S3_ACCESS_KEY_ID,
  secretAccessKey: S3_SECRET_ACCESS_KEY,
  service: 's3',
  region: 'us-east-1',
});

async function copyRow(backupId: string) {
  const [row] = await sql<{ status: string; method: string; checksum: string | null; error: string | null }>(
    'select status, method, checksum, error from backup_copies where backup_id = $1',
    [backupId],
  );
  return row;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe('a second storage location at another provider', () => {
  const work = testDir('second-location');
  let isolated: Awaited<ReturnType<typeof startIsolatedControlPlane>>;
  let pgServer: CustomerPostgres;
  let tenant: Tenant;
  let sourceDump: string;

  beforeAll(async () => {
    isolated = await startIsolatedControlPlane('second_location', { ownS3: true });
    pgServer = await startCustomerPostgres('copy');
    await pgServer.createDatabase('shop');
    await pgServer.asOwner(postgresSeed(), 'shop');
    sourceDump = await pgServer.dump('shop');
    tenant = await createTenant(stackInfo().url, stackInfo().paddleUrl);
  }, 180_000);

  afterAll(async () => {
    await cleanupAgents();
    await pgServer?.stop();
    await isolated?.stop();
    work.remove();
  });

  test('gets a verified copy from the agent, and restores from it while the primary is down, saying so', async () => {
    const setup = makeAgentSetup({ apiKey: tenant.apiKey, endpoint: tenant.endpoint });
    const agent = await registerAgent(tenant, setup);
    const db = await addDatabase(tenant, agent, {
      name: 'Shop',
      engine: 'postgres',
      port: pgServer.port,
      database: 'shop',
      user: pgServer.user,
      password: pgServer.password,
    });
    const made = await runCli(['backup', '--database', 'Shop'], setup.env);
    expect(made.code, made.stderr).toBe(0);
    const [backup] = await listBackups(tenant, db.id);
    expect(backup?.status).toBe('succeeded');

    const stack = inject('stack');
    const put = await tenant.session.json('/storage-location', {
      method: 'PUT',
      json: {
        endpoint: stack.s3CopyUrl,
        region: 'us-east-1',
        bucket: stack.copyBucket,
        accessKeyId: S3_ACCESS_KEY_ID,
        secretAccessKey: S3_SECRET_ACCESS_KEY,
        copies: 'all',
      },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    // another provider: the agent transfers; the bucket was created with object lock
    expect(put.body.location).toMatchObject({ method: 'transfer', objectLock: true, copies: 'all' });
    expect(put.body.location).not.toHaveProperty('secretAccessKey');
    const stored = await sql<{ secret_sealed: string }>('select secret_sealed from storage_locations');
    expect(stored[0]?.secret_sealed).toMatch(/^sb1\./);
    expect(stored[0]?.secret_sealed).not.toContain(S3_SECRET_ACCESS_KEY);

    await runCron();
    expect(await copyRow(backup!.id)).toMatchObject({ status: 'pending', method: 'transfer' });
    const daemon = new AgentProcess(['agent', '--heartbeat-interval', '1'], setup.env);
    await daemon.waitFor((e) => e.event === 'copy.done' || e.event === 'copy.failed', 'the copy');
    await daemon.stop();
    const copied = await copyRow(backup!.id);
    expect(copied).toMatchObject({ status: 'copied', method: 'transfer', checksum: backup!.sha256 });

    // the copy's bytes are the backup's, in the second server's bucket under the same key
    const key = `accounts/${(await sql('select account_id from databases where id = $1', [db.id]))[0].account_id}/databases/${db.id}/${backup!.id}.resistro`;
    const there = await aws.fetch(`${stack.s3CopyUrl}/${stack.copyBucket}/${key}`);
    expect(there.status).toBe(200);
    expect(
      createHash('sha256')
        .update(Buffer.from(await there.arrayBuffer()))
        .digest('hex'),
    ).toBe(backup!.sha256);

    // the primary storage goes down
    await isolated.s3!.stop();
    const link = await tenant.session.json(`/backups/${backup!.id}/download`);
    expect(link.status).toBe(200);
    expect(link.body.source).toBe('copy');
    const bytes = Buffer.from(await (await fetch(link.body.url)).arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(backup!.sha256);

    await pgServer.createDatabase('shop_from_copy');
    const restore = await runCli(restoreArgs({ backup: backup!.id }, pgServer, 'shop_from_copy'), {
      ...setup.env,
      PGPASSWORD: pgServer.password,
    });
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout + restore.stderr).toMatch(/second storage location/);
    expect(firstDifference(await pgServer.dump('shop_from_copy'), sourceDump)).toBeUndefined();

    // a backup with no copy is not offered while the primary is down: storage_error, not a dead link
    await sql(`update backup_copies set status = 'pending' where backup_id = $1`, [backup!.id]);
    const none = await tenant.session.json(`/backups/${backup!.id}/download`);
    expect(none.status).toBe(502);
    expect(none.body.error.code).toBe('storage_error');
    await isolated.s3!.start();
  });
});
