// Writes the golden vectors of version 3 (FORMAT.md §13.10): node agent/src/format/vectors/v3/generate.ts
// Released vectors never change: this refuses to overwrite an existing vectors.json. The keys are
// those of version 1 (../vectors.json); the symmetric key's dedup secret is derived from it, the
// x25519 vector uses a fixed host secret (public-key mode: the host's own random D).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zstdCompressSync } from 'node:zlib';
import { sealChunk } from '../../../dedup/blob.ts';
import { Chunker } from '../../../dedup/chunker.ts';
import { buildContainer } from '../../../dedup/container.ts';
import { chunkIdentity, dedupKeys, dedupSecretOf } from '../../../dedup/keys.ts';
import { type ChunkRef, MANIFEST_FORMAT, type Manifest } from '../../../dedup/manifest.ts';
import type { FileRandomness } from '../../envelope.ts';
import { parseEncryptionKey } from '../../keys.ts';
import type { SectionKind } from '../../sections.ts';
import { encryptToBuffer } from '../../testing.ts';

const directory = dirname(fileURLToPath(import.meta.url));
const keys = JSON.parse(readFileSync(join(directory, '..', 'vectors.json'), 'utf8')).keys as Record<
  string,
  { text: string }
>;
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Deterministic bytes that do not compress (SHA-256 in counter mode): their blobs are stored raw. */
export function noise(label: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0, at = 0; at < length; i++, at += 32) sha256(`${label} ${i}`).copy(out, at);
  return out;
}

// SECURITY: deterministic per-file secrets, so the vectors are reproducible; only for vectors.
function randomnessFor(name: string, x25519: boolean): FileRandomness {
  return {
    dataKey: sha256(`resistro v3 vector ${name} data key`),
    salt: sha256(`resistro v3 vector ${name} salt`),
    noncePrefix: sha256(`resistro v3 vector ${name} nonce prefix`).subarray(0, 7),
    ephemeralPrivateKey: x25519 ? sha256(`resistro v3 vector ${name} ephemeral`) : undefined,
  };
}

const SQL_PRE = 'CREATE TABLE public.orders (id bigint NOT NULL, note text);\n'.repeat(4);
const SQL_POST = 'ALTER TABLE ONLY public.orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id);\n';
const SECTIONS: { kind: SectionKind; name: string; data: Buffer }[] = [
  { kind: 'pre-data', name: '', data: Buffer.from(SQL_PRE) },
  { kind: 'data', name: 'public.orders', data: noise('orders', 6000) },
  // the same bytes in another section: the same chunks, each id referenced twice
  { kind: 'data', name: 'public.orders_copy', data: noise('orders', 6000) },
  { kind: 'data', name: 'public.empty', data: Buffer.alloc(0) },
  { kind: 'post-data', name: '', data: Buffer.from(SQL_POST) },
];
/** Small chunks (as version 1's 16-byte chunk vectors), so a few KiB give several of them. */
export const VECTOR_CHUNKING = { min: 256, avg: 1024, max: 4096 };

type Built = { manifest: Manifest; blobs: Buffer[]; cuts: number[][] };

function build(secret: Buffer): Built {
  const k = dedupKeys(secret);
  const blobs: Buffer[] = [];
  const cuts: number[][] = [];
  const sections = SECTIONS.map((s) => {
    const chunker = new Chunker(k.gear, VECTOR_CHUNKING);
    const pieces = [...chunker.push(s.data)];
    const last = chunker.end();
    if (last) pieces.push(last);
    cuts.push(pieces.map((p) => p.length));
    const chunks = pieces.map((plain): ChunkRef => {
      const { id, key } = chunkIdentity(k, plain);
      const blob = sealChunk(plain, id, key, 3);
      blobs.push(blob);
      return [id.toString('base64url'), key.toString('base64url'), plain.length, blob.length];
    });
    return { kind: s.kind, name: s.name, plaintextBytes: s.data.length, chunks };
  });
  return {
    manifest: {
      format: MANIFEST_FORMAT,
      chunking: { algorithm: 'fastcdc-keyed-1', ...VECTOR_CHUNKING },
      sections,
      meta: { engine: 'postgres' },
    },
    blobs,
    cuts,
  };
}

async function main() {
  const out = join(directory, 'vectors.json');
  if (existsSync(out)) {
    console.error(`${out} exists: released vectors never change`);
    process.exit(1);
  }
  const symmetric = parseEncryptionKey(keys.symmetric!.text);
  const x25519 = parseEncryptionKey(keys.x25519Private!.text);
  const hostSecret = sha256('resistro v3 vector host dedup secret');
  const valid = [];
  const files: Record<string, Buffer> = {};
  for (const [name, key, keyName, secret] of [
    ['v3-symmetric', symmetric, 'symmetric', dedupSecretOf(symmetric)!],
    ['v3-x25519', x25519, 'x25519Private', hostSecret],
  ] as const) {
    const { manifest, blobs, cuts } = build(secret);
    const json = Buffer.from(JSON.stringify(manifest));
    const payload = zstdCompressSync(json);
    const manifestFile = await encryptToBuffer(key, payload, {
      compression: 'zstd',
      randomness: randomnessFor(name, key.kind !== 'symmetric'),
    });
    const file = buildContainer(manifestFile, blobs);
    files[`${name}.resistro`] = file;
    const k = dedupKeys(secret);
    valid.push({
      name,
      file: `${name}.resistro`,
      key: keyName,
      dedupSecret: hex(secret),
      derived: {
        gearSha256: hex(sha256(Buffer.from(k.gear.buffer))),
        gearFirst: [...k.gear.slice(0, 4)],
        digestKey: hex(k.digestKey.export()),
        idKey: hex(k.idKey.export()),
        chunkKeyKey: hex(k.chunkKeyKey.export()),
      },
      sections: SECTIONS.map((s, i) => ({
        kind: s.kind,
        name: s.name,
        plaintextLength: s.data.length,
        plaintextSha256: hex(sha256(s.data)),
        cuts: cuts[i],
      })),
      manifestJson: json.toString('utf8'),
      manifestLength: manifestFile.length,
      fileLength: file.length,
      fileSha256: hex(sha256(file)),
    });
  }
  // Tampered copies of the symmetric file; each must be refused with its code.
  const good = files['v3-symmetric.resistro']!;
  const manifestLength = Number(good.readBigUInt64BE(16));
  const body = 24 + manifestLength;
  const records: [number, number][] = []; // [start, end) of each record
  for (let at = body; at < good.length; ) {
    const end = at + 4 + good.readUInt32BE(at);
    records.push([at, end]);
    at = end;
  }
  const rec = (i: number) => good.subarray(records[i]![0], records[i]![1]);
  const flipped = Buffer.from(good);
  flipped[records[2]![0] + 4 + 100]! ^= 0x01;
  const invalid = [
    ['v3-chunk-bit-flip', flipped, 'chunk_corrupt', 'one bit of the third chunk blob flipped'],
    [
      'v3-chunks-swapped',
      Buffer.concat([good.subarray(0, records[1]![0]), rec(2), rec(1), good.subarray(records[2]![1])]),
      'chunk_corrupt',
      'the second and third records exchanged',
    ],
    [
      'v3-chunk-dropped',
      Buffer.concat([good.subarray(0, records[2]![0]), good.subarray(records[2]![1])]),
      'chunk_corrupt',
      'the third record removed',
    ],
    [
      'v3-chunk-repeated',
      Buffer.concat([good.subarray(0, records[2]![1]), rec(2), good.subarray(records[2]![1])]),
      'chunk_corrupt',
      'the third record written twice',
    ],
    ['v3-truncated', good.subarray(0, good.length - 10), 'truncated', 'the last 10 bytes cut off'],
    [
      'v3-manifest-cut',
      good.subarray(0, 24 + manifestLength - 20),
      'truncated',
      'the file ends 20 bytes before the manifest does',
    ],
    ['v3-trailing-data', Buffer.concat([good, Buffer.from([0])]), 'trailing_data', 'one zero byte appended'],
  ] as const;
  for (const [name, bytes] of invalid) files[`${name}.resistro`] = bytes;
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(directory, name), bytes);
  const vectors = {
    valid,
    invalid: [
      ...invalid.map(([name, , error, description]) => ({
        name,
        file: `${name}.resistro`,
        key: 'symmetric',
        error,
        description,
      })),
      {
        name: 'v3-wrong-key',
        file: 'v3-symmetric.resistro',
        key: 'otherSymmetric',
        error: 'wrong_key',
        description: 'the valid file read with another symmetric key',
      },
    ],
  };
  await writeFile(out, `${JSON.stringify(vectors, null, 2)}\n`);
}

await main();
