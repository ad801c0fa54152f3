import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openSealed, sealToAgent } from '@resistro/contract';
import { AwsClient } from 'aws4fetch';
import { describe, expect, it } from 'vitest';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import {
  accountWithDatabase,
  createKey,
  keyClient,
  putParts,
  runCron,
  signup,
  sql,
  stackInfo,
  uploadBackup,
} from '../../scripts/test/api.ts';

const MiB = 1024 * 1024;

/** A running backup's multipart upload (the row forgets it once the backup is finished). */
async function backupUpload(backupId: string): Promise<{ object_key: string; upload_id: string }> {
  const [row] = await sql('select object_key, upload_id from backups where id = $1', [backupId]);
  expect(row.upload_id).toBeTruthy();
  return row;
}

/**
 * Whether a multipart upload is still open on the local S3 server, asked as S3 is asked
 * (ListParts: 404 NoSuchUpload once aborted) and on its disk (the parts' directory).
 */
async function uploadIsOpen(row: { object_key: string; upload_id: string }): Promise<boolean> {
  const { s3Url, bucket, dataDir } = stackInfo();
  const s3 = new AwsClient({
    accessKeyId: S3_ACCESS_KEY_ID,
    secretAccessKey: S3_SECRET_ACCESS_KEY,
    service: 's3',
    region: 'us-east-1',
  });
  const key = String(row.object_key).split('/').map(encodeURIComponent).join('/');
  const res = await s3.fetch(`${s3Url}/${bucket}/${key}?uploadId=${encodeURIComponent(row.upload_id)}`);
  const text = await res.text();
  const onDisk = existsSync(join(dataDir, 's3', bucket, '._S3rver_uploads', row.upload_id));
  if (res.status === 200 && onDisk) return true;
  expect([res.status, /<Code>([^<]+)<\/Code>/.exec(text)?.[1], onDisk]).toEqual([404, 'NoSuchUpload', false]);
  return false;
}

describe('the agent flow with real multipart objects', () => {
  it('registers, receives its work, uploads in parts, completes, and the download returns the same bytes', async () => {
    const a = await accountWithDatabase();
    // The control plane holds only the sealed password; the agent opens it with its private key.
    const [stored] = await sql('select sealed_password from databases where id = $1', [a.database.id]);
    expect(stored.sealed_password).not.toContain('s3cret');
    const hb = await a.client.heartbeat({
      hostname: 'db1',
      os: 'linux',
      version: '0.1.0',
      tools: [{ name: 'pg_dump', version: '15.18', path: '/usr/bin/pg_dump' }],
      publicKey: a.pair.publicKey,
    });
    expect(hb.heartbeatIntervalSeconds).toBe(60);
    expect(hb.databases).toHaveLength(1);
    const work = hb.databases[0]!;
    expect(work.credentials.mode).toBe('sealed');
    if (work.credentials.mode === 'sealed')
      expect(await openSealed(a.pair, work.credentials.sealedPassword)).toBe('s3cret-pässword');

    // "Back up now" reaches the agent with its next heartbeat.
    const now = await a.session.json(`/databases/${a.database.id}/backup-now`, { method: 'POST' });
    expect(now.status).toBe(202);
    const again = await a.session.json(`/databases/${a.database.id}/backup-now`, { method: 'POST' });
    expect(again.body.request.id).toBe(now.body.request.id);
    const hb2 = await a.client.heartbeat({
      hostname: 'db1',
      os: 'linux',
      version: '0.1.0',
      tools: [],
      publicKey: a.pair.publicKey,
    });
    expect(hb2.backupRequests.map((r) => r.id)).toEqual([now.body.request.id]);

    const bytes = randomBytes(8 * MiB + 12345);
    const { backup, partSize } = await uploadBackup(a.client, a.database.id, bytes, {
      requestId: now.body.request.id,
      agentId: a.agent.id,
    });
    expect(partSize).toBe(8 * MiB);
    expect(backup.status).toBe('succeeded');
    expect(backup.sizeBytes).toBe(bytes.length);
    expect(backup.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(backup.fileName).toMatch(/^backup-shop-\d{4}-\d{2}-\d{2}\.resistro$/);
    const hb3 = await a.client.heartbeat({
      hostname: 'db1',
      os: 'linux',
      version: '0.1.0',
      tools: [],
      publicKey: a.pair.publicKey,
    });
    expect(hb3.backupRequests).toEqual([]);

    const [obj] = await sql('select object_key from backups where id = $1', [backup.id]);
    expect(obj.object_key).toBe(`accounts/${a.account.id}/databases/${a.database.id}/${backup.id}.resistro`);
    const account = await a.session.json('/account');
    expect(account.body.account.usage.storageBytes).toBe(bytes.length);
    const db = await a.session.json(`/databases/${a.database.id}`);
    expect(db.body.database.status).toBe('active');
    expect(db.body.database.lastSuccessAt).toBe(backup.startedAt);

    const list = await a.session.json('/backups');
    expect(list.body.items.map((b: { id: string }) => b.id)).toEqual([backup.id]);

    const dl = await a.session.json(`/backups/${backup.id}/download`);
    expect(dl.status).toBe(200);
    expect(dl.body.fileName).toBe(backup.fileName);
    const res = await fetch(dl.body.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain(backup.fileName);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);

    // The URL stops working after its expiry (15 s in the test stack: long enough for a busy browser test).
    await new Promise((r) => setTimeout(r, 16_500));
    const expired = await fetch(dl.body.url);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('expired');
  });

  it('refuses a part URL whose signature was altered', async () => {
    const a = await accountWithDatabase();
    const { backup } = await a.client.startBackup({ databaseId: a.database.id, trigger: 'manual' });
    const checksum = createHash('sha256').update('x').digest('base64');
    const { parts } = await a.client.partUrls(backup.id, [{ partNumber: 1, checksum }]);
    const url = new URL(parts[0]!.url);
    const otherKey = url.pathname.replace(backup.id, '00000000-0000-4000-8000-000000000000');
    const forged = `${url.origin}${otherKey}${url.search}`;
    expect((await fetch(forged, { method: 'PUT', body: 'x' })).status).toBe(403);
    const sig = url.searchParams.get('X-Amz-Signature')!;
    url.searchParams.set('X-Amz-Signature', sig.replace(/^./, sig[0] === 'a' ? 'b' : 'a'));
    expect((await fetch(url, { method: 'PUT', body: 'x' })).status).toBe(403);
  });

  it('marks a backup failed when the stored size differs from the reported one', async () => {
    const a = await accountWithDatabase();
    const { backup, upload } = await a.client.startBackup({ databaseId: a.database.id, trigger: 'manual' });
    const parts = await putParts(a.client, backup.id, upload, new Uint8Array(randomBytes(1000)));
    const r = await a.client
      .completeBackup(backup.id, {
        parts,
        sizeBytes: 1001,
        sha256: 'a'.repeat(64),
        keyId: 'abcdef0123456789',
      })
      .catch((e) => e);
    expect(r.code).toBe('conflict');
    const [row] = await sql('select status, error from backups where id = $1', [backup.id]);
    expect(row.status).toBe('failed');
    expect(row.error).toContain('1000');
    expect((await a.session.json('/account')).body.account.usage.storageBytes).toBe(0);
  });

  it('refuses a completion whose parts do not cover the size', async () => {
    const a = await accountWithDatabase();
    const { backup } = await a.client.startBackup({ databaseId: a.database.id, trigger: 'manual' });
    const r = await a.client
      .completeBackup(backup.id, {
        parts: [{ partNumber: 1, etag: '"x"' }],
        sizeBytes: 20 * MiB,
        sha256: 'a'.repeat(64),
        keyId: 'abcdef0123456789',
      })
      .catch((e) => e);
    expect(r.status).toBe(422);
    expect(r.fields.parts).toContain('1..3');
  });

  it('stores a reported failure with its error, aborts the upload and shows the database as failing', async () => {
    const a = await accountWithDatabase();
    const { backup } = await a.client.startBackup({ databaseId: a.database.id, trigger: 'schedule' });
    const upload = await backupUpload(backup.id);
    expect(await uploadIsOpen(upload)).toBe(true);
    const failed = await a.client.failBackup(backup.id, {
      error: 'pg_dump: error: connection refused',
      durationMs: 42,
    });
    expect(failed.backup.status).toBe('failed');
    expect(failed.backup.error).toBe('pg_dump: error: connection refused');
    const [row] = await sql('select upload_id from backups where id = $1', [backup.id]);
    expect(row.upload_id).toBeNull();
    // Aborted on the storage too, not only forgotten: its parts are deleted.
    expect(await uploadIsOpen(upload)).toBe(false);
    const db = (await a.session.json(`/databases/${a.database.id}`)).body.database;
    expect(db.status).toBe('error');
    expect(db.lastError).toContain('connection refused');
    // A finished backup cannot be completed or failed again, and is not downloadable.
    expect((await a.client.failBackup(backup.id, { error: 'again' }).catch((e) => e)).code).toBe('conflict');
    expect((await a.session.json(`/backups/${backup.id}/download`)).status).toBe(409);
  });

  it('fails a backup left running past its deadline', async () => {
    const a = await accountWithDatabase();
    const { backup } = await a.client.startBackup({ databaseId: a.database.id, trigger: 'schedule' });
    const upload = await backupUpload(backup.id);
    await runCron();
    expect((await sql('select status from backups where id = $1', [backup.id]))[0].status).toBe('running');
    await sql(`update backups set deadline_at = now() - interval '1 minute' where id = $1`, [backup.id]);
    await runCron();
    const [row] = await sql('select status, error, upload_id from backups where id = $1', [backup.id]);
    expect(row.status).toBe('failed');
    expect(row.error).toMatch(/deadline/);
    expect(row.upload_id).toBeNull();
    expect(await uploadIsOpen(upload)).toBe(false);
    expect((await a.client.partUrls(backup.id, [1]).catch((e) => e)).code).toBe('conflict');
  });

  it('lists backups newest first with filters and a cursor that never repeats or skips', async () => {
    const a = await accountWithDatabase();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const startedAt = new Date(Date.now() - (10 - i) * 3600_000).toISOString();
      const { backup } = await a.client.startBackup({
        databaseId: a.database.id,
        trigger: 'schedule',
        startedAt,
      });
      if (i % 2 === 0) await a.client.failBackup(backup.id, { error: 'x' });
      ids.push(backup.id);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await a.session.json(`/backups?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((b: { id: string }) => b.id));
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const failed = await a.session.json(`/backups?status=failed&databaseId=${a.database.id}`);
    expect(failed.body.items).toHaveLength(3);
    const from = new Date(Date.now() - 7.5 * 3600_000).toISOString();
    const recent = await a.session.json(`/backups?from=${encodeURIComponent(from)}`);
    expect(recent.body.items.map((b: { id: string }) => b.id)).toEqual(ids.slice(3).reverse());
    expect((await a.session.json('/backups?cursor=bm9wZQ')).status).toBe(422);
  });

  it('pages by an index scan on (account, started_at, id), never by sorting all rows', async () => {
    const a = await accountWithDatabase();
    await sql(
      `insert into backups (account_id, database_id, database_name, status, trigger, object_key, part_size, started_at, deadline_at)
       select $1, $2, 'shop', 'failed', 'schedule', 'k' || g, 8388608, now() - g * interval '1 minute', now()
       from generate_series(1, 5000) g`,
      [a.account.id, a.database.id],
    );
    await sql('analyze backups');
    const page = await a.session.json('/backups?limit=50');
    const cursor: string = page.body.nextCursor;
    const { t, id } = JSON.parse(Buffer.from(cursor, 'base64').toString());
    const plan = await sql(
      `explain select * from backups where account_id = $1 and (started_at, id) < ($2::timestamptz, $3::uuid)
       order by started_at desc, id desc limit 51`,
      [a.account.id, t, id],
    );
    const text = plan.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toContain('backups_account_started_idx');
    expect(text).not.toMatch(/Sort/);
  });

  it('deletes a backup from storage and frees its bytes exactly once', async () => {
    const a = await accountWithDatabase();
    const one = await uploadBackup(a.client, a.database.id, randomBytes(3000));
    const two = await uploadBackup(a.client, a.database.id, randomBytes(5000));
    expect((await a.session.json('/account')).body.account.usage.storageBytes).toBe(8000);
    const dl = await a.session.json(`/backups/${one.backup.id}/download`);
    const [first, second] = await Promise.all([
      a.session.fetch(`/backups/${one.backup.id}`, { method: 'DELETE' }),
      a.session.fetch(`/backups/${one.backup.id}`, { method: 'DELETE' }),
    ]);
    expect([first.status, second.status].sort()).toEqual([204, 404].sort((x, y) => x - y));
    expect((await a.session.json('/account')).body.account.usage.storageBytes).toBe(5000);
    expect((await fetch(dl.body.url)).status).toBe(404);
    expect(two.backup.status).toBe('succeeded');
  });
});

describe('plan limits', () => {
  it('allows one database on Starter and names the limit', async () => {
    const a = await accountWithDatabase({ plan: 'starter' });
    const r = await a.session.json('/databases', {
      method: 'POST',
      json: {
        name: 'Second',
        engine: 'mysql',
        host: 'localhost',
        database: 'crm',
        user: 'root',
        credentials: { mode: 'local' },
        schedule: { kind: 'cron', expression: '0 */6 * * *', timezone: 'UTC' },
        agentId: a.agent.id,
      },
    });
    expect(r.status).toBe(402);
    expect(r.body.error.code).toBe('plan_limit');
    expect(r.body.error.message).toContain('Starter');
  });

  it('bounds retention by the plan and defaults it to the plan maximum', async () => {
    const a = await accountWithDatabase({ plan: 'starter' });
    expect(a.database.retentionDays).toBe(7);
    expect(a.database.port).toBe(5432);
    const r = await a.session.json(`/databases/${a.database.id}`, {
      method: 'PATCH',
      json: { retentionDays: 8 },
    });
    expect(r.status).toBe(402);
    expect(r.body.error.fields.retentionDays).toContain('7');
    const ok = await a.session.json(`/databases/${a.database.id}`, {
      method: 'PATCH',
      json: { retentionDays: 3 },
    });
    expect(ok.body.database.retentionDays).toBe(3);
  });

  it('refuses new backups once the storage quota is used up', async () => {
    const a = await accountWithDatabase({ plan: 'starter' });
    await sql('update accounts set storage_used_bytes = 5000000000 where id = $1', [a.account.id]);
    const r = await a.client.startBackup({ databaseId: a.database.id, trigger: 'schedule' }).catch((e) => e);
    expect(r.status).toBe(402);
    expect(r.code).toBe('quota_exceeded');
  });

  it('uses part sizes that fit the whole quota into 10,000 parts', async () => {
    const { session } = await signup({ plan: 'enterprise' });
    const key = await createKey(session, 'full');
    const c = keyClient(key);
    const { generateAgentKeyPair } = await import('@resistro/contract');
    const pair = await generateAgentKeyPair();
    const hb = await c.heartbeat({
      hostname: 'big',
      os: 'linux',
      version: '1',
      tools: [],
      publicKey: pair.publicKey,
    });
    const { database } = await c.createDatabase({
      name: 'Big',
      engine: 'mariadb',
      host: 'db',
      database: 'big',
      user: 'u',
      credentials: { mode: 'sealed', sealedPassword: await sealToAgent(pair.publicKey, 'pw') },
      schedule: { kind: 'daily', time: '03:30', timezone: 'UTC' },
      agentId: hb.agent.id,
    });
    expect(database.port).toBe(3306);
    const { upload } = await c.startBackup({ databaseId: database.id, trigger: 'manual' });
    expect(upload.partSize * 10_000).toBeGreaterThanOrEqual(1000 ** 4);
  });
});
