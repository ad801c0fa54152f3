import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { type EncryptionKey, FormatError, parseEncryptionKey, readHeader } from '../format/index.ts';
import { openChunk, sealChunk } from './blob.ts';
import { Chunker } from './chunker.ts';
import { openContainer, readContainerSql } from './container.ts';
import { chunkIdentity, dedupKeys, dedupSecretOf } from './keys.ts';
import { decryptManifest } from './manifest.ts';

// Golden vectors of version 3 (FORMAT.md §13.10). If one fails, the format changed: a bug, never a
// reason to regenerate them.

type ValidVector = {
  name: string;
  file: string;
  key: string;
  dedupSecret: string;
  derived: { gearSha256: string; gearFirst: number[]; digestKey: string; idKey: string; chunkKeyKey: string };
  sections: {
    kind: string;
    name: string;
    plaintextLength: number;
    plaintextSha256: string;
    cuts: number[];
  }[];
  manifestJson: string;
  manifestLength: number;
  fileLength: number;
  fileSha256: string;
};
type InvalidVector = { name: string; file: string; key: string; error: string; description: string };

const directory = join(import.meta.dirname, '..', 'format', 'vectors', 'v3');
const vectors = JSON.parse(readFileSync(join(directory, 'vectors.json'), 'utf8')) as {
  valid: ValidVector[];
  invalid: InvalidVector[];
};
const keys = JSON.parse(readFileSync(join(directory, '..', 'vectors.json'), 'utf8')).keys as Record<
  string,
  { text: string }
>;
const keyOf = (name: string): EncryptionKey => parseEncryptionKey(keys[name]!.text);
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The vectors' section plaintexts (generate.ts): SQL text, and SHA-256 in counter mode. */
function noise(label: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0, at = 0; at < length; i++, at += 32) sha256(`${label} ${i}`).copy(out, at);
  return out;
}
const PLAINTEXTS = [
  Buffer.from('CREATE TABLE public.orders (id bigint NOT NULL, note text);\n'.repeat(4)),
  noise('orders', 6000),
  noise('orders', 6000),
  Buffer.alloc(0),
  Buffer.from('ALTER TABLE ONLY public.orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id);\n'),
];

async function readAll(path: string, key: EncryptionKey): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(
    readContainerSql(path, key),
    new Writable({
      write(chunk: Buffer, _e, cb) {
        parts.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}

describe('golden vectors, version 3 (deduplicated)', () => {
  it.each(vectors.valid)(
    '$name: keys, cut points, chunk ids and blobs are exactly the recorded ones',
    async (v) => {
      const key = keyOf(v.key);
      const file = readFileSync(join(directory, v.file));
      expect(file.length).toBe(v.fileLength);
      expect(hex(sha256(file))).toBe(v.fileSha256);
      const secret = Buffer.from(v.dedupSecret, 'hex');
      // Symmetric mode: D comes from K (§13.2); public-key mode: the host's own D, not derivable.
      if (key.kind === 'symmetric') expect(hex(dedupSecretOf(key)!)).toBe(v.dedupSecret);
      else expect(dedupSecretOf(key)).toBeUndefined();
      const k = dedupKeys(secret);
      expect(hex(sha256(Buffer.from(k.gear.buffer)))).toBe(v.derived.gearSha256);
      expect([...k.gear.slice(0, 4)]).toEqual(v.derived.gearFirst);
      expect(hex(k.digestKey.export())).toBe(v.derived.digestKey);
      expect(hex(k.idKey.export())).toBe(v.derived.idKey);
      expect(hex(k.chunkKeyKey.export())).toBe(v.derived.chunkKeyKey);

      const manifest = await decryptManifest(key, file.subarray(24, 24 + v.manifestLength));
      expect(JSON.stringify(manifest)).toBe(v.manifestJson);
      expect(readHeader(file.subarray(24)).compression).toBe('zstd');
      let at = 24 + v.manifestLength;
      manifest.sections.forEach((section, s) => {
        const plain = PLAINTEXTS[s]!;
        expect(hex(sha256(plain))).toBe(v.sections[s]!.plaintextSha256);
        const chunker = new Chunker(k.gear, manifest.chunking);
        const pieces = chunker.push(plain);
        const last = chunker.end();
        if (last) pieces.push(last);
        expect(pieces.map((p) => p.length)).toEqual(v.sections[s]!.cuts);
        pieces.forEach((piece, i) => {
          const { id, key: ck } = chunkIdentity(k, piece);
          const ref = section.chunks[i]!;
          expect([ref[0], ref[1], ref[2]]).toEqual([
            id.toString('base64url'),
            ck.toString('base64url'),
            piece.length,
          ]);
          const length = file.readUInt32BE(at);
          expect(length).toBe(ref[3]);
          const blob = file.subarray(at + 4, at + 4 + length);
          at += 4 + length;
          expect(openChunk(blob, id, ck, piece.length).equals(piece)).toBe(true);
          // Table data of this kind does not compress: stored raw, so sealing is exact (SQL text is
          // zstd-compressed, whose output a library update may change: it only has to open).
          if (section.kind === 'data') expect(sealChunk(piece, id, ck, 3).equals(blob)).toBe(true);
        });
      });
      expect(at).toBe(file.length);
      expect((await readAll(join(directory, v.file), key)).equals(Buffer.concat(PLAINTEXTS))).toBe(true);
      // the copied section shares every chunk of the first: one id, two references
      expect(manifest.sections[2]!.chunks).toEqual(manifest.sections[1]!.chunks);
    },
  );

  it.each(vectors.invalid)('$name ($description) is refused with $error', async (v) => {
    const path = join(directory, v.file);
    const error = await (async () => {
      if (v.error === 'wrong_key')
        return openContainer(path, keyOf(v.key)).then(
          () => undefined,
          (e) => e,
        );
      return readAll(path, keyOf(v.key)).then(
        () => undefined,
        (e) => e,
      );
    })();
    expect(error).toBeInstanceOf(FormatError);
    expect((error as FormatError).code).toBe(v.error);
  });
});
