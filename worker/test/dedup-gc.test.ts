// Deduplicated storage, collection model (issue 17): random backups (the agent's own chunker,
// packer and store client against the real control plane and the S3 server) and random deletions,
// with the cron collecting after each deletion. After every step each remaining backup downloads
// as a complete file that decrypts to exactly what it was made from (and reads so through the
// ranged reads of restore --backup), no chunk is left that no backup references, and the
// account's usage is the bytes actually stored.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { readContainerSql } from '../../agent/src/dedup/container.ts';
import { dedupKeys, dedupSecretOf } from '../../agent/src/dedup/keys.ts';
import { chunkRefs, encryptManifest } from '../../agent/src/dedup/manifest.ts';
import { openRemoteBackup } from '../../agent/src/dedup/remote-read.ts';
import { RemoteChunkStore } from '../../agent/src/dedup/remote-store.ts';
import { tableText } from '../../agent/src/dedup/testing.ts';
import { DedupWriter } from '../../agent/src/dedup/writer.ts';
import { generateSymmetricKey, parseEncryptionKey } from '../../agent/src/format/index.ts';
import { createAgents } from '../../agent/src/upload/http.ts';
import { accountWithDatabase, putParts, runCron, sql } from '../../scripts/test/api.ts';

const dir = mkdtempSync(join(tmpdir(), 'dedup-gc-'));
const agents = createAgents(4);
afterAll(() => {
  agents.destroy();
  rmSync(dir, { recursive: true, force: true });
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
    const key = parseEncryptionKey(generateSymmetricKey());
    const keys = dedupKeys(dedupSecretOf(key)!);
    let table = tableText(6000, seed);
    const live = new Map<string, Buffer>();

    const backup = async () => {
      // Each "day" changes the table a little: an insert somewhere, a tail, sometimes a rewrite.
      const at = Math.floor(random() * table.length);
      table = Buffer.concat([
        table.subarray(0, at),
        tableText(20, Math.floor(random() * 1e6)),
        table.subarray(at),
      ]);
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
        `select count(*)::int as n from dedup_packs p where p.account_id = $1
          and not exists (select 1 from dedup_chunks c where c.pack_id = p.id)`,
        [a.account.id],
      );
      expect(empty!.n, `step ${step}: packs without a chunk`).toBe(0);
      const [usage] = await sql<{ used: string; stored: string }>(
        `select a.storage_used_bytes as used,
            (select coalesce(sum(size_bytes), 0) from dedup_packs where account_id = a.id)
          + (select coalesce(sum(size_bytes), 0) from backups where account_id = a.id and status = 'succeeded') as stored
          from accounts a where a.id = $1`,
        [a.account.id],
      );
      expect(Number(usage!.used), `step ${step}: usage`).toBe(Number(usage!.stored));
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
      }
      await check(step);
    }
    // Everything goes: nothing of the account stays in storage or in the index.
    for (const id of [...live.keys()]) {
      expect((await a.session.fetch(`/backups/${id}`, { method: 'DELETE' })).status).toBe(204);
      live.delete(id);
    }
    await runCron();
    await check(99);
    const [left] = await sql<{ n: number }>(
      'select count(*)::int as n from dedup_packs where account_id = $1',
      [a.account.id],
    );
    expect(left!.n).toBe(0);
  }, 300_000);
});
