// A version 3 file read section by section (container-sections.ts), as a parallel restore of a
// downloaded deduplicated backup reads it: every section gives back its own bytes (as plaintext,
// or as zstd frames the zstd program turns into them); a file with bytes missing or added is
// refused before any section is read; a swapped record is refused, naming the chunk.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FormatError, generateSymmetricKey, parseEncryptionKey } from '../format/index.ts';
import { buildContainer } from './container.ts';
import { openContainerSections } from './container-sections.ts';
import { MemoryChunkStore } from './store.ts';
import { backupToStore, containerOf, storedBlobs, type TestSection, tableText } from './testing.ts';

const key = parseEncryptionKey(generateSymmetricKey());
const dir = await mkdtemp(join(tmpdir(), 'resistro-sections-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const sections: TestSection[] = [
  { kind: 'pre-data', name: '', data: Buffer.from('CREATE TABLE t (id int);\n') },
  { kind: 'data', name: 'public.orders', data: tableText(20000, 1) },
  { kind: 'data', name: 'public.empty', data: Buffer.alloc(0) },
  { kind: 'data', name: 'public.customers', data: tableText(5000, 2) },
  { kind: 'post-data', name: '', data: Buffer.from('CREATE INDEX ON t (id);\n') },
];

async function fileOf(bytes: Buffer): Promise<string> {
  const path = join(dir, `f-${Math.random().toString(36).slice(2)}.resistro`);
  await writeFile(path, bytes);
  return path;
}

async function all(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of stream) parts.push(b as Buffer);
  return Buffer.concat(parts);
}

describe('a version 3 file, section by section', async () => {
  const store = new MemoryChunkStore();
  const backup = await backupToStore(key, store, sections);
  const bytes = containerOf(store, backup.manifest, backup.manifestFile);

  it('gives every section back, as plaintext and as zstd frames', async () => {
    const file = await openContainerSections(await fileOf(bytes), key);
    let counted = 0;
    const texts = await Promise.all(
      sections.map((_, i) => all(file.read(i, { frames: false, onFileBytes: (n) => (counted += n) }))),
    );
    texts.forEach((t, i) => {
      expect(t.equals(sections[i]!.data), `section ${i}`).toBe(true);
    });
    expect(file.bodyStart + counted).toBe(bytes.length);
    const frames = await all(file.read(1, { frames: true }));
    const zstd = spawnSync('zstd', ['-d', '-c', '-q'], { input: frames, maxBuffer: 1 << 24 });
    expect(zstd.status, zstd.stderr?.toString()).toBe(0);
    expect(zstd.stdout.equals(sections[1]!.data)).toBe(true);
  });

  it('refuses a file with bytes missing or added before reading a section', async () => {
    for (const [changed, code] of [
      [bytes.subarray(0, bytes.length - 1), 'truncated'],
      [Buffer.concat([bytes, Buffer.from([0])]), 'trailing_data'],
    ] as const) {
      const error = await openContainerSections(await fileOf(changed), key).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FormatError);
      expect((error as FormatError).code).toBe(code);
    }
  });

  it('refuses two records swapped, naming the chunk', async () => {
    const blobs = storedBlobs(store, backup.manifest);
    const swapped = [...blobs];
    [swapped[2], swapped[3]] = [swapped[3]!, swapped[2]!];
    const file = await openContainerSections(await fileOf(buildContainer(backup.manifestFile, swapped)), key);
    const error = await all(file.read(1, { frames: false })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FormatError);
    expect((error as FormatError).code).toBe('chunk_corrupt');
    expect((error as Error).message).toMatch(/chunk \d+ of \d+ in section "data public\.orders"/);
  });
});
