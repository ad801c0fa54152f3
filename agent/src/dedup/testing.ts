// Test helpers: a deduplicated backup of in-memory sections into a MemoryChunkStore, and its
// container file as the control plane would stream it.
import { Readable } from 'node:stream';
import type { EncryptionKey, SectionKind } from '../format/index.ts';
import type { ChunkerParams } from './chunker.ts';
import { buildContainer } from './container.ts';
import { dedupKeys, dedupSecretOf, hostDedupSecret } from './keys.ts';
import { chunkRefs, encryptManifest, type Manifest } from './manifest.ts';
import type { MemoryChunkStore } from './store.ts';
import { DedupWriter } from './writer.ts';

export type TestSection = { kind: SectionKind; name: string; data: Buffer };

export async function backupToStore(
  key: EncryptionKey,
  store: MemoryChunkStore,
  sections: TestSection[],
  opts: { chunking?: ChunkerParams; secretPath?: string } = {},
): Promise<{ manifest: Manifest; manifestFile: Buffer; writer: DedupWriter }> {
  const secret = dedupSecretOf(key) ?? (await hostDedupSecret(opts.secretPath ?? '/nonexistent'));
  const writer = new DedupWriter(dedupKeys(secret), store, {
    level: 3,
    ...(opts.chunking && { chunking: opts.chunking }),
  });
  const indexes = sections.map((s) => writer.section(s.kind, s.name));
  await Promise.all(sections.map((s, i) => writer.write(indexes[i]!, Readable.from(pieces(s.data, 7919)))));
  const manifest = await writer.finish({ engine: 'test' });
  return { manifest, manifestFile: await encryptManifest(key, manifest), writer };
}

function* pieces(data: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

/** The blobs in manifest order, as the download streams them. */
export function storedBlobs(store: MemoryChunkStore, manifest: Manifest): Buffer[] {
  return [...chunkRefs(manifest)].map(({ ref }) => {
    const blob = store.blob(ref[0]);
    if (!blob) throw new Error(`store lacks ${ref[0]}`);
    return blob;
  });
}

export function containerOf(store: MemoryChunkStore, manifest: Manifest, manifestFile: Buffer): Buffer {
  return buildContainer(manifestFile, storedBlobs(store, manifest));
}

/** Text with the shape of a table dump: rows with ids, some repeated structure. */
export function tableText(rows: number, seed: number, from = 0): Buffer {
  const out: string[] = [];
  let x = seed >>> 0 || 1;
  const rnd = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  for (let i = from; i < from + rows; i++)
    out.push(
      `${i}\tcustomer-${rnd() % 100000}\t${(rnd() % 100000) / 100}\t2026-11-${(i % 28) + 1}\tnote ${rnd().toString(36)}\n`,
    );
  return Buffer.from(out.join(''));
}
