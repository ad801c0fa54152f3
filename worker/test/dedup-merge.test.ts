// Pack merges (issue 17: deleting old backups frees the space nothing else uses), against the real
// control plane (its cron in workerd), real PostgreSQL and the signature-checking local S3 server:
// - small mostly dead packs (too small for the in-place rewrite) are merged by the collection into
//   one new pack; every remaining backup downloads (the assembled file) and reads (ranged reads of
//   restore --backup) byte-identical; the old packs go after the grace period; the merged pack is
//   copied to the second location and a download falls back to that copy;
// - a locked pack is never merged, nor one locked while the merge runs; a backup told "held" for a
//   chunk while the merge runs ends with it readable; a merge racing a deletion; a PUT storage
//   refuses, and a read back that does not match, leave the index as it was and no stray object.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { readContainerSql } from '../../agent/src/dedup/container.ts';
import { openRemoteBackup } from '../../agent/src/dedup/remote-read.ts';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import { accountWithDatabase, runCron, sql, stackInfo } from '../../scripts/test/api.ts';
import type { Db } from '../src/db.ts';
import { collectGarbage } from '../src/dedup/dedup.ts';
import { mergePacks } from '../src/dedup/merge.ts';
import * as schema from '../src/schema.ts';
import type { ObjectStorage } from '../src/storage/storage.ts';
import {
  type Account,
  agents,
  aws,
  dedupBackup,
  type Keys,
  newKey,
  objectUrl,
  primary,
} from './dedup-fixtures.ts';

const KB = 1000;
const dir = mkdtempSync(join(tmpdir(), 'dedup-merge-'));
const pool = new pg.Pool({ connectionString: stackInfo().databaseUrl, max: 2 });
const db = drizzle({ client: pool, schema }) as unknown as Db;
afterAll(async () => {
  agents.destroy();
  await pool.end();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The backup as a user gets it back, both ways: the assembled file the download streams
 * (worker/src/dedup/file.ts), decrypted; and the ranged reads of restore --backup. Both must be
 * the data the backup was made from.
 */
async function expectRestores(a: Account, k: Keys, b: { id: string; expected: Buffer }, what: string) {
  const link = await a.session.json<{ url: string }>(`/backups/${b.id}/download`);
  expect(link.status, JSON.stringify(link.body)).toBe(200);
  const res = await fetch(link.body.url);
  expect(res.status, what).toBe(200);
  const path = join(dir, `${b.id}-${Date.now()}.resistro`);
  writeFileSync(path, Buffer.from(await res.arrayBuffer()));
  const out: Buffer[] = [];
  for await (const chunk of readContainerSql(path, k.key)) out.push(chunk as Buffer);
  expect(Buffer.concat(out).equals(b.expected), `${what}: the downloaded file`).toBe(true);
  const remote = await openRemoteBackup({ plan: () => a.client.dedupReads(b.id), key: k.key, agents });
  const ranged: Buffer[] = [];
  for await (const chunk of remote.open()) ranged.push(chunk as Buffer);
  expect(Buffer.concat(ranged).equals(b.expected), `${what}: ranged reads`).toBe(true);
}

async function packsOf(backupId: string) {
  return sql<{ id: string; object_key: string; size_bytes: string; checksum: string }>(
    `select distinct p.id, p.object_key, p.size_bytes, p.checksum from dedup_refs r
      join dedup_chunks c on c.account_id = r.account_id and c.chunk_id = r.chunk_id
      join dedup_packs p on p.id = c.pack_id where r.backup_id = $1`,
    [backupId],
  );
}

const allPacks = (accountId: string) =>
  sql<{ id: string; object_key: string; status: string; retired_at: Date | null; size_bytes: string }>(
    'select id, object_key, status, retired_at, size_bytes from dedup_packs where account_id = $1 order by id',
    [accountId],
  );

/** The index as a restore sees it: every chunk's pack and offset. */
const index = (accountId: string) =>
  sql<{ chunk_id: string; pack_id: string; offset: string }>(
    'select chunk_id, pack_id, "offset" from dedup_chunks where account_id = $1 order by chunk_id',
    [accountId],
  );

/** The account's pack objects in storage: exactly those of its index, nothing stray. */
async function expectNoStrayObject(accountId: string) {
  const listed = (await primary().listKeys(`accounts/${accountId}/packs/`, 1000)).keys.sort();
  const rows = (await allPacks(accountId)).map((p) => p.object_key).sort();
  expect(listed).toEqual(rows);
  const [uploading] = await sql<{ n: number }>(
    "select count(*)::int as n from dedup_packs where account_id = $1 and status = 'uploading'",
    [accountId],
  );
  expect(uploading!.n, 'no merged pack left half done').toBe(0);
}

async function expectUsageIsStored(accountId: string) {
  const [usage] = await sql<{ used: string; stored: string }>(
    `select a.storage_used_bytes as used,
        (select coalesce(sum(size_bytes), 0) from dedup_packs where account_id = a.id and status = 'stored')
      + (select coalesce(sum(size_bytes), 0) from backups where account_id = a.id and status = 'succeeded') as stored
      from accounts a where a.id = $1`,
    [accountId],
  );
  expect(Number(usage!.used)).toBe(Number(usage!.stored));
}

/**
 * Deletes a backup and its dead chunks in one transaction that leaves the account not pending, so
 * that no collection (the shared stack's cron runs for other test files too) merges its packs
 * before the test calls the merge itself.
 */
async function dropBackupQuietly(accountId: string, backupId: string) {
  const c = await pool.connect();
  try {
    await c.query('begin');
    // as a deletion does: the manifest's bytes leave the usage
    await c.query(
      'update accounts set storage_used_bytes = storage_used_bytes - (select size_bytes from backups where id = $2) where id = $1',
      [accountId, backupId],
    );
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

/**
 * Two daily backups of about 1.2 MB each (each its own small pack: random data, so packs are as
 * large as the data) and backups that keep the first 300 kB of each day's table: once the two days
 * are deleted, each of their packs is three quarters dead, too small for an in-place rewrite (it
 * would free less than 1 MiB), and the two together free about 1.8 MB.
 */
async function smallDeadPacks(a: Account, k: Keys, keepers = 1) {
  const days = [randomBytes(1200 * KB), randomBytes(1200 * KB)];
  const old = [];
  for (const data of days) old.push(await dedupBackup(a, k, [{ kind: 'data', name: 'public.t', data }]));
  const oldPacks = new Set<string>();
  for (const b of old) for (const p of await packsOf(b.id)) oldPacks.add(p.id);
  const keep = [];
  for (let i = 0; i < keepers; i++)
    keep.push(
      await dedupBackup(a, k, [
        { kind: 'data', name: 'public.t', data: days[0]!.subarray(0, 300 * KB + i * 40 * KB) },
        { kind: 'data', name: 'public.u', data: days[1]!.subarray(0, 300 * KB + i * 40 * KB) },
      ]),
    );
  return { old, oldPacks, keep };
}

/** The real storage, with `hook` run once just before the merge writes its new pack. */
function beforePut(hook: () => Promise<void>): ObjectStorage {
  let fired = false;
  const real = primary();
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'putObject')
        return async (...args: Parameters<ObjectStorage['putObject']>) => {
          if (!fired) {
            fired = true;
            await hook();
          }
          return target.putObject(...args);
        };
      return Reflect.get(target, prop, receiver);
    },
  });
}

describe('pack merge', () => {
  it('merges small mostly dead packs into one, every remaining backup restores identically, the old packs go after the grace period, and the second location gets the merged pack', async () => {
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
    const { old, oldPacks, keep } = await smallDeadPacks(a, k);
    const kept = keep[0]!;
    expect(oldPacks.size).toBe(2);
    await runCron(); // the backups and their packs are copied to the second location
    const [copy] = await sql<{ status: string }>('select status from backup_copies where backup_id = $1', [
      kept.id,
    ]);
    expect(copy?.status).toBe('copied');
    const deadBefore = await sql<{ id: string; size_bytes: string }>(
      'select id, size_bytes from dedup_packs where id = any($1::uuid[])',
      [[...oldPacks]],
    );

    const beforeIds = new Set((await allPacks(a.account.id)).map((p) => p.id));
    for (const b of old)
      expect((await a.session.fetch(`/backups/${b.id}`, { method: 'DELETE' })).status).toBe(204);
    await runCron(); // the collection: dead chunks deleted, the two small packs merged
    const after = await allPacks(a.account.id);
    const retired = after.filter((p) => p.retired_at);
    expect(retired.map((p) => p.id).sort()).toEqual([...oldPacks].sort());
    // the kept backup's chunks of both old days now lie in one new pack holding only live chunks
    const added = after.filter((p) => !beforeIds.has(p.id));
    expect(added.length).toBe(1);
    const [moved] = await sql<{ pack_id: string; bytes: string }>(
      'select pack_id, sum(length) as bytes from dedup_chunks where pack_id = $1 group by pack_id',
      [added[0]!.id],
    );
    expect((await packsOf(kept.id)).map((p) => p.id)).toContain(added[0]!.id);
    const newPack = after.find((p) => p.id === moved!.pack_id)!;
    expect(newPack.retired_at).toBeNull();
    expect(Number(newPack.size_bytes), 'the merged pack holds only live chunks').toBe(Number(moved!.bytes));
    const freed = deadBefore.reduce((n, p) => n + Number(p.size_bytes), 0) - Number(newPack.size_bytes);
    expect(freed).toBeGreaterThan(1024 * 1024);
    // storage holds exactly the bytes the index says (size and SHA-256)
    const read = await primary().readChecksum(newPack.object_key);
    const [row] = await sql<{ checksum: string }>('select checksum from dedup_packs where id = $1', [
      newPack.id,
    ]);
    expect(read?.size).toBe(Number(newPack.size_bytes));
    expect(Buffer.from(read!.sha256, 'hex').toString('base64')).toBe(row!.checksum);
    await expectRestores(a, k, kept, 'after the merge');
    await expectUsageIsStored(a.account.id);

    // The scheduled check copies the merged pack to the second location (a rewritten pack's way).
    await runCron();
    const copies = await sql<{ pack_id: string; sha256: string }>(
      'select pack_id, sha256 from dedup_pack_copies where account_id = $1',
      [a.account.id],
    );
    expect(copies.find((c) => c.pack_id === newPack.id)?.sha256).toBe(read!.sha256);

    // The retired packs stay for readers that planned before, then go with their bytes.
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
    expect((await allPacks(a.account.id)).some((p) => oldPacks.has(p.id))).toBe(false);
    await expectUsageIsStored(a.account.id);
    await expectNoStrayObject(a.account.id);
    // and the second location forgets their copies
    const left = await sql<{ pack_id: string }>(
      'select pack_id from dedup_pack_copies where account_id = $1',
      [a.account.id],
    );
    expect(left.some((c) => oldPacks.has(c.pack_id))).toBe(false);
    await expectRestores(a, k, kept, 'after the old packs were deleted');

    // The primary loses the merged pack: the download reads it from its copy.
    expect((await aws.fetch(objectUrl(newPack.object_key), { method: 'DELETE' })).status).toBe(204);
    await expectRestores(a, k, kept, 'from the copy of the merged pack');
  }, 300_000);

  it('never merges a locked pack, nor one locked while the merge runs', async () => {
    // Locked from the start: the packs are candidates by their dead bytes but stay as they are.
    const a = await accountWithDatabase({ plan: 'enterprise' });
    const k = newKey();
    const rule = { method: 'PUT', json: { tiers: null, objectLock: { all: 30 } } } as const;
    expect((await a.session.json(`/databases/${a.database.id}/retention`, rule)).status).toBe(200);
    const locked = await smallDeadPacks(a, k);
    for (const b of locked.old) await dropBackupQuietly(a.account.id, b.id);
    const before = await index(a.account.id);
    expect(await mergePacks(db, primary(), a.account.id, new Date())).toBe(0);
    expect(await index(a.account.id)).toEqual(before);
    expect((await allPacks(a.account.id)).every((p) => !p.retired_at)).toBe(true);

    // Locked while the merge reads and writes: a locked backup of the kept data seals, locking the
    // old packs (its chunks are held there); the merge then leaves them and removes its new pack.
    const b = await accountWithDatabase({ plan: 'enterprise' });
    const { old, keep } = await smallDeadPacks(b, k);
    for (const x of old) await dropBackupQuietly(b.account.id, x.id);
    expect((await b.session.json(`/databases/${b.database.id}/retention`, rule)).status).toBe(200);
    const planned = await index(b.account.id);
    let during: Awaited<ReturnType<typeof dedupBackup>> | undefined;
    const n = await mergePacks(
      db,
      beforePut(async () => {
        during = await dedupBackup(b, k, [
          { kind: 'data', name: 'public.t', data: keep[0]!.expected.subarray(0, 300 * KB) },
          { kind: 'data', name: 'public.u', data: keep[0]!.expected.subarray(300 * KB) },
        ]);
      }),
      b.account.id,
      new Date(),
    );
    expect(n).toBe(0);
    expect(during?.lockedUntil).toBeTruthy();
    // the index is as planned (the locked backup added no chunks: every one was held)
    expect(await index(b.account.id)).toEqual(planned);
    expect((await allPacks(b.account.id)).every((p) => !p.retired_at)).toBe(true);
    await expectNoStrayObject(b.account.id);
    await expectRestores(b, k, during!, 'the locked backup');
  }, 300_000);

  it('a backup told "held" while the merge runs ends with its chunks readable, and a backup deleted meanwhile is collected', async () => {
    const a = await accountWithDatabase({ plan: 'enterprise' });
    const k = newKey();
    const { old, oldPacks, keep } = await smallDeadPacks(a, k, 2);
    for (const b of old) await dropBackupQuietly(a.account.id, b.id);
    const [first, second] = keep as [(typeof keep)[0], (typeof keep)[0]];
    let during: Awaited<ReturnType<typeof dedupBackup>> | undefined;
    const n = await mergePacks(
      db,
      beforePut(async () => {
        // a new backup of the first kept data: the store says it holds every chunk (in the old
        // packs, still), so it uploads none and references them where they are
        during = await dedupBackup(a, k, [
          { kind: 'data', name: 'public.t', data: first.expected.subarray(0, 300 * KB) },
          { kind: 'data', name: 'public.u', data: first.expected.subarray(300 * KB) },
        ]);
        // and the second kept backup is deleted
        expect((await a.session.fetch(`/backups/${second.id}`, { method: 'DELETE' })).status).toBe(204);
      }),
      a.account.id,
      new Date(),
    );
    expect(n).toBe(1);
    const packs = await allPacks(a.account.id);
    expect(
      packs
        .filter((p) => p.retired_at)
        .map((p) => p.id)
        .sort(),
    ).toEqual([...oldPacks].sort());
    // the concurrent backup uploaded no pack: its chunks are in the merged pack now
    for (const p of await packsOf(during!.id)) expect(oldPacks.has(p.id)).toBe(false);
    await expectRestores(a, k, during!, 'the backup that ran during the merge');
    await expectRestores(a, k, first, 'the first kept backup');
    // The deleted backup's chunks went into the merged pack too (still referenced when planned):
    // the next collection deletes their rows, and they are dead bytes of the merged pack.
    const r = await collectGarbage(db, primary(), a.account.id, new Date());
    expect(r.skipped).toBe(false);
    expect(r.chunks).toBeGreaterThan(0);
    const [orphans] = await sql<{ n: number }>(
      `select count(*)::int as n from dedup_chunks c where c.account_id = $1
        and not exists (select 1 from dedup_refs r where r.account_id = c.account_id and r.chunk_id = c.chunk_id)`,
      [a.account.id],
    );
    expect(orphans!.n).toBe(0);
    await expectRestores(a, k, during!, 'after the collection');
    await expectUsageIsStored(a.account.id);
    await expectNoStrayObject(a.account.id);
  }, 300_000);

  it('leaves the index as it was and no stray object when storage refuses the PUT or the read back does not match', async () => {
    const a = await accountWithDatabase({ plan: 'enterprise' });
    const k = newKey();
    const { old, oldPacks, keep } = await smallDeadPacks(a, k);
    for (const b of old) await dropBackupQuietly(a.account.id, b.id);
    const planned = await index(a.account.id);
    const packsBefore = await allPacks(a.account.id);
    const usedBefore = await sql('select storage_used_bytes from accounts where id = $1', [a.account.id]);
    const failing = (prop: 'putObject' | 'readChecksum') =>
      new Proxy(primary(), {
        get(target, p, receiver) {
          // storage refuses the body: its checksum is another one (BadDigest, nothing written)
          if (p === 'putObject' && prop === 'putObject')
            return (key: string, body: Uint8Array) =>
              target.putObject(key, body, createHash('sha256').update('other').digest('base64'));
          // the object was written, but reads back one byte short
          if (p === 'readChecksum' && prop === 'readChecksum')
            return async (key: string) => {
              const r = await target.readChecksum(key);
              return r && { ...r, size: r.size - 1 };
            };
          return Reflect.get(target, p, receiver);
        },
      });
    for (const prop of ['putObject', 'readChecksum'] as const) {
      expect(await mergePacks(db, failing(prop), a.account.id, new Date())).toBe(0);
      expect(await index(a.account.id), prop).toEqual(planned);
      expect(await allPacks(a.account.id), prop).toEqual(packsBefore);
      expect(await sql('select storage_used_bytes from accounts where id = $1', [a.account.id])).toEqual(
        usedBefore,
      );
      await expectNoStrayObject(a.account.id);
    }
    await expectRestores(a, k, keep[0]!, 'after the failed merges');
    // and with storage working, the same packs merge
    expect(await mergePacks(db, primary(), a.account.id, new Date())).toBe(1);
    expect(
      (await allPacks(a.account.id))
        .filter((p) => p.retired_at)
        .map((p) => p.id)
        .sort(),
    ).toEqual([...oldPacks].sort());
    await expectRestores(a, k, keep[0]!, 'after the merge');
    await expectUsageIsStored(a.account.id);
  }, 300_000);
});
