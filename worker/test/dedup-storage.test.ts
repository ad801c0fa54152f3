// Deduplicated backups on the storage side (issues 17 and 18), against the real control plane and
// the signature-checking local S3 server (object lock, UploadPartCopy with ranges):
// - a locked deduplicated backup locks every pack it needs at least as long, in storage; a later
//   locked backup extends the lock; storage refuses to delete such a pack, and the collection never
//   deletes a pack storage still locks (a locked backup that failed after sealing);
// - the second storage location gets server-side copies of the packs and the manifest; when the
//   primary loses a pack the download reads it from the copy and the file restores identically;
// - a mostly dead pack is rewritten server-side (ranged copy) and a restore after it is identical;
//   a backup that references the old pack's chunks while the rewrite copies finds them at their
//   new place, and a pack locked meanwhile is left as it is.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { readContainerSql } from '../../agent/src/dedup/container.ts';
import { openRemoteBackup } from '../../agent/src/dedup/remote-read.ts';
import type { EncryptionKey } from '../../agent/src/format/index.ts';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import { accountWithDatabase, runCron, sql, stackInfo } from '../../scripts/test/api.ts';
import type { Db } from '../src/db.ts';
import { REWRITE_MIN_SAVED_BYTES, rewritePacks, rewritePlan } from '../src/dedup/dedup.ts';
import * as schema from '../src/schema.ts';
import type { ObjectStorage } from '../src/storage/storage.ts';
import { type Account, agents, aws, dedupBackup, newKey, objectUrl, primary } from './dedup-fixtures.ts';

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'dedup-storage-'));
const pool = new pg.Pool({ connectionString: stackInfo().databaseUrl, max: 2 });
const db = drizzle({ client: pool, schema }) as unknown as Db;
afterAll(async () => {
  agents.destroy();
  await pool.end();
  rmSync(dir, { recursive: true, force: true });
});

/** Downloads the backup's single file through its link and restores its SQL with the key. */
async function restored(a: Account, key: EncryptionKey, id: string): Promise<Buffer> {
  const link = await a.session.json<{ url: string }>(`/backups/${id}/download`);
  expect(link.status, JSON.stringify(link.body)).toBe(200);
  const res = await fetch(link.body.url);
  expect(res.status).toBe(200);
  const path = join(dir, `${id}-${Date.now()}.resistro`);
  writeFileSync(path, Buffer.from(await res.arrayBuffer()));
  const out: Buffer[] = [];
  for await (const b of readContainerSql(path, key)) out.push(b as Buffer);
  return Buffer.concat(out);
}

async function packsOf(backupId: string) {
  return sql<{ id: string; object_key: string; locked_until: Date | null; size_bytes: string }>(
    `select distinct p.id, p.object_key, p.locked_until, p.size_bytes from dedup_refs r
      join dedup_chunks c on c.account_id = r.account_id and c.chunk_id = r.chunk_id
      join dedup_packs p on p.id = c.pack_id where r.backup_id = $1`,
    [backupId],
  );
}

async function storageLock(key: string): Promise<string | undefined> {
  const res = await aws.fetch(`${objectUrl(key)}?retention`);
  const text = await res.text();
  if (res.status === 404) return undefined;
  expect(text).toContain('<Mode>COMPLIANCE</Mode>');
  return /<RetainUntilDate>([^<]+)<\/RetainUntilDate>/.exec(text)?.[1];
}

/** Incompressible data, so that packs are as large as the data (8 MiB each). */
const table = (bytes: number) => randomBytes(bytes);

/**
 * Deletes a backup and its dead chunks in one transaction that leaves the account not pending, so
 * that no collection (the shared stack's cron runs for other test files too) rewrites its packs
 * before the test calls the rewrite itself.
 */
async function dropBackupQuietly(accountId: string, backupId: string) {
  const c = await pool.connect();
  try {
    await c.query('begin');
    await c.query('delete from backups where id = $1', [backupId]);
    await c.query(
      'delete from dedup_chunks c where c.account_id = $1 and not exists (select 1 from dedup_refs r where r.account_id = c.account_id and r.chunk_id = c.chunk_id)',
      [accountId],
    );
    await c.query('delete from dedup_pending where account_id = $1', [accountId]);
    await c.query('commit');
  } finally {
    c.release();
  }
}

describe('deduplicated backups and object lock', () => {
  it('lock every pack a locked backup needs at least as long, and the collection never deletes a locked pack', async () => {
    const a = await accountWithDatabase({ plan: 'enterprise' });
    const k = newKey();
    const rule = await a.session.json(`/databases/${a.database.id}/retention`, {
      method: 'PUT',
      json: { tiers: null, objectLock: { all: 30 } },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(200);
    const data = table(600_000);
    const first = await dedupBackup(a, k, [{ kind: 'data', name: 'public.t', data }]);
    expect(first.lockedUntil).not.toBeNull();
    const packs = await packsOf(first.id);
    expect(packs.length).toBeGreaterThan(0);
    for (const p of packs) {
      expect(p.locked_until?.toISOString()).toBe(first.lockedUntil);
      expect(await storageLock(p.object_key)).toBe(first.lockedUntil);
      // storage itself refuses to delete the pack
      const direct = await aws.fetch(objectUrl(p.object_key), { method: 'DELETE' });
      expect(direct.status).toBe(403);
      await direct.arrayBuffer();
    }
    // A later locked backup with the same chunks extends the packs' lock to its own date.
    const second = await dedupBackup(a, k, [{ kind: 'data', name: 'public.t', data }]);
    expect(Date.parse(second.lockedUntil!)).toBeGreaterThan(Date.parse(first.lockedUntil!));
    for (const p of await packsOf(second.id)) {
      expect(p.locked_until?.toISOString()).toBe(second.lockedUntil);
      expect(await storageLock(p.object_key)).toBe(second.lockedUntil);
    }
    // The scheduled check locks any pack a locked backup needs that the index does not show
    // locked as long (a tier lock decided at completion; here the record is simply cleared).
    await sql('update dedup_packs set locked_until = null where account_id = $1', [a.account.id]);
    await runCron();
    for (const p of await packsOf(second.id)) expect(p.locked_until?.toISOString()).toBe(second.lockedUntil);
    // A locked backup that fails after its packs were locked (sealed, then its completion
    // failed): its chunks are dead, but storage still locks its packs, so the collection leaves
    // them in storage and in the index.
    const allPacks = () =>
      sql<{ id: string; object_key: string; locked_until: Date | null }>(
        'select id, object_key, locked_until from dedup_packs where account_id = $1',
        [a.account.id],
      );
    const earlier = new Set((await allPacks()).map((p) => p.id));
    const failed = await dedupBackup(a, k, [{ kind: 'data', name: 'public.u', data: table(300_000) }], {
      fail: true,
    });
    const failedPacks = (await allPacks()).filter((p) => !earlier.has(p.id));
    expect(failedPacks.length).toBeGreaterThan(0);
    for (const p of failedPacks) expect(p.locked_until).not.toBeNull();
    await runCron();
    const [refs] = await sql<{ n: number }>(
      'select count(*)::int as n from dedup_refs where backup_id = $1',
      [failed.id],
    );
    expect(refs!.n, 'a failed backup keeps nothing alive').toBe(0);
    const left = await sql<{ id: string; n: number }>(
      `select p.id, (select count(*)::int from dedup_chunks c where c.pack_id = p.id) as n
        from dedup_packs p where p.account_id = $1`,
      [a.account.id],
    );
    for (const p of failedPacks) {
      expect(
        left.find((l) => l.id === p.id),
        'the locked pack stays in the index',
      ).toMatchObject({ n: 0 });
      expect((await aws.fetch(objectUrl(p.object_key), { method: 'HEAD' })).status).toBe(200);
    }
  }, 240_000);
});

describe('pack rewrite', () => {
  it('plans ranged copies of parts of at least the minimum, skipping dead gaps only after a full part', () => {
    const live = [
      { chunkId: 'a', offset: 10, length: 10 },
      { chunkId: 'b', offset: 30, length: 10 },
      { chunkId: 'c', offset: 100, length: 5 },
      { chunkId: 'd', offset: 200, length: 50 },
    ];
    const plan = rewritePlan(live, 30);
    // a..b (30 bytes with the gap) fill a part; c then d start the next, which ends with the pack
    expect(plan.parts).toEqual([
      { first: 10, last: 39 },
      { first: 100, last: 249 },
    ]);
    expect([...plan.moves]).toEqual([
      ['a', 0],
      ['b', 20],
      ['c', 30],
      ['d', 130],
    ]);
    expect(plan.newSize).toBe(180);
  });

  it('rewrites a mostly dead pack with a ranged server-side copy; a restore after it is identical', async () => {
    const a = await accountWithDatabase({ plan: 'enterprise' });
    const k = newKey();
    const big = table(8 * MiB);
    const keep = big.subarray(4 * MiB, 5 * MiB);
    const old = await dedupBackup(a, k, [{ kind: 'data', name: 'public.t', data: big }]);
    const kept = await dedupBackup(a, k, [{ kind: 'data', name: 'public.t', data: keep }]);
    const before = await packsOf(old.id);
    expect((await a.session.fetch(`/backups/${old.id}`, { method: 'DELETE' })).status).toBe(204);
    await runCron();
    const after = await packsOf(kept.id);
    // the kept backup's chunks from the big pack now live in a new, much smaller pack
    const rewritten = after.filter((p) => !before.some((b) => b.id === p.id));
    expect(rewritten.length).toBeGreaterThan(0);
    const retired = await sql<{
      id: string;
      object_key: string;
      size_bytes: string;
      retired_at: Date | null;
    }>(
      'select id, object_key, size_bytes, retired_at from dedup_packs where account_id = $1 and retired_at is not null',
      [a.account.id],
    );
    expect(retired.length).toBeGreaterThan(0);
    const saved =
      retired.reduce((n, p) => n + Number(p.size_bytes), 0) -
      rewritten.reduce((n, p) => n + Number(p.size_bytes), 0);
    expect(saved).toBeGreaterThanOrEqual(REWRITE_MIN_SAVED_BYTES);
    expect((await restored(a, k.key, kept.id)).equals(keep)).toBe(true);
    // the retired pack stays for readers that planned before, then goes with its bytes
    for (const p of retired)
      expect((await aws.fetch(objectUrl(p.object_key), { method: 'HEAD' })).status).toBe(200);
    await sql(
      "update dedup_packs set retired_at = now() - interval '8 days' where account_id = $1 and retired_at is not null",
      [a.account.id],
    );
    await sql('insert into dedup_pending (account_id) values ($1) on conflict do nothing', [a.account.id]);
    await runCron();
    for (const p of retired)
      expect((await aws.fetch(objectUrl(p.object_key), { method: 'HEAD' })).status).toBe(404);
    expect((await restored(a, k.key, kept.id)).equals(keep)).toBe(true);
    const [usage] = await sql<{ used: string; stored: string }>(
      `select a.storage_used_bytes as used,
          (select coalesce(sum(size_bytes), 0) from dedup_packs where account_id = a.id)
        + (select coalesce(sum(size_bytes), 0) from backups where account_id = a.id and status = 'succeeded') as stored
        from accounts a where a.id = $1`,
      [a.account.id],
    );
    expect(Number(usage!.used)).toBe(Number(usage!.stored));
  }, 300_000);

  it('moves chunks a backup references while the rewrite copies, and leaves a pack locked meanwhile', async () => {
    const a = await accountWithDatabase({ plan: 'enterprise' });
    const k = newKey();
    const big = table(8 * MiB);
    const keep = big.subarray(2 * MiB, 3 * MiB);
    const old = await dedupBackup(a, k, [{ kind: 'data', name: 'public.t', data: big }]);
    const kept = await dedupBackup(a, k, [{ kind: 'data', name: 'public.t', data: keep }]);
    await dropBackupQuietly(a.account.id, old.id);

    // While the rewrite copies, a new backup of the kept data runs: the store says it holds the
    // chunks (in the old pack), the backup references them and completes.
    let concurrent: Awaited<ReturnType<typeof dedupBackup>> | undefined;
    const real = primary();
    const during = (hook: () => Promise<void>): ObjectStorage => {
      let fired = false;
      return new Proxy(real, {
        get(target, prop, receiver) {
          if (prop === 'copyPart')
            return async (...args: Parameters<ObjectStorage['copyPart']>) => {
              const etag = await target.copyPart(...args);
              if (!fired) {
                fired = true;
                await hook();
              }
              return etag;
            };
          return Reflect.get(target, prop, receiver);
        },
      });
    };
    const n = await rewritePacks(
      db,
      during(async () => {
        concurrent = await dedupBackup(a, k, [{ kind: 'data', name: 'public.t', data: keep }]);
      }),
      a.account.id,
      new Date(),
    );
    expect(n).toBe(1);
    expect(concurrent).toBeDefined();
    // it uploaded no pack of its own: every chunk was held
    const own = await sql<{ n: number }>(
      `select count(*)::int as n from dedup_packs p where p.account_id = $1 and p.created_at > (select started_at from backups where id = $2) and p.retired_at is null and p.checksum <> ''`,
      [a.account.id, concurrent!.id],
    );
    expect(own[0]!.n).toBe(0);
    for (const id of [kept.id, concurrent!.id])
      expect((await restored(a, k.key, id)).equals(keep)).toBe(true);
    const newPacks = await packsOf(concurrent!.id);
    expect(newPacks.every((p) => Number(p.size_bytes) < 2 * MiB)).toBe(true);

    // A pack locked while the rewrite copies (a locked backup sealed) is left as it is.
    const b = await accountWithDatabase({ plan: 'enterprise' });
    const big2 = table(8 * MiB);
    const keep2 = big2.subarray(5 * MiB, 6 * MiB);
    const old2 = await dedupBackup(b, k, [{ kind: 'data', name: 'public.t', data: big2 }]);
    await dedupBackup(b, k, [{ kind: 'data', name: 'public.t', data: keep2 }]);
    await dropBackupQuietly(b.account.id, old2.id);
    const rule = await b.session.json(`/databases/${b.database.id}/retention`, {
      method: 'PUT',
      json: { tiers: null, objectLock: { all: 30 } },
    });
    expect(rule.status).toBe(200);
    let locked: Awaited<ReturnType<typeof dedupBackup>> | undefined;
    const m = await rewritePacks(
      db,
      during(async () => {
        locked = await dedupBackup(b, k, [{ kind: 'data', name: 'public.t', data: keep2 }]);
      }),
      b.account.id,
      new Date(),
    );
    expect(m).toBe(0);
    const lockedPacks = await packsOf(locked!.id);
    for (const p of lockedPacks) {
      expect(p.locked_until?.toISOString()).toBe(locked!.lockedUntil);
      expect(await storageLock(p.object_key)).toBe(locked!.lockedUntil);
    }
    // the abandoned new pack is gone from the index and from storage
    const [stray] = await sql<{ n: number }>(
      "select count(*)::int as n from dedup_packs where account_id = $1 and status = 'uploading'",
      [b.account.id],
    );
    expect(stray!.n).toBe(0);
    expect((await restored(b, k.key, locked!.id)).equals(keep2)).toBe(true);
  }, 300_000);
});
describe('deduplicated backups and the second storage location', () => {
  it('copies the packs and the manifest server-side; a download falls back to the copy when the primary lost a pack', async () => {
    const a = await accountWithDatabase({ plan: 'enterprise' });
    const k = newKey();
    const put = await a.session.json('/storage-location', {
      method: 'PUT',
      json: {
        endpoint: inject('stack').s3Url,
        region: 'us-east-1',
        bucket: inject('stack').peerBucket,
        accessKeyId: S3_ACCESS_KEY_ID,
        secretAccessKey: S3_SECRET_ACCESS_KEY,
        copies: 'all',
      },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const data = table(700_000);
    const b = await dedupBackup(a, k, [
      { kind: 'pre-data', name: '', data: Buffer.from('create table t (x text);\n') },
      { kind: 'data', name: 'public.t', data },
    ]);
    await runCron();
    const [copy] = await sql<{ status: string; method: string; error: string | null }>(
      'select status, method, error from backup_copies where backup_id = $1',
      [b.id],
    );
    expect(copy, 'the copy was queued').toBeDefined();
    expect(copy!.error).toBeNull();
    expect(copy).toMatchObject({ status: 'copied', method: 'server_copy' });
    const packs = await packsOf(b.id);
    const copies = await sql<{ pack_id: string; sha256: string }>(
      'select pack_id, sha256 from dedup_pack_copies where account_id = $1',
      [a.account.id],
    );
    expect(copies.map((c) => c.pack_id).sort()).toEqual(packs.map((p) => p.id).sort());
    for (const p of packs) {
      const res = await aws.fetch(objectUrl(p.object_key, inject('stack').peerBucket));
      expect(res.status).toBe(200);
      const sha = createHash('sha256')
        .update(Buffer.from(await res.arrayBuffer()))
        .digest('hex');
      expect(copies.find((c) => c.pack_id === p.id)!.sha256).toBe(sha);
    }
    // The primary loses a pack: the download reads it from the copy, and says so.
    const lost = packs[0]!;
    expect((await aws.fetch(objectUrl(lost.object_key), { method: 'DELETE' })).status).toBe(204);
    expect((await restored(a, k.key, b.id)).equals(b.expected)).toBe(true);
    // restore --backup reads the chunks straight from storage: the lost pack's URL is its copy's
    const remote = await openRemoteBackup({ plan: () => a.client.dedupReads(b.id), key: k.key, agents });
    const out: Buffer[] = [];
    for await (const chunk of remote.open()) out.push(chunk as Buffer);
    expect(Buffer.concat(out).equals(b.expected)).toBe(true);
  }, 240_000);
});
