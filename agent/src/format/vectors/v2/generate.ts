// Writes the golden test vectors of version 2 (sectioned files): node agent/src/format/vectors/v2/generate.ts
// Released vectors never change: this refuses to overwrite an existing vectors.json. The keys are
// those of version 1 (../vectors.json).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileRandomness } from '../../envelope.ts';
import { parseEncryptionKey } from '../../keys.ts';
import { type SectionKind, TRAILER_LENGTH } from '../../sections.ts';
import { archiveToBuffer } from '../../testing.ts';

const directory = dirname(fileURLToPath(import.meta.url));
const keys = JSON.parse(readFileSync(join(directory, '..', 'vectors.json'), 'utf8')).keys as Record<
  string,
  { text: string; publicKey?: string }
>;

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest();

/** Byte i of section s is (i + s) mod 251. */
export function sectionPlaintext(section: number, length: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => (i + section) % 251));
}

// SECURITY: deterministic per-file secrets, so the vectors are reproducible; only for vectors.
function randomnessFor(name: string, x25519: boolean): FileRandomness {
  return {
    dataKey: sha256(`resistro v2 vector ${name} data key`),
    salt: sha256(`resistro v2 vector ${name} salt`),
    noncePrefix: sha256(`resistro v2 vector ${name} nonce prefix`).subarray(0, 7),
    ephemeralPrivateKey: x25519 ? sha256(`resistro v2 vector ${name} ephemeral`) : undefined,
  };
}

// Real zstd frames (one per section) of a tiny PostgreSQL dump split as the agent splits it, stored
// as bytes so that the vector does not depend on a zstd version.
const SQL = [
  ['pre-data', '', 'CREATE TABLE public.t (id integer NOT NULL, v text);\n'],
  ['data', 'public.t', 'COPY public.t (id, v) FROM stdin;\n1\tone\n2\ttwo\n\\.\n'],
  ['post-data', '', 'ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id);\n'],
] as const;

type Layout = { kind: SectionKind; name: string; length?: number; hex?: string }[];
const PATTERN_LAYOUT: Layout = [
  { kind: 'pre-data', name: '', length: 50 },
  { kind: 'data', name: 'public.a', length: 40 },
  { kind: 'data', name: 'public.b', length: 0 },
  { kind: 'data', name: 'public.c', length: 17 },
  { kind: 'post-data', name: '', length: 16 },
];

async function main(): Promise<void> {
  const index = join(directory, 'vectors.json');
  if (existsSync(index) && !process.argv.includes('--force'))
    throw new Error('vectors.json exists; released vectors never change');
  const { zstdCompressSync } = await import('node:zlib');
  const sqlLayout: Layout = SQL.map(([kind, name, text]) => ({
    kind,
    name,
    hex: hex(zstdCompressSync(Buffer.from(text))),
  }));
  const specs = [
    {
      name: 'v2-symmetric-c16',
      key: 'symmetric',
      chunkSize: 16,
      layout: PATTERN_LAYOUT,
      compression: 'none',
    },
    {
      name: 'v2-x25519-c16',
      key: 'x25519Private',
      chunkSize: 16,
      layout: PATTERN_LAYOUT,
      compression: 'none',
    },
    {
      name: 'v2-symmetric-c64k-zstd-sql',
      key: 'symmetric',
      chunkSize: 65536,
      layout: sqlLayout,
      compression: 'zstd',
    },
  ] as const;
  const SEGMENT = 40;
  const PIECE = 20;
  const files = new Map<string, Buffer>();
  const valid = [];
  const tocs = new Map<string, { sections: { segments: [number, number][] }[] }>();
  for (const spec of specs) {
    const entry = keys[spec.key]!;
    const key = parseEncryptionKey(entry.publicKey ?? entry.text);
    const randomness = randomnessFor(spec.name, key.kind !== 'symmetric');
    const sections = spec.layout.map((s, i) => ({
      kind: s.kind,
      name: s.name,
      data: s.hex !== undefined ? Buffer.from(s.hex, 'hex') : sectionPlaintext(i, s.length!),
    }));
    const { file, toc } = await archiveToBuffer(key, sections, {
      chunkSize: spec.chunkSize,
      compression: spec.compression,
      segmentSize: SEGMENT,
      pieceSize: PIECE,
      randomness,
    });
    files.set(`${spec.name}.resistro`, file);
    tocs.set(spec.name, toc);
    valid.push({
      name: spec.name,
      file: `${spec.name}.resistro`,
      key: spec.key,
      compression: spec.compression,
      chunkSize: spec.chunkSize,
      segmentSize: SEGMENT,
      pieceSize: PIECE,
      sections: sections.map((s, i) => ({
        kind: s.kind,
        name: s.name,
        plaintextLength: s.data.length,
        ...(spec.layout[i]!.hex !== undefined && { plaintextHex: spec.layout[i]!.hex }),
        plaintextSha256: hex(sha256(s.data)),
        segments: toc.sections[i]!.segments,
      })),
      ...(spec.compression === 'zstd' && { decompressedText: SQL.map(([, , text]) => text).join('') }),
      dataKey: hex(randomness.dataKey),
      salt: hex(randomness.salt),
      noncePrefix: hex(randomness.noncePrefix),
      ...(randomness.ephemeralPrivateKey && { ephemeralPrivateKey: hex(randomness.ephemeralPrivateKey) }),
      ciphertextLength: file.length,
      ciphertextSha256: hex(sha256(file)),
    });
  }

  const base = files.get('v2-symmetric-c16.resistro')!;
  const toc = tocs.get('v2-symmetric-c16')!;
  const seg = (s: number, k = 0) => toc.sections[s]!.segments[k]!;
  const tocOffset = Number(base.readBigUInt64BE(base.length - TRAILER_LENGTH));
  const swap = (a: number, b: number, length: number) => {
    const copy = Buffer.from(base);
    base.copy(copy, b, a, a + length);
    base.copy(copy, a, b, b + length);
    return copy;
  };
  const flip = (offset: number) => {
    const copy = Buffer.from(base);
    copy[offset]! ^= 0x01;
    return copy;
  };
  const dropped = (() => {
    const [offset, length] = seg(4);
    const copy = Buffer.concat([base.subarray(0, offset), base.subarray(offset + length)]);
    copy.writeBigUInt64BE(BigInt(tocOffset - length), copy.length - TRAILER_LENGTH);
    return copy;
  })();
  const invalid = [
    {
      name: 'v2-truncated-trailer',
      error: 'truncated',
      description: 'the last byte (of the trailer) cut off',
      bytes: base.subarray(0, base.length - 1),
    },
    {
      name: 'v2-truncated-before-toc',
      error: 'truncated',
      description: 'cut where the table of contents begins (all sections complete)',
      bytes: base.subarray(0, tocOffset),
    },
    {
      name: 'v2-appended-byte',
      error: 'truncated',
      description: 'one zero byte appended: the file no longer ends with its trailer',
      bytes: Buffer.concat([base, Buffer.alloc(1)]),
    },
    {
      name: 'v2-sections-swapped',
      error: 'chunk_corrupt',
      description: 'the first 36-byte record of section 1 (public.a) and of section 3 (public.c) exchanged',
      bytes: swap(seg(1)[0], seg(3)[0], 36),
    },
    {
      name: 'v2-segments-reordered',
      error: 'chunk_corrupt',
      description: 'the first two segments of section 0 (pre-data) exchanged',
      bytes: swap(seg(0, 0)[0], seg(0, 1)[0], 36),
    },
    {
      name: 'v2-section-dropped',
      error: 'toc_corrupt',
      description:
        'the post-data section cut out and the trailer moved along: the authentic TOC no longer tiles the file',
      bytes: dropped,
    },
    {
      name: 'v2-toc-bit-flip',
      error: 'chunk_corrupt',
      description: 'one bit of the table of contents ciphertext flipped',
      bytes: flip(tocOffset + 10),
    },
    {
      name: 'v2-trailer-offset',
      error: 'chunk_corrupt',
      description: 'the trailer points 36 bytes later (and the TOC length is 36 shorter)',
      bytes: (() => {
        const copy = Buffer.from(base);
        copy.writeBigUInt64BE(BigInt(tocOffset + 36), copy.length - TRAILER_LENGTH);
        copy.writeUInt32BE(copy.readUInt32BE(copy.length - 8) - 36, copy.length - 8);
        return copy;
      })(),
    },
  ].map(({ bytes, ...rest }) => {
    files.set(`${rest.name}.resistro`, bytes);
    return { ...rest, key: 'symmetric', file: `${rest.name}.resistro` };
  });

  for (const [name, bytes] of files) await writeFile(join(directory, name), bytes);
  const document = {
    description:
      'Golden test vectors for the .resistro format, version 2 (sectioned). See FORMAT.md §11.8. Never edit: add new vectors instead. Keys: ../vectors.json.',
    plaintextRule: 'Unless plaintextHex is given, byte i of section s is (i + s) mod 251.',
    writeRule:
      'Sections are written round-robin, pieceSize bytes at a time in section order, each write awaited; a section appends its records to the file whenever they reach segmentSize bytes, and when it ends.',
    valid,
    invalid,
  };
  await writeFile(index, `${JSON.stringify(document, null, 2)}\n`);
  console.log(`wrote ${files.size} files and vectors.json`);
}

await main();
