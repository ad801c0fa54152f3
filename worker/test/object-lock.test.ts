// Immutable backups: a database locked by its rule stores each backup with S3 Object Lock in
// compliance mode (every backup for 30 days, the first of each month for ten years), the API
// shows the date, and nothing deletes a locked backup before it: not the dashboard, not an API
// key, not retention, not the purge of a closed account, and not the S3 server.
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { AwsClient } from 'aws4fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import { createKey, sql, stackInfo } from '../../scripts/test/api.ts';
import { startIsolatedControlPlane } from '../../scripts/test/isolated.ts';
import { ageBackups, daysAgo, newAccount, objectKeyOf, runCronAt, uploadBackup } from './cron-fixtures.ts';

const DAY = 86400_000;
const aws = new AwsClient({
  accessKeyId: S3_ACCESS_KEY_ID,
  secretAccessKey: S3_SECRET_ACCESS_KEY,
  service: 's3',
  region: 'us-east-1',
});
const objectUrl = (key: string) => `${stackInfo().s3Url}/${stackInfo().bucket}/${key}`;

/** As docs/object-lock.md tells an auditor: Ed25519 over the SHA-256 of the payload's UTF-8 bytes. */
const verifyExport = (payload: string, key: KeyObject, sig: Buffer) =>
  verify(null, createHash('sha256').update(payload, 'utf8').digest(), key, sig);

describe('object lock', () => {
  let isolated: Awaited<ReturnType<typeof startIsolatedControlPlane>>;
  beforeAll(async () => {
    isolated = await startIsolatedControlPlane('object_lock');
  }, 90_000);
  afterAll(() => isolated?.stop());

  it('locks every backup for 30 days and the first of the month for 10 years; no path deletes it before its date', async () => {
    const acct = await newAccount({ plan: 'enterprise' });
    const database = acct.databases[0]!;
    const rule = await acct.session.json(`/databases/${database.id}/retention`, {
      method: 'PUT',
      json: { tiers: null, objectLock: { all: 30, monthly: 3650 } },
    });
    expect(rule.status).toBe(200);
    expect(rule.body.rule).toMatchObject({
      objectLock: { all: 30, monthly: 3650 },
      objectLockAvailable: true,
    });

    const first = await uploadBackup(acct.client, database.id, 1000);
    const second = await uploadBackup(acct.client, database.id, 1000);
    const startedFirst = Date.parse(first.startedAt);
    const startedSecond = Date.parse(second.startedAt);
    // the first good backup of the month: ten years; the second: the 30 days of every backup
    expect(Date.parse(first.lockedUntil!)).toBe(startedFirst + 3650 * DAY);
    expect(Date.parse(second.lockedUntil!)).toBe(startedSecond + 30 * DAY);
    for (const b of [first, second]) {
      const listed = (await acct.session.json(`/backups/${b.id}`)).body.backup;
      expect(listed.lockedUntil).toBe(b.lockedUntil);
      const retention = await aws.fetch(
        `${objectUrl(objectKeyOf(acct.accountId, database.id, b.id))}?retention`,
      );
      const text = await retention.text();
      expect(text).toContain('<Mode>COMPLIANCE</Mode>');
      expect(text).toContain(`<RetainUntilDate>${b.lockedUntil}</RetainUntilDate>`);
    }

    // the dashboard (a session) and the API (a full-scope key) are refused with the date
    const bySession = await acct.session.json(`/backups/${second.id}`, { method: 'DELETE' });
    expect(bySession.status).toBe(409);
    expect(bySession.body.error.message).toContain(second.lockedUntil);
    const key = await createKey(acct.session, 'full');
    const byKey = await fetch(`${stackInfo().url}/api/v1/backups/${first.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(byKey.status).toBe(409);
    await byKey.arrayBuffer();
    // the S3 server itself refuses
    const direct = await aws.fetch(objectUrl(objectKeyOf(acct.accountId, database.id, first.id)), {
      method: 'DELETE',
    });
    expect(direct.status).toBe(403);
    expect(await direct.text()).toContain('<Code>AccessDenied</Code>');

    // retention: both are long expired under 1 day of retention, a newer good backup exists
    await sql('update databases set retention_days = 1 where id = $1', [database.id]);
    await ageBackups([
      [first.id, daysAgo(20)],
      [second.id, daysAgo(19)],
    ]);
    // a rule without `all` holds for new backups only: the locks already given stay
    await acct.session.json(`/databases/${database.id}/retention`, {
      method: 'PUT',
      json: { tiers: null, objectLock: { yearly: 3650 } },
    });
    const newest = await uploadBackup(acct.client, database.id, 500);
    expect(newest.lockedUntil).toBeNull();
    const preview = await acct.session.json(`/databases/${database.id}/retention/preview`, {
      method: 'POST',
      json: { tiers: null },
    });
    expect(preview.body).toMatchObject({ deletedCount: 0, lockedCount: 2 });
    await runCronAt(new Date());
    const left = async () =>
      (await sql<{ id: string }>('select id from backups where database_id = $1', [database.id])).map(
        (r) => r.id,
      );
    expect((await left()).sort()).toEqual([first.id, second.id, newest.id].sort());

    // the purge of the closed account removes what it may and keeps the locked ones and the account
    await sql(
      `insert into account_closings (account_id, reason, requested_at, effective_at, purge_at)
       values ($1, 'cancelled', now() - interval '40 days', now() - interval '31 days', now() - interval '1 minute')`,
      [acct.accountId],
    );
    await runCronAt(new Date());
    expect((await left()).sort()).toEqual([first.id, second.id].sort());
    expect(await sql('select 1 from accounts where id = $1', [acct.accountId])).toHaveLength(1);
    for (const b of [first, second]) {
      const head = await aws.fetch(objectUrl(objectKeyOf(acct.accountId, database.id, b.id)), {
        method: 'HEAD',
      });
      expect(head.status).toBe(200);
    }
  });

  it('rejects lock days that are not a whole number of days from 1', async () => {
    const acct = await newAccount({ plan: 'business' });
    const r = await acct.session.json(`/databases/${acct.databases[0]!.id}/retention`, {
      method: 'PUT',
      json: { tiers: null, objectLock: { monthly: 0 } },
    });
    expect(r.status).toBe(422);
    expect(r.body.error.fields).toHaveProperty('objectLock.monthly');
  });

  it('exports every backup with dates, checksums and lock as CSV and as JSON whose Ed25519 signature verifies', async () => {
    const acct = await newAccount({ plan: 'enterprise' });
    const database = acct.databases[0]!;
    await acct.session.json(`/databases/${database.id}/retention`, {
      method: 'PUT',
      json: { tiers: null, objectLock: { all: 7 } },
    });
    const good = await uploadBackup(acct.client, database.id, 300);
    const csv = await acct.session.fetch(`/databases/${database.id}/audit-export?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe(
      'id,status,trigger,startedAt,finishedAt,sizeBytes,sha256,storageChecksum,lockMode,lockedUntil,copyStatus,copyVerifiedAt',
    );
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`${good.id},succeeded,schedule,${good.startedAt}`);
    // a base64 checksum can start with "+": a spreadsheet must not run it as a formula
    const checksum = good.storageChecksum ?? '';
    const checksumCell = /^[=+\-@]/.test(checksum) ? `'${checksum}` : checksum;
    expect(lines[1]).toContain(`${good.sha256},${checksumCell},COMPLIANCE,${good.lockedUntil},none,`);

    const signed = (await acct.session.json(`/databases/${database.id}/audit-export?format=json`)).body;
    const key = (await acct.session.json('/audit-signing-key')).body;
    expect(signed.format).toBe('resistro-audit-export/2');
    expect(signed.signature).toMatchObject({
      algorithm: 'Ed25519',
      signed: 'sha256(payload)',
      keyId: key.keyId,
    });
    const publicKey = createPublicKey({
      key: Buffer.from(key.publicKey, 'base64'),
      format: 'der',
      type: 'spki',
    });
    const sig = Buffer.from(signed.signature.value, 'base64');
    expect(verifyExport(signed.payload, publicKey, sig)).toBe(true);
    const doc = JSON.parse(signed.payload);
    expect(doc.database.id).toBe(database.id);
    expect(doc.backups).toEqual([
      expect.objectContaining({
        id: good.id,
        sha256: good.sha256,
        lockMode: 'COMPLIANCE',
        lockedUntil: good.lockedUntil,
      }),
    ]);
    // a changed byte no longer verifies
    const forged = signed.payload.replace(good.sha256, 'f'.repeat(64));
    expect(verifyExport(forged, publicKey, sig)).toBe(false);
    const bad = await acct.session.json(`/databases/${database.id}/audit-export?format=xml`);
    expect(bad.status).toBe(422);
  });
  it('streams an export of thousands of backups in keyset batches, every row once, oldest first', async () => {
    const acct = await newAccount({ plan: 'enterprise' });
    const database = acct.databases[0]!;
    const first = await uploadBackup(acct.client, database.id, 300);
    // 2,500 more rows like it (more than two batches of 1,000), minutes apart and some at the same
    // instant, so the keyset (started_at, id) must break ties by id
    await sql(
      `insert into backups
       select (jsonb_populate_record(null::backups, to_jsonb(b) || jsonb_build_object(
         'id', gen_random_uuid(),
         'started_at', b.started_at - make_interval(mins => (g / 2)::int + 1)))).*
       from backups b, generate_series(1, 2500) g where b.id = $1`,
      [first.id],
    );
    const res = await acct.session.fetch(`/databases/${database.id}/audit-export?format=csv`);
    expect(res.status).toBe(200);
    // streamed: no length known up front
    expect(res.headers.get('content-length')).toBeNull();
    const lines = (await res.text()).trim().split('\r\n').slice(1);
    expect(lines).toHaveLength(2501);
    const ids = lines.map((l) => l.split(',')[0]);
    expect(new Set(ids).size).toBe(2501);
    const starts = lines.map((l) => Date.parse(l.split(',')[3]!));
    expect(starts).toEqual([...starts].sort((x, y) => x - y));
    expect(ids.at(-1)).toBe(first.id);

    const signed = (await acct.session.json(`/databases/${database.id}/audit-export?format=json`)).body;
    const key = (await acct.session.json('/audit-signing-key')).body;
    const publicKey = createPublicKey({
      key: Buffer.from(key.publicKey, 'base64'),
      format: 'der',
      type: 'spki',
    });
    expect(verifyExport(signed.payload, publicKey, Buffer.from(signed.signature.value, 'base64'))).toBe(true);
    const doc = JSON.parse(signed.payload);
    expect(doc.backups.map((b: { id: string }) => b.id)).toEqual(ids);
  });
});
