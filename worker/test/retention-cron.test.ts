// Retention in the Workers runtime against the S3 server: exactly the expired objects and rows
// go, the newest good backup of a database stays, a failing database keeps its good backups,
// abandoned uploads are aborted, cancelled accounts go after 30 days, usage stays exact, and two
// overlapping runs delete nothing twice.
//
// The file runs on a control plane of its own (no other file's cron), and each arrangement still
// becomes visible to retention in one statement: backups are uploaded fresh and then aged
// together, seeded objects are written before their rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putParts, sql } from '../../scripts/test/api.ts';
import { startIsolatedControlPlane } from '../../scripts/test/isolated.ts';
import {
  ageBackups,
  daysAgo,
  failedBackup,
  listKeys,
  newAccount,
  objectExists,
  objectKeyOf,
  putObject,
  runCronAt,
  storageExpected,
  storageUsed,
  uploadBackup,
} from './cron-fixtures.ts';

type Account = Awaited<ReturnType<typeof newAccount>>;

async function backupIds(databaseId: string): Promise<string[]> {
  const rows = await sql<{ id: string }>(
    'select id from backups where database_id = $1 order by started_at',
    [databaseId],
  );
  return rows.map((r) => r.id);
}

/** A real backup (object in S3) of `size` bytes, started now; move it back with ageBackups. */
async function freshBackup(acct: Account, databaseId: string, size = 1000) {
  const b = await uploadBackup(acct.client, databaseId, size);
  return { ...b, key: objectKeyOf(acct.accountId, databaseId, b.id) };
}

type Seed = { n: number; days: number; size: number; status?: 'succeeded' | 'failed' };

/** Rows made by SQL, each with a small real object: objects first, then every row and its bytes in one statement. */
async function seedBackups(acct: Account, databaseId: string, groups: Seed[]): Promise<string[][]> {
  const ids = groups.map((g) => Array.from({ length: g.n }, () => crypto.randomUUID()));
  const rows = groups.flatMap((g, i) =>
    ids[i]!.map((id, k) => ({
      id,
      status: g.status ?? 'succeeded',
      size: g.size,
      ageSeconds: g.days * 86400 + k,
    })),
  );
  for (let i = 0; i < rows.length; i += 16) {
    const slice = rows.slice(i, i + 16);
    await Promise.all(
      slice.map((r) => putObject(objectKeyOf(acct.accountId, databaseId, r.id), new Uint8Array(r.size))),
    );
  }
  const bytes = rows.reduce((n, r) => n + (r.status === 'succeeded' ? r.size : 0), 0);
  await sql(
    `with ins as (
       insert into backups (id, account_id, database_id, database_name, status, trigger, object_key, part_size, size_bytes, started_at, finished_at, deadline_at)
       select r.id, $1::uuid, $2::uuid, 'seed', r.status, 'schedule', 'accounts/' || $1::text || '/databases/' || $2::text || '/' || r.id || '.resistro',
              8388608, r.size, now() - make_interval(secs => r.age), now(), now()
       from unnest($3::uuid[], $4::text[], $5::bigint[], $6::double precision[]) as r(id, status, size, age)
       returning 1
     )
     update accounts set storage_used_bytes = storage_used_bytes + $7::bigint where id = $1::uuid`,
    [
      acct.accountId,
      databaseId,
      rows.map((r) => r.id),
      rows.map((r) => r.status),
      rows.map((r) => (r.status === 'succeeded' ? r.size : null)),
      rows.map((r) => r.ageSeconds),
      bytes,
    ],
  );
  return ids;
}

async function setRetention(acct: Account, databaseId: string, days: number) {
  const r = await acct.session.json(`/databases/${databaseId}`, {
    method: 'PATCH',
    json: { retentionDays: days },
  });
  expect(r.status).toBe(200);
}

describe('retention', () => {
  // The cron acts on every account of its control plane; other files' runs on the shared stack
  // would race these checks (rows they hold under SKIP LOCKED, their own clocks): a plane of our own.
  let isolated: Awaited<ReturnType<typeof startIsolatedControlPlane>>;
  beforeAll(async () => {
    isolated = await startIsolatedControlPlane('retention');
  }, 90_000);
  afterAll(() => isolated?.stop());

  it('deletes exactly the expired backups from storage and metadata, keeps the newest good one, and keeps usage exact', async () => {
    const acct = await newAccount({ databases: 2 });
    const [a, b] = acct.databases as [{ id: string; name: string }, { id: string; name: string }];
    await setRetention(acct, a.id, 7);
    await setRetention(acct, b.id, 7);
    const a20 = await freshBackup(acct, a.id, 1100);
    const a10 = await freshBackup(acct, a.id, 1200);
    const aFailed = await failedBackup(acct.client, a.id, 'boom');
    const a5 = await freshBackup(acct, a.id, 1300);
    const a1 = await freshBackup(acct, a.id, 1400);
    const b30 = await freshBackup(acct, b.id, 1500);
    const b20 = await freshBackup(acct, b.id, 1600);
    expect(await storageUsed(acct.accountId)).toBe(1100 + 1200 + 1300 + 1400 + 1500 + 1600);
    // Database b ends up with only expired backups: the newest of them must stay.
    await ageBackups([
      [a20.id, daysAgo(20)],
      [a10.id, daysAgo(10)],
      [aFailed.id, daysAgo(15)],
      [a5.id, daysAgo(5)],
      [a1.id, daysAgo(1)],
      [b30.id, daysAgo(30)],
      [b20.id, daysAgo(20)],
    ]);

    await runCronAt(new Date());

    expect(await backupIds(a.id)).toEqual([a5.id, a1.id]);
    expect(await backupIds(b.id)).toEqual([b20.id]);
    for (const gone of [a20, a10, b30]) expect(await objectExists(gone.key)).toBe(false);
    for (const kept of [a5, a1, b20]) expect(await objectExists(kept.key)).toBe(true);
    expect(await storageUsed(acct.accountId)).toBe(1300 + 1400 + 1600);
    expect(await storageUsed(acct.accountId)).toBe(await storageExpected(acct.accountId));
    expect((await acct.session.json('/account')).body.account.usage.storageBytes).toBe(1300 + 1400 + 1600);

    // The next run finds nothing more to do.
    await runCronAt(new Date());
    expect(await backupIds(a.id)).toEqual([a5.id, a1.id]);
    expect(await storageUsed(acct.accountId)).toBe(1300 + 1400 + 1600);
  });

  it('keeps every successful backup of a failing database until a backup succeeds again', async () => {
    const acct = await newAccount();
    const db = acct.databases[0]!;
    await setRetention(acct, db.id, 7);
    const old = [
      await freshBackup(acct, db.id),
      await freshBackup(acct, db.id),
      await freshBackup(acct, db.id),
    ];
    const broken = await failedBackup(acct.client, db.id, 'FATAL: password authentication failed');
    await ageBackups([
      [old[0]!.id, daysAgo(20)],
      [old[1]!.id, daysAgo(15)],
      [old[2]!.id, daysAgo(10)],
      [broken.id, daysAgo(1)],
    ]);
    await runCronAt(new Date());
    expect(await backupIds(db.id)).toEqual([...old.map((b) => b.id), broken.id]);
    for (const b of old) expect(await objectExists(b.key)).toBe(true);

    const fixed = await uploadBackup(acct.client, db.id, 1000);
    await runCronAt(new Date());
    expect(await backupIds(db.id)).toEqual([broken.id, fixed.id]);
    for (const b of old) expect(await objectExists(b.key)).toBe(false);
    expect(await storageUsed(acct.accountId)).toBe(await storageExpected(acct.accountId));
  });

  it('never keeps backups longer than the plan allows', async () => {
    const acct = await newAccount({ plan: 'business' });
    const db = acct.databases[0]!;
    await setRetention(acct, db.id, 30);
    const b10 = await freshBackup(acct, db.id);
    const b2 = await freshBackup(acct, db.id);
    await ageBackups([
      [b10.id, daysAgo(10)],
      [b2.id, daysAgo(2)],
    ]);
    // Downgraded behind the API's back (the API refuses it while a database keeps 30 days).
    await sql("update accounts set plan = 'starter' where id = $1", [acct.accountId]);
    await runCronAt(new Date());
    expect(await backupIds(db.id)).toEqual([b2.id]);
    expect(await objectExists(b10.key)).toBe(false);
  });

  it('lets the backups of a deleted database expire, the last one included', async () => {
    const acct = await newAccount();
    const db = acct.databases[0]!;
    await setRetention(acct, db.id, 7);
    const b9 = await freshBackup(acct, db.id);
    const b3 = await freshBackup(acct, db.id);
    await ageBackups([
      [b9.id, daysAgo(9)],
      [b3.id, daysAgo(3)],
    ]);
    expect((await acct.session.fetch(`/databases/${db.id}`, { method: 'DELETE' })).status).toBe(204);
    await runCronAt(new Date());
    expect(await backupIds(db.id)).toEqual([b3.id]);
    await ageBackups([[b3.id, daysAgo(8)]]);
    await runCronAt(new Date());
    expect(await backupIds(db.id)).toEqual([]);
    expect(await objectExists(b9.key)).toBe(false);
    expect(await objectExists(b3.key)).toBe(false);
    expect(await storageUsed(acct.accountId)).toBe(0);
  });

  it('deletes each backup once when runs overlap: usage and counters stay exact', async () => {
    const acct = await newAccount({ plan: 'professional' });
    const db = acct.databases[0]!;
    await setRetention(acct, db.id, 7);
    const [, , kept] = (await seedBackups(acct, db.id, [
      { n: 150, days: 10, size: 700 },
      { n: 20, days: 12, size: 10, status: 'failed' },
      { n: 5, days: 1, size: 900 },
    ])) as [string[], string[], string[]];

    const t = new Date();
    await Promise.all([runCronAt(t), runCronAt(t), runCronAt(t)]);

    expect((await backupIds(db.id)).sort()).toEqual([...kept].sort());
    expect(await storageUsed(acct.accountId)).toBe(5 * 900);
    expect(await storageUsed(acct.accountId)).toBe(await storageExpected(acct.accountId));
    const [counter] = await sql('select failures_deleted from database_counters where database_id = $1', [
      db.id,
    ]);
    expect(Number(counter.failures_deleted)).toBe(20);
    const keys = await listKeys(`accounts/${acct.accountId}/databases/${db.id}/`);
    expect(keys.sort()).toEqual(kept.map((id) => objectKeyOf(acct.accountId, db.id, id)).sort());
  });

  it('aborts the upload of an abandoned backup before failing it', async () => {
    const acct = await newAccount();
    const db = acct.databases[0]!;
    const { backup, upload } = await acct.client.startBackup({ databaseId: db.id, trigger: 'schedule' });
    await putParts(acct.client, backup.id, upload, new Uint8Array(100));
    await sql("update backups set deadline_at = now() - interval '1 minute' where id = $1", [backup.id]);
    await runCronAt(new Date());
    const [row] = await sql('select status, upload_id, error from backups where id = $1', [backup.id]);
    expect(row).toMatchObject({
      status: 'failed',
      upload_id: null,
      error: expect.stringContaining('before its deadline'),
    });
    const [d] = await sql('select last_status from databases where id = $1', [db.id]);
    expect(d.last_status).toBe('failed');
    // The agent can no longer complete it.
    const late = acct.client.completeBackup(backup.id, {
      parts: [{ partNumber: 1, etag: 'x' }],
      sizeBytes: 100,
      sha256: 'a'.repeat(64),
      keyId: 'a1b2c3d4',
    });
    await expect(late).rejects.toMatchObject({ status: 409 });
  });

  it("keeps a cancelled account's backups downloadable for 30 days, then deletes everything of it", async () => {
    const acct = await newAccount();
    const db = acct.databases[0]!;
    await setRetention(acct, db.id, 7);
    const b40 = await freshBackup(acct, db.id);
    const b1 = await freshBackup(acct, db.id);
    const stray = `accounts/${acct.accountId}/leftover.bin`;
    await putObject(stray, new Uint8Array(10));
    expect((await acct.session.json('/account', { method: 'DELETE' })).status).toBe(202);
    // The stand-in Paddle's paid period ends now: read-only from here on.
    await sql(
      "update account_closings set effective_at = now() - interval '1 minute', purge_at = now() + interval '30 days' where account_id = $1",
      [acct.accountId],
    );
    await ageBackups([
      [b40.id, daysAgo(40)],
      [b1.id, daysAgo(1)],
    ]);

    // Within the 30 days nothing goes, not even what retention would delete.
    await runCronAt(new Date());
    expect(await backupIds(db.id)).toEqual([b40.id, b1.id]);
    const dl = await acct.session.json(`/backups/${b40.id}/download`);
    expect(dl.status).toBe(200);
    expect((await fetch(dl.body.url)).status).toBe(200);

    await sql("update account_closings set purge_at = now() - interval '1 minute' where account_id = $1", [
      acct.accountId,
    ]);
    await runCronAt(new Date());
    expect(await listKeys(`accounts/${acct.accountId}/`)).toEqual([]);
    expect(await sql('select id from backups where account_id = $1', [acct.accountId])).toEqual([]);
    expect(await sql('select id from accounts where id = $1', [acct.accountId])).toEqual([]);
    expect(await sql('select id from users where account_id = $1', [acct.accountId])).toEqual([]);
    expect(await sql('select id from agents where account_id = $1', [acct.accountId])).toEqual([]);
    expect((await acct.session.json('/account')).status).toBe(401);
  });
});
