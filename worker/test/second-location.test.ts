// The account's second storage location (issue 18) against real S3 servers: a bucket at the same
// provider gets server-side copies (UploadPartCopy), each read back and verified; "monthly" takes
// only the first good backup of each month; a copy deleted with its backup; a transfer that keeps
// failing ends as `failed` with an alert in the account's language; and the settings refuse what
// they must (plan, unreachable bucket, the primary bucket itself), never returning the secret.
import { createHash, randomBytes } from 'node:crypto';
import { AwsClient } from 'aws4fetch';
import { describe, expect, inject, it } from 'vitest';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import { signup, sql, stackInfo, uploadBackup as uploadBytes } from '../../scripts/test/api.ts';
import { ageBackup, newAccount, objectKeyOf, openAlerts, runCronAt, uploadBackup } from './cron-fixtures.ts';

const aws = new AwsClient({
  accessKeyId: S3_ACCESS_KEY_ID,
  secretAccessKey: S3_SECRET_ACCESS_KEY,
  service: 's3',
  region: 'us-east-1',
});

const sameProvider = (copies: 'all' | 'monthly') => ({
  endpoint: inject('stack').s3Url,
  region: 'us-east-1',
  bucket: inject('stack').peerBucket,
  accessKeyId: S3_ACCESS_KEY_ID,
  secretAccessKey: S3_SECRET_ACCESS_KEY,
  copies,
});

async function copyOf(backupId: string) {
  const [row] = await sql(
    'select status, method, checksum, attempts, error from backup_copies where backup_id = $1',
    [backupId],
  );
  return row;
}

async function peerObject(key: string) {
  const res = await aws.fetch(`${inject('stack').s3Url}/${inject('stack').peerBucket}/${key}`);
  if (res.status === 404) return undefined;
  expect(res.status).toBe(200);
  return createHash('sha256')
    .update(Buffer.from(await res.arrayBuffer()))
    .digest('hex');
}

describe('a second storage location', () => {
  it('at the same provider gets verified server-side copies, and loses a copy with its backup', async () => {
    const acct = await newAccount({ plan: 'enterprise' });
    const database = acct.databases[0]!;
    const put = await acct.session.json('/storage-location', { method: 'PUT', json: sameProvider('all') });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.location).toMatchObject({ method: 'server_copy', copies: 'all', objectLock: true });
    expect(JSON.stringify(put.body)).not.toContain('secretAccessKey');
    // two parts' worth, so that the copy is made part by part
    const { backup } = await uploadBytes(
      acct.client,
      database.id,
      new Uint8Array(randomBytes(9 * 1024 * 1024)),
    );
    await runCronAt(new Date());
    expect(await copyOf(backup.id)).toMatchObject({
      status: 'copied',
      method: 'server_copy',
      checksum: backup.sha256,
    });
    const key = objectKeyOf(acct.accountId, database.id, backup.id);
    expect(await peerObject(key)).toBe(backup.sha256);
    // the audit export names the copy
    const csv = await acct.session.fetch(`/databases/${database.id}/audit-export?format=csv`);
    expect(await csv.text()).toContain('copied');

    expect((await acct.session.json(`/backups/${backup.id}`, { method: 'DELETE' })).status).toBe(204);
    await runCronAt(new Date());
    expect(await peerObject(key)).toBeUndefined();
    expect(await copyOf(backup.id)).toBeUndefined();
  });

  it('with monthly copies takes only the first good backup of each month', async () => {
    // kept 90 days, so that last month's backup is not deleted by retention before it is copied
    const acct = await newAccount({ plan: 'enterprise', retentionDays: 90 });
    const database = acct.databases[0]!;
    expect(
      (await acct.session.json('/storage-location', { method: 'PUT', json: sameProvider('monthly') })).status,
    ).toBe(200);
    const lastMonth = await uploadBackup(acct.client, database.id, 1000);
    // the account's time zone decides the month; 40 days back is another month in any zone
    await ageBackup(lastMonth.id, new Date(Date.now() - 40 * 86400_000));
    const first = await uploadBackup(acct.client, database.id, 1000);
    const second = await uploadBackup(acct.client, database.id, 1000);
    await runCronAt(new Date());
    expect((await copyOf(lastMonth.id))?.status).toBe('copied');
    expect((await copyOf(first.id))?.status).toBe('copied');
    expect(await copyOf(second.id)).toBeUndefined();
  });

  it('marks a transfer that keeps failing as failed and alerts in the account’s language', async () => {
    const acct = await newAccount({ plan: 'business' });
    await acct.session.json('/account', { method: 'PATCH', json: { language: 'de' } });
    const database = acct.databases[0]!;
    const stack = inject('stack');
    const put = await acct.session.json('/storage-location', {
      method: 'PUT',
      json: { ...sameProvider('all'), endpoint: stack.s3CopyUrl, bucket: stack.copyBucket },
    });
    expect(put.body.location.method).toBe('transfer');
    const backup = await uploadBackup(acct.client, database.id, 1000);
    await runCronAt(new Date());
    // the agent is told to copy it
    const work = await acct.heartbeat();
    expect(work.copyRequests).toEqual([{ backupId: backup.id }]);
    for (let i = 1; i <= 3; i++) {
      const plan = await acct.client.startCopy(backup.id);
      expect(plan).toMatchObject({ sizeBytes: 1000, sha256: backup.sha256 });
      // a copy whose bytes are not the backup's is refused, never counted as copied
      const { copy } = await acct.client.failCopy(backup.id, 'network down');
      expect(copy.status).toBe(i < 3 ? 'pending' : 'failed');
    }
    expect(await copyOf(backup.id)).toMatchObject({ status: 'failed', attempts: 3 });
    expect((await acct.heartbeat()).copyRequests).toEqual([]);
    await runCronAt(new Date());
    const alerts = await openAlerts(acct.accountId);
    expect(alerts.map((a: { kind: string }) => a.kind)).toContain('copy_failed');
    const listed = (await acct.session.json('/alerts?kind=copy_failed')).body.items;
    expect(listed[0]).toMatchObject({ severity: 'warning', subject: { name: 'Zweiter Speicherort' } });
    expect(listed[0].title).toContain(stack.copyBucket);
    expect(listed[0].detail).toContain('fehlgeschlagen');
  });

  it('refuses a completed transfer whose checksum is not the backup’s', async () => {
    const acct = await newAccount({ plan: 'business' });
    const database = acct.databases[0]!;
    const stack = inject('stack');
    await acct.session.json('/storage-location', {
      method: 'PUT',
      json: { ...sameProvider('all'), endpoint: stack.s3CopyUrl, bucket: stack.copyBucket },
    });
    const backup = await uploadBackup(acct.client, database.id, 1000);
    await runCronAt(new Date());
    const plan = await acct.client.startCopy(backup.id);
    // other bytes of the same size, with their own (correct) part checksum: storage takes them,
    // the control plane must not
    const other = crypto.getRandomValues(new Uint8Array(1000));
    const checksum = createHash('sha256').update(other).digest('base64');
    const { parts } = await acct.client.copyPartUrls(backup.id, [{ partNumber: 1, checksum }]);
    const sent = await fetch(parts[0]!.url, {
      method: 'PUT',
      body: other,
      headers: { 'x-amz-checksum-sha256': checksum },
    });
    expect(sent.status).toBe(200);
    const { copy } = await acct.client.completeCopy(backup.id, {
      parts: [{ partNumber: 1, etag: sent.headers.get('etag')!, checksum }],
      sha256: plan.sha256,
    });
    expect(copy.status).toBe('pending');
    expect(copy.error).toMatch(/checksum/);
    expect(await copyOf(backup.id)).toMatchObject({ status: 'pending', checksum: null });
  });

  it('is a Business feature, must be writable and another bucket, and never returns its secret', async () => {
    const starter = await signup({ plan: 'starter' });
    const refused = await starter.session.json('/storage-location', {
      method: 'PUT',
      json: sameProvider('all'),
    });
    expect(refused.status).toBe(402);
    expect(refused.body.error.code).toBe('plan_limit');

    const acct = await newAccount({ plan: 'business' });
    const unreachable = await acct.session.json('/storage-location', {
      method: 'PUT',
      json: { ...sameProvider('all'), endpoint: 'http://127.0.0.1:9' },
    });
    expect(unreachable.status).toBe(422);
    expect(unreachable.body.error.fields).toHaveProperty('bucket');
    const wrongKey = await acct.session.json('/storage-location', {
      method: 'PUT',
      json: { ...sameProvider('all'), secretAccessKey: 'not-the-secret' },
    });
    expect(wrongKey.status).toBe(422);
    const primary = await acct.session.json('/storage-location', {
      method: 'PUT',
      json: { ...sameProvider('all'), bucket: stackInfo().bucket },
    });
    expect(primary.status).toBe(422);
    expect((await acct.session.json('/storage-location')).body).toEqual({ location: null });

    expect(
      (await acct.session.json('/storage-location', { method: 'PUT', json: sameProvider('all') })).status,
    ).toBe(200);
    const got = await acct.session.json('/storage-location');
    expect(got.body.location).toMatchObject({
      bucket: inject('stack').peerBucket,
      accessKeyIdPrefix: 'S3RV…',
    });
    expect(Object.keys(got.body.location)).not.toContain('secretAccessKey');
    expect((await acct.session.json('/storage-location', { method: 'DELETE' })).status).toBe(204);
    expect((await acct.session.json('/storage-location')).body).toEqual({ location: null });
    expect((await acct.session.json('/storage-location', { method: 'DELETE' })).status).toBe(404);
  });
});
