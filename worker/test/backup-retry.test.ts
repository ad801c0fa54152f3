// Completing and failing a backup are safe to retry whatever step failed (storage first, the row
// last), and no number the contract accepts can fail the row update. The halfway failure is real:
// a trigger makes PostgreSQL refuse the row update once, after storage already completed or
// aborted the upload, as a database outage at that moment would.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { putParts, sql, stackInfo } from '../../scripts/test/api.ts';
import { type Client, failedBackup, newAccount } from './cron-fixtures.ts';

/** Makes every UPDATE of this backup's row fail until the returned function is called. */
async function refuseRowUpdates(backupId: string): Promise<() => Promise<void>> {
  const name = `resistro_test_refuse_${backupId.replaceAll('-', '')}`;
  await sql(`create function ${name}() returns trigger language plpgsql as $$
    begin raise exception 'simulated outage during the row update'; end $$`);
  await sql(
    `create trigger ${name} before update on backups for each row
     when (old.id = '${backupId}'::uuid) execute function ${name}()`,
  );
  return async () => {
    await sql(`drop trigger ${name} on backups`);
    await sql(`drop function ${name}()`);
  };
}

/** A started backup whose one part is uploaded; returns what /complete needs. */
async function uploaded(client: Client, databaseId: string, size = 3000) {
  const bytes = randomBytes(size);
  const { backup, upload } = await client.startBackup({ databaseId, trigger: 'manual' });
  const parts = await putParts(client, backup.id, upload, bytes);
  return {
    backup,
    body: {
      parts,
      sizeBytes: size,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      keyId: 'a1b2c3d4e5f60718',
      durationMs: 5000,
    },
  };
}

const row = async (id: string) =>
  (await sql('select status, upload_id, duration_ms, size_bytes from backups where id = $1', [id]))[0];
const usage = async (accountId: string) =>
  Number((await sql('select storage_used_bytes as n from accounts where id = $1', [accountId]))[0].n);

describe('completing and failing a backup, retried', () => {
  it('refuses a duration its column cannot hold before touching storage, and completes afterwards', async () => {
    const acct = await newAccount();
    const { backup, body } = await uploaded(acct.client, acct.databases[0]!.id);
    for (const durationMs of [2 ** 31, 2 ** 53, -1, 1.5]) {
      const r = await acct.client.completeBackup(backup.id, { ...body, durationMs }).catch((e) => e);
      expect(r.status).toBe(422);
      expect(r.fields.durationMs).toBeTruthy();
      const f = await acct.client.failBackup(backup.id, { error: 'x', durationMs }).catch((e) => e);
      expect(f.status).toBe(422);
      expect(f.fields.durationMs).toBeTruthy();
    }
    expect((await row(backup.id)).status).toBe('running');
    const done = await acct.client.completeBackup(backup.id, { ...body, durationMs: 2 ** 31 - 1 });
    expect(done.backup).toMatchObject({
      status: 'succeeded',
      durationMs: 2 ** 31 - 1,
      sizeBytes: body.sizeBytes,
    });
  });

  it('completes on retry when storage assembled the object but the row update failed', async () => {
    const acct = await newAccount();
    const { backup, body } = await uploaded(acct.client, acct.databases[0]!.id);
    const allow = await refuseRowUpdates(backup.id);
    try {
      const first = await acct.client.completeBackup(backup.id, body).catch((e) => e);
      expect(first.status).toBeGreaterThanOrEqual(500);
    } finally {
      await allow();
    }
    // Storage holds the assembled object and no longer knows the upload; the row still runs.
    expect(await row(backup.id)).toMatchObject({ status: 'running', upload_id: expect.any(String) });
    expect(await usage(acct.accountId)).toBe(0);

    const retried = await acct.client.completeBackup(backup.id, body);
    expect(retried.backup).toMatchObject({
      status: 'succeeded',
      sizeBytes: body.sizeBytes,
      sha256: body.sha256,
    });
    expect(await row(backup.id)).toMatchObject({ status: 'succeeded', upload_id: null });
    expect(await usage(acct.accountId)).toBe(body.sizeBytes);
    // The file downloads: it is the object the first try assembled.
    const dl = await acct.session.json(`/backups/${backup.id}/download`);
    const file = Buffer.from(await (await fetch(dl.body.url)).arrayBuffer());
    expect(createHash('sha256').update(file).digest('hex')).toBe(body.sha256);

    // A completion sent again (its answer was lost) gets the same backup; the usage counts it once.
    const again = await acct.client.completeBackup(backup.id, body);
    expect(again.backup.id).toBe(backup.id);
    expect(again.backup.status).toBe('succeeded');
    expect(await usage(acct.accountId)).toBe(body.sizeBytes);
    // Another file reported for the same backup is a conflict, not a second success.
    const other = await acct.client
      .completeBackup(backup.id, { ...body, sha256: 'b'.repeat(64) })
      .catch((e) => e);
    expect(other.code).toBe('conflict');
  });

  it('does not complete from an upload that is gone without its object', async () => {
    const acct = await newAccount();
    const { backup, body } = await uploaded(acct.client, acct.databases[0]!.id);
    // Storage forgot the upload (aborted behind the control plane's back): nothing to accept.
    const [r] = await sql('select object_key, upload_id from backups where id = $1', [backup.id]);
    const { AwsClient } = await import('aws4fetch');
    const { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } = await import('../../scripts/stack/s3.ts');
    const s3 = new AwsClient({
      accessKeyId: S3_ACCESS_KEY_ID,
      secretAccessKey: S3_SECRET_ACCESS_KEY,
      service: 's3',
      region: 'us-east-1',
    });
    const key = String(r.object_key).split('/').map(encodeURIComponent).join('/');
    const abort = await s3.fetch(
      `${stackInfo().s3Url}/${stackInfo().bucket}/${key}?uploadId=${r.upload_id}`,
      {
        method: 'DELETE',
      },
    );
    expect(abort.status).toBe(204);
    const refused = await acct.client.completeBackup(backup.id, body).catch((e) => e);
    expect(refused.code).toBe('conflict');
    expect(refused.message).toContain('NoSuchUpload');
    expect((await row(backup.id)).status).toBe('running');
    expect(await usage(acct.accountId)).toBe(0);
  });

  it('fails on retry when storage aborted the upload but the row update failed', async () => {
    const acct = await newAccount();
    const { backup } = await uploaded(acct.client, acct.databases[0]!.id);
    const allow = await refuseRowUpdates(backup.id);
    try {
      const first = await acct.client.failBackup(backup.id, { error: 'pg_dump: disk full' }).catch((e) => e);
      expect(first.status).toBeGreaterThanOrEqual(500);
    } finally {
      await allow();
    }
    expect((await row(backup.id)).status).toBe('running');
    const retried = await acct.client.failBackup(backup.id, { error: 'pg_dump: disk full' });
    expect(retried.backup).toMatchObject({ status: 'failed', error: 'pg_dump: disk full' });
    expect(await row(backup.id)).toMatchObject({ status: 'failed', upload_id: null });
    // Sent again with the same error (its answer was lost): the same backup.
    const again = await acct.client.failBackup(backup.id, { error: 'pg_dump: disk full' });
    expect(again.backup).toMatchObject({ id: backup.id, status: 'failed' });
  });
});

describe('the failure counter', () => {
  it('never goes down when the user deletes a failed backup in the dashboard', async () => {
    const acct = await newAccount();
    const db = acct.databases[0]!;
    const failed = await failedBackup(acct.client, db.id, 'boom');
    await failedBackup(acct.client, db.id, 'boom again');
    const token = (await acct.session.json('/metrics-token', { method: 'POST' })).body.secret;
    const failures = async () => {
      const text = await (
        await fetch(`${stackInfo().url}/api/v1/metrics`, { headers: { authorization: `Bearer ${token}` } })
      ).text();
      const line = text
        .split('\n')
        .find((l) => l.startsWith('resistro_backup_failures_total{') && l.includes(db.id));
      return Number(line?.split(' ').at(-1));
    };
    expect(await failures()).toBe(2);
    const del = await acct.session.json(`/backups/${failed.id}`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect((await acct.session.json(`/backups/${failed.id}`)).status).toBe(404);
    expect(await failures()).toBe(2);
  });
});
