// Shared by the deduplicated-storage suites (dedup-storage, dedup-merge): the local S3 server as
// the worker sees it, a customer key, and a deduplicated backup made the way the agent makes it.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { AwsClient } from 'aws4fetch';
import { type DedupKeys, dedupKeys, dedupSecretOf } from '../../agent/src/dedup/keys.ts';
import { chunkRefs, encryptManifest } from '../../agent/src/dedup/manifest.ts';
import { RemoteChunkStore } from '../../agent/src/dedup/remote-store.ts';
import { DedupWriter } from '../../agent/src/dedup/writer.ts';
import {
  type EncryptionKey,
  generateSymmetricKey,
  parseEncryptionKey,
} from '../../agent/src/format/index.ts';
import { createAgents } from '../../agent/src/upload/http.ts';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import { type accountWithDatabase, putParts, stackInfo } from '../../scripts/test/api.ts';
import { createS3Storage } from '../src/storage/s3.ts';

/** The HTTP agents of the suite's uploads and reads; the suite destroys them in its afterAll. */
export const agents = createAgents(4);

export const aws = new AwsClient({
  accessKeyId: S3_ACCESS_KEY_ID,
  secretAccessKey: S3_SECRET_ACCESS_KEY,
  service: 's3',
  region: 'us-east-1',
});
export const objectUrl = (key: string, bucket = stackInfo().bucket) =>
  `${stackInfo().s3Url}/${bucket}/${key}`;
/** The stack's primary storage, as the worker reaches it. */
export const primary = () =>
  createS3Storage({
    endpoint: stackInfo().s3Url,
    region: 'us-east-1',
    bucket: stackInfo().bucket,
    accessKeyId: S3_ACCESS_KEY_ID,
    secretAccessKey: S3_SECRET_ACCESS_KEY,
    pathStyle: true,
  });

export type Account = Awaited<ReturnType<typeof accountWithDatabase>>;
export type Keys = { key: EncryptionKey; keys: DedupKeys };
export type Section = { kind: 'pre-data' | 'data'; name: string; data: Buffer };

export function newKey(): Keys {
  const key = parseEncryptionKey(generateSymmetricKey());
  return { key, keys: dedupKeys(dedupSecretOf(key)!) };
}

/**
 * One deduplicated backup as the agent makes it (its chunker, packer and store client), with real
 * presigned uploads; with `fail`, it fails after sealing (its packs stored, referenced, locked).
 */
export async function dedupBackup(a: Account, k: Keys, sections: Section[], opts: { fail?: boolean } = {}) {
  const { backup: b, upload } = await a.client.startBackup({ databaseId: a.database.id, trigger: 'manual' });
  const store = new RemoteChunkStore({ api: a.client, agents, backupId: b.id, checksum: upload.checksum });
  const writer = new DedupWriter(k.keys, store, { level: 1 });
  for (const s of sections) await writer.write(writer.section(s.kind, s.name), Readable.from([s.data]));
  const manifest = await writer.finish();
  await store.seal(
    [...chunkRefs(manifest)].map((r) => r.ref[0]),
    writer.stats.logicalBytes,
  );
  if (opts.fail) {
    await a.client.failBackup(b.id, { error: 'the agent failed after sealing' });
    return { id: b.id, lockedUntil: null, expected: Buffer.alloc(0) };
  }
  const file = new Uint8Array(await encryptManifest(k.key, manifest));
  const parts = await putParts(a.client, b.id, upload, file);
  const done = await a.client.completeBackup(b.id, {
    parts,
    sizeBytes: file.length,
    sha256: createHash('sha256').update(file).digest('hex'),
    keyId: k.key.keyId,
  });
  return {
    id: b.id,
    lockedUntil: done.backup.lockedUntil,
    expected: Buffer.concat(sections.map((s) => s.data)),
  };
}
