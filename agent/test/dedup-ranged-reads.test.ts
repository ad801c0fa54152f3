// The ranged reads of `restore --backup` for a deduplicated backup (dedup/remote-read.ts, FORMAT.md
// §13.9) against the signature-checking S3 server: packs and manifest stored there, read through
// presigned URLs planned as the service plans them (coalesceReads). Every byte comes back in order;
// URLs that expired mid-restore are asked for again; a pack deleted from storage and a plan that
// does not fit the manifest are refused, the missing chunk named.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { coalesceReads, type DedupReads } from '@resistro/contract';
import { AwsClient } from 'aws4fetch';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import { stackInfo } from '../../scripts/test/api.ts';
import { chunkLabel } from '../src/dedup/container.ts';
import { chunkRefs } from '../src/dedup/manifest.ts';
import { createReadLimit, openRemoteBackup, type ReadLimit } from '../src/dedup/remote-read.ts';
import { MemoryChunkStore } from '../src/dedup/store.ts';
import { backupToStore, type TestSection, tableText } from '../src/dedup/testing.ts';
import { FormatError, generateSymmetricKey, parseEncryptionKey } from '../src/format/index.ts';
import { createAgents } from '../src/upload/http.ts';

const aws = new AwsClient({
  accessKeyId: S3_ACCESS_KEY_ID,
  secretAccessKey: S3_SECRET_ACCESS_KEY,
  service: 's3',
  region: 'us-east-1',
});
const prefix = `dedup-ranged-reads/${randomUUID()}`;
const objectUrl = (key: string) => `${stackInfo().s3Url}/${stackInfo().bucket}/${prefix}/${key}`;
const presign = async (key: string, expires = 3600, signedAt?: Date) => {
  const url = new URL(objectUrl(key));
  url.searchParams.set('X-Amz-Expires', String(expires));
  const datetime = signedAt?.toISOString().replace(/[:-]|\.\d{3}/g, '');
  return (await aws.sign(url.toString(), { method: 'GET', aws: { signQuery: true, datetime } })).url;
};

const key = parseEncryptionKey(generateSymmetricKey());
const store = new MemoryChunkStore();
const agents = createAgents(8);
// Two backups: the second shares most chunks with the first, so its reads span both packs' runs.
const day1: TestSection[] = [
  { kind: 'pre-data', name: '', data: Buffer.from('CREATE TABLE t (id int);\n') },
  { kind: 'data', name: 'public.orders', data: tableText(60_000, 1) },
  { kind: 'data', name: 'public.customers', data: tableText(20_000, 2) },
  { kind: 'post-data', name: '', data: Buffer.from('ALTER TABLE t ADD PRIMARY KEY (id);\n') },
];
const day2: TestSection[] = day1.map((s) =>
  s.name === 'public.orders' ? { ...s, data: Buffer.concat([s.data, tableText(2_000, 3, 60_000)]) } : s,
);
let backup: Awaited<ReturnType<typeof backupToStore>>;

async function put(name: string, body: Buffer) {
  const res = await aws.fetch(objectUrl(name), { method: 'PUT', body: new Uint8Array(body) });
  expect(res.status).toBe(200);
}

/** What GET /backups/{id}/dedup/reads answers, with URLs valid for `expires` seconds. */
async function plan(expires = 3600): Promise<DedupReads> {
  const { packs, runs } = coalesceReads(
    [...chunkRefs(backup.manifest)].map(({ ref }) => {
      const at = store.index.get(ref[0])!;
      return { pack: `pack-${at.pack}`, offset: at.offset, length: at.length };
    }),
  );
  return {
    manifestUrl: await presign('manifest', expires),
    packs: await Promise.all(packs.map((p) => presign(p, expires))),
    runs,
    refs: [...chunkRefs(backup.manifest)].length,
    ttlSeconds: expires,
    expiresAt: new Date(Date.now() + expires * 1000).toISOString(),
  };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(
    stream,
    new Writable({
      write(chunk: Buffer, _e, cb) {
        parts.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}

describe('ranged reads of a deduplicated backup straight from storage', () => {
  beforeAll(async () => {
    await backupToStore(key, store, day1);
    backup = await backupToStore(key, store, day2);
    for (let i = 0; i < store.packs.length; i++) await put(`pack-${i}`, store.packs[i]!);
    await put('manifest', backup.manifestFile);
  });
  afterAll(() => agents.destroy());

  test('every section comes back in order, neighbouring chunks sharing a read', async () => {
    const p = await plan();
    expect(p.runs.length).toBeLessThan(p.refs / 4);
    const remote = await openRemoteBackup({ plan: async () => p, key, agents, inFlight: 2 });
    expect(remote.header.keyId).toBe(key.keyId);
    const all = await readAll(remote.open());
    expect(all.equals(Buffer.concat(day2.map((s) => s.data)))).toBe(true);
  });

  test.each([
    ['before they expire (by their lifetime)', 1],
    ['when storage refuses them (403)', 3600],
  ])('URLs are asked for again %s, and the restore goes on', async (_when, claimed) => {
    let asked = 0;
    const remote = await openRemoteBackup({
      // the first plan's URLs are valid for one second only (and may claim to live longer)
      plan: async () => (++asked === 1 ? { ...(await plan(1)), ttlSeconds: claimed } : plan(3600)),
      key,
      agents,
    });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const all = await readAll(remote.open());
    expect(all.equals(Buffer.concat(day2.map((s) => s.data)))).toBe(true);
    expect(asked).toBeGreaterThan(1);
  });

  test('a manifest link that expired before it was used is asked for again', async () => {
    let asked = 0;
    const remote = await openRemoteBackup({
      // the first plan was signed an hour ago for a minute: storage refuses it as expired
      plan: async () =>
        ++asked === 1
          ? {
              ...(await plan()),
              manifestUrl: await presign('manifest', 60, new Date(Date.now() - 3_600_000)),
            }
          : plan(),
      key,
      agents,
    });
    expect(asked).toBe(2);
    const all = await readAll(remote.open());
    expect(all.equals(Buffer.concat(day2.map((s) => s.data)))).toBe(true);
  });

  test('sections read at once share one bound on the reads in flight; a stopped one gives its permits back', async () => {
    const p = await plan();
    const remote = await openRemoteBackup({ plan: async () => p, key, agents });
    // The shared limit, watched: how many permits are held at once, at most.
    const inner = createReadLimit(2);
    let held = 0;
    let most = 0;
    const take = () => {
      held++;
      most = Math.max(most, held);
    };
    const limit: ReadLimit = {
      size: inner.size,
      acquire: async (signal) => {
        await inner.acquire(signal);
        take();
      },
      tryAcquire: () => {
        const got = inner.tryAcquire();
        if (got) take();
        return got;
      },
      release: () => {
        held--;
        inner.release();
      },
    };
    const files: number[] = [];
    const texts = await Promise.all(
      day2.map((_, i) => readAll(remote.openSection(i, { onFileBytes: (n) => files.push(n) }, limit))),
    );
    texts.forEach((text, i) => {
      expect(text.equals(day2[i]!.data), `section ${i}`).toBe(true);
    });
    expect(most).toBe(2);
    expect(held).toBe(0);
    // every blob counted once, the manifest not (the caller counts it)
    expect(files.reduce((n, x) => n + x, 0)).toBe(remote.storedBytes - remote.manifestBytes);

    // A session that stops after its first piece (a failure elsewhere) releases what it held.
    const orders = remote.openSection(1, {}, limit);
    const first = await new Promise<Buffer>((resolve, reject) => {
      orders.once('data', resolve);
      orders.once('error', reject);
    });
    expect(first.length).toBeGreaterThan(0);
    orders.destroy();
    for (let waited = 0; held > 0; waited += 50) {
      if (waited > 20_000) throw new Error(`a destroyed section still holds ${held} read permits`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(held).toBe(0);
    // and the limit is whole again: both permits can be taken at once
    expect(inner.tryAcquire() && inner.tryAcquire()).toBe(true);
  });

  test('a plan that does not fit the manifest is refused before any data', async () => {
    const p = await plan();
    const short = { ...p, runs: p.runs.slice(1), refs: p.refs - p.runs[0]![3].length };
    const remote = await openRemoteBackup({ plan: async () => short, key, agents });
    const error = await readAll(remote.open()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FormatError);
    expect((error as FormatError).code).toBe('toc_corrupt');
  });

  test('a pack deleted from storage is refused, naming the first chunk it should have given', async () => {
    const p = await plan();
    // the pack of the last run: the chunks appended on day 2
    const [pack, , , offsets] = p.runs[p.runs.length - 1]!;
    const firstRef = p.runs.slice(0, -1).reduce((n, r) => n + r[3].length, 0);
    const runOfPack = p.runs.findIndex((r) => r[0] === pack);
    const firstOfPack = p.runs.slice(0, runOfPack).reduce((n, r) => n + r[3].length, 0);
    expect(offsets.length).toBeGreaterThan(0);
    const name = `pack-${store.index.get([...chunkRefs(backup.manifest)][firstRef]!.ref[0])!.pack}`;
    const saved = Buffer.from(await (await aws.fetch(objectUrl(name))).arrayBuffer());
    expect((await aws.fetch(objectUrl(name), { method: 'DELETE' })).status).toBe(204);
    try {
      const remote = await openRemoteBackup({ plan: async () => p, key, agents });
      const error = await readAll(remote.open()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(FormatError);
      expect((error as FormatError).code).toBe('chunk_corrupt');
      const refs = [...chunkRefs(backup.manifest)];
      const first = refs[firstOfPack]!;
      expect((error as Error).message).toBe(
        `${chunkLabel(backup.manifest, first.section, first.index)} is missing: storage has no pack holding it`,
      );
    } finally {
      await put(name, saved);
    }
  });
});
