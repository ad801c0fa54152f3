import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FormatError } from './errors.ts';
import { readHeader } from './header.ts';
import { parseEncryptionKey } from './keys.ts';
import { decryptBuffer, encryptToBuffer } from './testing.ts';

// Golden vectors (FORMAT.md, "Test vectors"). If one of these fails, the format changed: that is a
// bug, never a reason to regenerate the vectors.

type KeyEntry = { text: string; keyId: string; publicKey?: string };
type ValidVector = {
  name: string;
  file: string;
  key: string;
  keyId: string;
  compression: 'none' | 'zstd';
  chunkSize: number;
  plaintextLength: number;
  plaintextHex?: string;
  plaintextSha256: string;
  dataKey: string;
  salt: string;
  noncePrefix: string;
  ephemeralPrivateKey?: string;
  ciphertextLength: number;
  ciphertextSha256: string;
};
type InvalidVector = { name: string; file: string; key: string; error: string; description: string };
type Vectors = { keys: Record<string, KeyEntry>; valid: ValidVector[]; invalid: InvalidVector[] };

const directory = join(import.meta.dirname, 'vectors');
const vectors = JSON.parse(readFileSync(join(directory, 'vectors.json'), 'utf8')) as Vectors;
const keyEntry = (name: string) => vectors.keys[name]!;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function expectedPlaintext(vector: ValidVector): Buffer {
  if (vector.plaintextHex !== undefined) return Buffer.from(vector.plaintextHex, 'hex');
  return Buffer.from(Array.from({ length: vector.plaintextLength }, (_, i) => i % 251));
}

describe('golden vectors', () => {
  it('cover every required size in both modes, with the small and the real chunk size', () => {
    const names = new Set(vectors.valid.map((vector) => vector.name));
    for (const mode of ['symmetric', 'x25519']) {
      for (const [label, size] of [
        ['c16', 16],
        ['c64k', 65536],
      ] as const) {
        for (const length of [0, 1, size - 1, size, size + 1])
          expect(names).toContain(`${mode}-${label}-${length}`);
      }
    }
  });

  it('list keys whose text still parses to the recorded key ids', () => {
    for (const entry of Object.values(vectors.keys)) {
      expect(parseEncryptionKey(entry.text).keyId).toBe(entry.keyId);
      if (entry.publicKey) expect(parseEncryptionKey(entry.publicKey).keyId).toBe(entry.keyId);
    }
  });

  it.each(vectors.valid)('$name decrypts to exactly its plaintext', async (vector) => {
    const file = readFileSync(join(directory, vector.file));
    expect(file.length).toBe(vector.ciphertextLength);
    expect(sha256(file)).toBe(vector.ciphertextSha256);
    expect(readHeader(file)).toMatchObject({
      keyId: vector.keyId,
      chunkSize: vector.chunkSize,
      compression: vector.compression,
    });
    const outcome = await decryptBuffer(parseEncryptionKey(keyEntry(vector.key).text), file, [5, 11, 70001]);
    expect(outcome.error).toBeUndefined();
    const plaintext = expectedPlaintext(vector);
    expect(sha256(plaintext)).toBe(vector.plaintextSha256);
    expect(outcome.plaintext.equals(plaintext)).toBe(true);
    if (vector.compression === 'zstd')
      expect(zstdDecompressSync(outcome.plaintext).toString()).toMatch(/^BEGIN;/);
  });

  it.each(vectors.valid)('$name re-encrypts byte for byte with its recorded randomness', async (vector) => {
    const entry = keyEntry(vector.key);
    // x25519 vectors are re-made from the public key alone, as the agent in public-key mode does.
    const key = parseEncryptionKey(entry.publicKey ?? entry.text);
    const file = await encryptToBuffer(key, expectedPlaintext(vector), {
      chunkSize: vector.chunkSize,
      compression: vector.compression,
      writeSizes: [3, 1000, 7],
      randomness: {
        dataKey: Buffer.from(vector.dataKey, 'hex'),
        salt: Buffer.from(vector.salt, 'hex'),
        noncePrefix: Buffer.from(vector.noncePrefix, 'hex'),
        ephemeralPrivateKey: vector.ephemeralPrivateKey
          ? Buffer.from(vector.ephemeralPrivateKey, 'hex')
          : undefined,
      },
    });
    expect(file.equals(readFileSync(join(directory, vector.file)))).toBe(true);
  });

  it.each(vectors.invalid)('invalid $name is refused with $error ($description)', async (vector) => {
    const file = readFileSync(join(directory, vector.file));
    const outcome = await decryptBuffer(parseEncryptionKey(keyEntry(vector.key).text), file);
    expect(outcome.error).toBeInstanceOf(FormatError);
    expect((outcome.error as FormatError).code).toBe(vector.error);
  });
});
