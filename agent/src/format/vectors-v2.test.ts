import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FormatError } from './errors.ts';
import { decryptFile } from './files.ts';
import { readHeader } from './header.ts';
import { parseEncryptionKey } from './keys.ts';
import { openArchive, readSection, type SectionKind } from './sections.ts';
import { archiveToBuffer } from './testing.ts';

// Golden vectors of version 2 (FORMAT.md §11.8). If one fails, the format changed: a bug, never a
// reason to regenerate them.

type SectionVector = {
  kind: SectionKind;
  name: string;
  plaintextLength: number;
  plaintextHex?: string;
  plaintextSha256: string;
  segments: [number, number][];
};
type ValidVector = {
  name: string;
  file: string;
  key: string;
  compression: 'none' | 'zstd';
  chunkSize: number;
  segmentSize: number;
  pieceSize: number;
  sections: SectionVector[];
  decompressedText?: string;
  dataKey: string;
  salt: string;
  noncePrefix: string;
  ephemeralPrivateKey?: string;
  ciphertextLength: number;
  ciphertextSha256: string;
};
type InvalidVector = { name: string; file: string; key: string; error: string; description: string };

const directory = join(import.meta.dirname, 'vectors', 'v2');
const vectors = JSON.parse(readFileSync(join(directory, 'vectors.json'), 'utf8')) as {
  valid: ValidVector[];
  invalid: InvalidVector[];
};
const keys = JSON.parse(readFileSync(join(import.meta.dirname, 'vectors', 'vectors.json'), 'utf8'))
  .keys as Record<string, { text: string; publicKey?: string }>;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const tmp = mkdtempSync(join(tmpdir(), 'resistro-v2-vectors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function plaintextOf(section: SectionVector, index: number): Buffer {
  if (section.plaintextHex !== undefined) return Buffer.from(section.plaintextHex, 'hex');
  return Buffer.from(Array.from({ length: section.plaintextLength }, (_, i) => (i + index) % 251));
}

describe('golden vectors, version 2', () => {
  it.each(vectors.valid)('$name: every section decrypts to exactly its plaintext', async (vector) => {
    const path = join(directory, vector.file);
    const file = readFileSync(path);
    expect(file.length).toBe(vector.ciphertextLength);
    expect(sha256(file)).toBe(vector.ciphertextSha256);
    expect(readHeader(file)).toMatchObject({ version: 2, chunkSize: vector.chunkSize });
    const archive = await openArchive(path, parseEncryptionKey(keys[vector.key]!.text));
    expect(archive.toc.sections.map((s) => [s.kind, s.name, s.segments])).toEqual(
      vector.sections.map((s) => [s.kind, s.name, s.segments]),
    );
    for (const [i, section] of vector.sections.entries()) {
      const parts: Buffer[] = [];
      for await (const chunk of readSection(archive, i, { decompress: false })) parts.push(chunk);
      const plaintext = Buffer.concat(parts);
      expect(sha256(plaintext)).toBe(section.plaintextSha256);
      expect(plaintext.equals(plaintextOf(section, i))).toBe(true);
    }
    if (vector.decompressedText !== undefined) {
      const out = join(tmp, `${vector.name}.sql`);
      await decryptFile(path, out, parseEncryptionKey(keys[vector.key]!.text));
      expect(readFileSync(out, 'utf8')).toBe(vector.decompressedText);
    }
  });

  it.each(vectors.valid)('$name re-encrypts byte for byte with its recorded randomness', async (vector) => {
    const entry = keys[vector.key]!;
    const { file } = await archiveToBuffer(
      parseEncryptionKey(entry.publicKey ?? entry.text),
      vector.sections.map((s, i) => ({ kind: s.kind, name: s.name, data: plaintextOf(s, i) })),
      {
        chunkSize: vector.chunkSize,
        compression: vector.compression,
        segmentSize: vector.segmentSize,
        pieceSize: vector.pieceSize,
        randomness: {
          dataKey: Buffer.from(vector.dataKey, 'hex'),
          salt: Buffer.from(vector.salt, 'hex'),
          noncePrefix: Buffer.from(vector.noncePrefix, 'hex'),
          ephemeralPrivateKey: vector.ephemeralPrivateKey
            ? Buffer.from(vector.ephemeralPrivateKey, 'hex')
            : undefined,
        },
      },
    );
    expect(file.equals(readFileSync(join(directory, vector.file)))).toBe(true);
  });

  it.each(vectors.invalid)('invalid $name is refused with $error ($description)', async (vector) => {
    const key = parseEncryptionKey(keys[vector.key]!.text);
    const out = join(tmp, `${vector.name}.out`);
    const error = await decryptFile(join(directory, vector.file), out, key, { decompress: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FormatError);
    expect((error as FormatError).code).toBe(vector.error);
    expect(() => writeFileSync(out, '', { flag: 'wx' })).not.toThrow(); // no output was left behind
  });
});
