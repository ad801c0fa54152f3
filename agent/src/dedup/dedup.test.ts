import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ChunkCorruptError,
  FormatError,
  generateKeyPair,
  generateSymmetricKey,
  parseEncryptionKey,
  TrailingDataError,
  TruncatedError,
  WrongKeyError,
} from '../format/index.ts';
import { Chunker } from './chunker.ts';
import { CONTAINER_PREFIX_LENGTH, readContainerSql } from './container.ts';
import { dedupKeys, dedupSecretOf } from './keys.ts';
import { chunkRefs } from './manifest.ts';
import { MemoryChunkStore } from './store.ts';
import { backupToStore, containerOf, storedBlobs, type TestSection, tableText } from './testing.ts';

const key = parseEncryptionKey(generateSymmetricKey());
const dir = await mkdtemp(join(tmpdir(), 'resistro-dedup-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const day1: TestSection[] = [
  { kind: 'pre-data', name: '', data: Buffer.from('CREATE TABLE t (id int);\n') },
  { kind: 'data', name: 'public.orders', data: tableText(20000, 1) },
  { kind: 'data', name: 'public.empty', data: Buffer.alloc(0) },
  { kind: 'post-data', name: '', data: Buffer.from('CREATE INDEX ON t (id);\n') },
];

async function readAll(file: Buffer, k = key): Promise<Buffer> {
  const path = join(dir, `f-${Math.random().toString(36).slice(2)}.resistro`);
  await writeFile(path, file);
  const out: Buffer[] = [];
  for await (const b of readContainerSql(path, k)) out.push(b as Buffer);
  return Buffer.concat(out);
}

async function refused(file: Buffer, k = key): Promise<FormatError> {
  const error = await readAll(file, k).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FormatError);
  return error as FormatError;
}

const expected = Buffer.concat(day1.map((s) => s.data));
const store = new MemoryChunkStore();
const one = await backupToStore(key, store, day1);
const file = containerOf(store, one.manifest, one.manifestFile);
const blobs = storedBlobs(store, one.manifest);
const bodyStart = CONTAINER_PREFIX_LENGTH + one.manifestFile.length;
/** the container with its records replaced */
const withRecords = (records: Buffer[]) =>
  Buffer.concat([
    file.subarray(0, bodyStart),
    ...records.flatMap((b) => {
      const n = Buffer.alloc(4);
      n.writeUInt32BE(b.length);
      return [n, b];
    }),
  ]);

describe('keyed chunking', () => {
  it('cuts at content-defined places that depend on the key', () => {
    const data = tableText(30000, 7);
    const cut = (secret: Buffer) => {
      const c = new Chunker(dedupKeys(secret).gear);
      return [...c.push(data), c.end()!].map((b) => b.length);
    };
    const a = cut(Buffer.alloc(32, 1));
    const b = cut(Buffer.alloc(32, 2));
    expect(a.reduce((x, y) => x + y)).toBe(data.length);
    expect(a).not.toEqual(b);
    for (const n of a.slice(0, -1)) {
      expect(n).toBeGreaterThanOrEqual(8 * 1024);
      expect(n).toBeLessThanOrEqual(128 * 1024);
    }
  });

  it('keeps the chunks after an insertion', () => {
    const keys = dedupKeys(dedupSecretOf(key)!);
    const data = tableText(30000, 9);
    const edited = Buffer.concat([
      data.subarray(0, 1000),
      Buffer.from('inserted row\n'),
      data.subarray(1000),
    ]);
    const ids = (d: Buffer) => {
      const c = new Chunker(keys.gear);
      return new Set([...c.push(d), c.end()!].map((b) => b.toString('base64')));
    };
    const before = ids(data);
    const after = [...ids(edited)];
    expect(after.filter((x) => before.has(x)).length).toBeGreaterThanOrEqual(after.length - 2);
  });
});

describe('deduplicated backup round trip', () => {
  it('restores every section byte for byte, in order', async () => {
    expect((await readAll(file)).equals(expected)).toBe(true);
    expect(one.manifest.sections.map((s) => s.plaintextBytes)).toEqual(day1.map((s) => s.data.length));
  });

  it('uploads only the chunks of a changed day', async () => {
    const day2 = day1.map((s) =>
      s.name === 'public.orders' ? { ...s, data: Buffer.concat([s.data, tableText(200, 2, 20000)]) } : s,
    );
    const before = store.storedBytes;
    const two = await backupToStore(key, store, day2);
    expect(two.writer.stats.newChunks).toBeLessThanOrEqual(3);
    expect(store.storedBytes - before).toBeLessThan(one.writer.stats.uploadedBytes / 5);
    const restored = await readAll(containerOf(store, two.manifest, two.manifestFile));
    expect(restored.equals(Buffer.concat(day2.map((s) => s.data)))).toBe(true);
  });

  it('works in public-key mode with the host secret, and the private key restores it', async () => {
    const pair = generateKeyPair();
    const pub = parseEncryptionKey(pair.publicKey);
    const s = new MemoryChunkStore();
    const b = await backupToStore(pub, s, day1, { secretPath: join(dir, 'host-secret') });
    const restored = await readAll(
      containerOf(s, b.manifest, b.manifestFile),
      parseEncryptionKey(pair.privateKey),
    );
    expect(restored.equals(expected)).toBe(true);
  });
});

describe('tampering with the downloadable file is refused, naming the chunk', () => {
  it('an altered chunk', async () => {
    const altered = blobs.map((b, i) => (i === 3 ? Buffer.from(b.map((x, j) => (j === 10 ? x ^ 1 : x))) : b));
    const error = await refused(withRecords(altered));
    expect(error).toBeInstanceOf(ChunkCorruptError);
    expect(error.message).toMatch(/chunk 3 of \d+ in section "data public.orders" \(id .{12}…\)/);
  });

  it('two chunks swapped, a chunk repeated, a chunk missing', async () => {
    const swapped = [...blobs];
    [swapped[2], swapped[3]] = [swapped[3]!, swapped[2]!];
    expect(await refused(withRecords(swapped))).toBeInstanceOf(ChunkCorruptError);
    const repeated = [...blobs.slice(0, 3), blobs[2]!, ...blobs.slice(4)];
    expect(await refused(withRecords(repeated))).toBeInstanceOf(ChunkCorruptError);
    const missing = [...blobs.slice(0, 2), ...blobs.slice(3)];
    const error = await refused(withRecords(missing));
    expect(error).toBeInstanceOf(ChunkCorruptError);
    expect(error.message).toMatch(/chunk 2 of/);
  });

  it('a chunk of another backup with the same length', async () => {
    const other = new MemoryChunkStore();
    const b = await backupToStore(key, other, [{ kind: 'data', name: 'x', data: tableText(20000, 99) }]);
    const foreign = storedBlobs(other, b.manifest).find((x) => x.length === blobs[2]!.length);
    if (!foreign) return; // lengths vary by content; the swap case above covers it
    const replaced = blobs.map((x, i) => (i === 2 ? foreign : x));
    expect(await refused(withRecords(replaced))).toBeInstanceOf(ChunkCorruptError);
  });

  it('a cut file, a truncated manifest, bytes appended, a wrong key', async () => {
    expect(await refused(file.subarray(0, file.length - 1))).toBeInstanceOf(TruncatedError);
    expect(await refused(file.subarray(0, bodyStart - 5))).toBeInstanceOf(TruncatedError);
    const shortManifest = Buffer.concat([
      file.subarray(0, 16),
      Buffer.alloc(8),
      file.subarray(24, bodyStart - 30),
    ]);
    shortManifest.writeBigUInt64BE(BigInt(one.manifestFile.length - 30), 16);
    expect(await refused(shortManifest)).toBeInstanceOf(TruncatedError);
    expect(await refused(Buffer.concat([file, Buffer.from([0])]))).toBeInstanceOf(TrailingDataError);
    expect(await refused(file, parseEncryptionKey(generateSymmetricKey()))).toBeInstanceOf(WrongKeyError);
  });

  it('every referenced chunk in the manifest is distinct by id and key', () => {
    const refs = [...chunkRefs(one.manifest)];
    expect(refs.length).toBe(blobs.length);
    expect(refs.every((r) => r.ref[0].length === 43 && r.ref[1].length === 43)).toBe(true);
  });
});
