// Deduplicated storage, collection model (issue 17): random backups (the agent's own chunker,
// packer and store client against the real control plane and the S3 server) and random deletions,
// with the cron collecting after each deletion, then a pack merge (merge.ts) with its thresholds
// lowered (this model's packs are far smaller than the 1 MiB a merge must free in production, and
// few of them get half dead in so few steps), and now and then the grace period of retired packs
// let pass. After every step each remaining backup downloads
// as a complete file that decrypts to exactly what it was made from (and reads so through the
// ranged reads of restore --backup), no chunk is left that no backup references, and the
// account's usage is the bytes actually stored.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { readContainerSql } from '../../agent/src/dedup/container.ts';
import { dedupKeys, dedupSecretOf } from '../../agent/src/dedup/keys.ts';
import { chunkRefs, encryptManifest } from '../../agent/src/dedup/manifest.ts';
import { openRemoteBackup } from '../../agent/src/dedup/remote-read.ts';
import { RemoteChunkStore } from '../../agent/src/dedup/remote-store.ts';
import { tableText } from '../../agent/src/dedup/testing.ts';
import { DedupWriter } from '../../agent/src/dedup/writer.ts';
import { parseEncryptionKey } from '../../agent/src/format/index.ts';
import { SYMMETRIC_KEY_PREFIX } from '../../agent/src/format/keys.ts';
import { createAgents } from '../../agent/src/upload/http.ts';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import { accountWithDatabase, putParts, runCron, sql, stackInfo } from '../../scripts/test/api.ts';
import type { Db } from '../src/db.ts';
import { mergePacks } from '../src/dedup/merge.ts';
import * as schema from '../src/schema.ts';
import { createS3Storage } from '../src/storage/s3.ts';

const dir = mkdtempSync(join(tmpdir(), 'dedup-gc-'));
const agents = createAgents(4);
const pool = new pg.Pool({ connectionString: stackInfo().databaseUrl, max: 2 });
const db = drizzle({ client: pool, schema }) as unknown as Db;
afterAll(async () => {
  agents.destroy();
  await pool.end();
  rmSync(dir, { recursive: true, force: true });
});
const storage = () =>
  createS3Storage({
    endpoint: stackInfo().s3Url,
    region: 'us-east-1',
    bucket: stackInfo().bucket,
    accessKeyId: S3_ACCESS_KEY_ID,
    secretAccessKey: S3_SECRET_ACCESS_KEY,
    pathStyle: true,
  });

/** A tiny deterministic PRNG, so a failing sequence can be replayed from its seed. */
function prng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

describe('dedup collection model', () => {
  it('never deletes a chunk a live backup needs, and frees everything else', async () => {
    const seed = 17;
    const random = prng(seed);
    const a = await accountWithDatabase();
    // A key from the seed too: the chunker's cut points depend on it, and with them which packs
    // get mostly dead (and merged), so the same seed replays the same sequence.
    const key = parseEncryptionKey(SYMMETRIC_KEY_PREFIX + Buffer.alloc(32, seed).toString('base64url'));
    const keys = dedupKeys(dedupSecretOf(key)!);
    let table = tableText(6000, seed);
    const live = new Map<string, Buffer>();

    const backup = async () => {
      // Each "day" changes the table: an insert somewhere, often a fifth rewritten, sometimes all.
      const at = Math.floor(random() * table.length);
      table = Buffer.concat([
        table.subarray(0, at),
        tableText(20, Math.floor(random() * 1e6)),
        table.subarray(at),
      ]);
      // and half the days rewrite a fifth of it (so that older packs get mostly dead: merges)
      if (random() < 0.5) {
        const from = Math.floor(random() * table.length * 0.8);
        table = Buffer.concat([
          table.subarray(0, from),
          tableText(1200, Math.floor(random() * 1e6)),
          table.subarray(from + Math.floor(table.length * 0.2)),
        ]);
      }
      if (random() < 0.2) table = tableText(6000, Math.floor(random() * 1e6));
      const sections = [
        { kind: 'pre-data' as const, name: '', data: Buffer.from('create table t (x text);\n') },
        { kind: 'data' as const, name: 'public.t', data: table },
      ];
      const { backup: b, upload } = await a.client.startBackup({
        databaseId: a.database.id,
        trigger: 'manual',
      });
      const store = new RemoteChunkStore({
        api: a.client,
        agents,
        backupId: b.id,
        checksum: upload.checksum,
      });
      const writer = new DedupWriter(keys, store, {
        level: 1,
        chunking: { min: 1024, avg: 4096, max: 16384 },
      });
      for (const s of sections) await writer.write(writer.section(s.kind, s.name), Readable.from([s.data]));
      const manifest = await writer.finish();
      await store.seal(
        [...chunkRefs(manifest)].map((r) => r.ref[0]),
        writer.stats.logicalBytes,
      );
      const file = new Uint8Array(await encryptManifest(key, manifest));
      const parts = await putParts(a.client, b.id, upload, file);
      await a.client.completeBackup(b.id, {
        parts,
        sizeBytes: file.length,
        sha256: createHash('sha256').update(file).digest('hex'),
        keyId: key.keyId,
      });
      live.set(b.id, Buffer.concat(sections.map((s) => s.data)));
    };

    const check = async (step: number) => {
      for (const [id, expected] of live) {
        const link = await a.session.json<{ url: string }>(`/backups/${id}/download`);
        expect(link.status).toBe(200);
        const res = await fetch(link.body.url);
        expect(res.status, `step ${step}, backup ${id}`).toBe(200);
        const path = join(dir, `${id}.resistro`);
        writeFileSync(path, Buffer.from(await res.arrayBuffer()));
        const out: Buffer[] = [];
        for await (const b of readContainerSql(path, key)) out.push(b as Buffer);
        expect(Buffer.concat(out).equals(expected), `step ${step}, backup ${id}`).toBe(true);
        // and as restore --backup reads it: ranged reads straight from the packs
        const remote = await openRemoteBackup({ plan: () => a.client.dedupReads(id), key, agents });
        const ranged: Buffer[] = [];
        for await (const b of remote.open()) ranged.push(b as Buffer);
        expect(Buffer.concat(ranged).equals(expected), `step ${step}, backup ${id}, ranged`).toBe(true);
      }
      const [orphans] = await sql<{ n: number }>(
        `select count(*)::int as n from dedup_chunks c where c.account_id = $1
          and not exists (select 1 from dedup_refs r where r.account_id = c.account_id and r.chunk_id = c.chunk_id)`,
        [a.account.id],
      );
      expect(orphans!.n, `step ${step}: chunks no backup references`).toBe(0);
      const [empty] = await sql<{ n: number }>(
        `select count(*)::int as n from dedup_packs p where p.account_id = $1 and p.retired_at is null
          and not exists (select 1 from dedup_chunks c where c.pack_id = p.id)`,
        [a.account.id],
      );
      expect(empty!.n, `step ${step}: packs without a chunk (but retired ones)`).toBe(0);
      const [retiredInUse] = await sql<{ n: number }>(
        `select count(*)::int as n from dedup_chunks c join dedup_packs p on p.id = c.pack_id
          where c.account_id = $1 and p.retired_at is not null`,
        [a.account.id],
      );
      expect(retiredInUse!.n, `step ${step}: chunks indexed in a retired pack`).toBe(0);
      const [usage] = await sql<{ used: string; stored: string }>(
        `select a.storage_used_bytes as used,
            (select coalesce(sum(size_bytes), 0) from dedup_packs where account_id = a.id)
          + (select coalesce(sum(size_bytes), 0) from backups where account_id = a.id and status = 'succeeded') as stored
          from accounts a where a.id = $1`,
        [a.account.id],
      );
      expect(Number(usage!.used), `step ${step}: usage`).toBe(Number(usage!.stored));
    };

    let merged = 0;
    /** Retired packs (rewritten or merged) past their grace period, then the cron's collection. */
    const passGracePeriod = async () => {
      await sql(
        "update dedup_packs set retired_at = retired_at - interval '8 days' where account_id = $1 and retired_at is not null",
        [a.account.id],
      );
      await sql('insert into dedup_pending (account_id) values ($1) on conflict do nothing', [a.account.id]);
      await runCron();
    };

    for (let step = 0; step < 14; step++) {
      if (live.size < 2 || random() < 0.55) await backup();
      else {
        const ids = [...live.keys()];
        const victim = ids[Math.floor(random() * ids.length)]!;
        const del = await a.session.fetch(`/backups/${victim}`, { method: 'DELETE' });
        expect(del.status).toBe(204);
        live.delete(victim);
        await runCron();
        merged += await mergePacks(db, storage(), a.account.id, new Date(), {
          minFreedBytes: 1,
          minDeadFraction: 0.25,
        });
        if (random() < 0.4) await passGracePeriod();
      }
      await check(step);
    }
    expect(merged, 'the sequence merged packs').toBeGreaterThan(0);
    // Everything goes: nothing of the account stays in storage or in the index.
    for (const id of [...live.keys()]) {
      expect((await a.session.fetch(`/backups/${id}`, { method: 'DELETE' })).status).toBe(204);
      live.delete(id);
    }
    await runCron();
    await passGracePeriod();
    await check(99);
    const [left] = await sql<{ n: number }>(
      'select count(*)::int as n from dedup_packs where account_id = $1',
      [a.account.id],
    );
    expect(left!.n).toBe(0);
  }, 300_000);
});
