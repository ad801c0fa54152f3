// A deduplicated backup's manifest (FORMAT.md §13.5): its sections in restore order, each with its
// chunks in order (id, chunk key, plaintext length, blob length). Stored encrypted and
// authenticated as a complete version 1 file (zstd payload) under the customer's key, so a wrong
// key, a truncated or altered manifest are refused exactly as a version 1 backup is.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import * as v from 'valibot';
import {
  createDecryptStream,
  createEncryptStream,
  type EncryptionKey,
  FormatError,
  PayloadCorruptError,
  type SectionKind,
} from '../format/index.ts';

export const MANIFEST_FORMAT = 'resistro-manifest-1';

/** [id, chunk key, plaintext length, blob length]; ids and keys base64url (43 characters) */
export type ChunkRef = [id: string, key: string, plainLength: number, blobLength: number];

export type ManifestSection = {
  kind: SectionKind;
  name: string;
  meta?: Record<string, string | number> | undefined;
  plaintextBytes: number;
  chunks: ChunkRef[];
};

export type Manifest = {
  format: typeof MANIFEST_FORMAT;
  chunking: { algorithm: 'fastcdc-keyed-1'; min: number; avg: number; max: number };
  sections: ManifestSection[];
  meta?: Record<string, string | number> | undefined;
};

const B64_32 = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/));
const Count = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(2 ** 53 - 1));
const Meta = v.optional(v.record(v.string(), v.union([v.string(), v.number()])));
const ManifestSchema = v.object({
  format: v.literal(MANIFEST_FORMAT),
  chunking: v.object({
    algorithm: v.literal('fastcdc-keyed-1'),
    min: Count,
    avg: Count,
    max: Count,
  }),
  sections: v.array(
    v.object({
      kind: v.picklist(['pre-data', 'data', 'post-data']),
      name: v.string(),
      meta: Meta,
      plaintextBytes: Count,
      chunks: v.array(v.tuple([B64_32, B64_32, Count, Count])),
    }),
  ),
  meta: Meta,
});

/** Raised for an authentic manifest that does not describe a backup (never for damage: that is a FormatError). */
export class ManifestCorruptError extends FormatError {
  constructor(message: string) {
    super(
      'toc_corrupt',
      message,
      'The backup manifest is not one this resistro understands; upgrade resistro or restore another backup.',
    );
    this.name = 'ManifestCorruptError';
  }
}

export async function encryptManifest(key: EncryptionKey, manifest: Manifest): Promise<Buffer> {
  const payload = zstdCompressSync(Buffer.from(JSON.stringify(manifest)));
  const out: Buffer[] = [];
  await pipeline(Readable.from([payload]), createEncryptStream(key, { compression: 'zstd' }), async (src) => {
    for await (const b of src) out.push(b as Buffer);
  });
  return Buffer.concat(out);
}

export async function decryptManifest(key: EncryptionKey, file: Buffer): Promise<Manifest> {
  const out: Buffer[] = [];
  await pipeline(Readable.from([file]), createDecryptStream(key), async (src) => {
    for await (const b of src) out.push(b as Buffer);
  });
  let json: unknown;
  try {
    json = JSON.parse(zstdDecompressSync(Buffer.concat(out)).toString('utf8'));
  } catch (error) {
    throw new PayloadCorruptError('the backup manifest authenticated but does not decompress or parse', {
      cause: error,
    });
  }
  const parsed = v.safeParse(ManifestSchema, json);
  if (!parsed.success) throw new ManifestCorruptError('the backup manifest has an unknown layout');
  const m = parsed.output as Manifest;
  for (const s of m.sections) {
    const sum = s.chunks.reduce((n, c) => n + c[2], 0);
    if (sum !== s.plaintextBytes)
      throw new ManifestCorruptError(`section ${s.kind} ${s.name}: chunk lengths do not add up`);
  }
  return m;
}

/** "data public.orders" — how a section is named in messages. */
export function sectionName(s: Pick<ManifestSection, 'kind' | 'name'>): string {
  return s.name ? `${s.kind} ${s.name}` : s.kind;
}

/** Every chunk reference in manifest order (sections in order, chunks in order): the download's order. */
export function* chunkRefs(m: Manifest): Generator<{ section: number; index: number; ref: ChunkRef }> {
  for (let s = 0; s < m.sections.length; s++) {
    const chunks = m.sections[s]!.chunks;
    for (let i = 0; i < chunks.length; i++) yield { section: s, index: i, ref: chunks[i]! };
  }
}
