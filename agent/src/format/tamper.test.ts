import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDecryptStream } from './decrypt.ts';
import {
  ChunkCorruptError,
  FormatError,
  KeyUsageError,
  TrailingDataError,
  TruncatedError,
  WrongKeyError,
} from './errors.ts';
import { readHeader } from './header.ts';
import { type EncryptionKey, generateKeyPair, generateSymmetricKey, parseEncryptionKey } from './keys.ts';
import { decryptBuffer, encryptToBuffer } from './testing.ts';

const key = parseEncryptionKey(generateSymmetricKey());
const CHUNK = 64;
const RECORD = CHUNK + 20;
const plaintext = randomBytes(3 * CHUNK + 10); // chunks of 64, 64, 64 and a final one of 10 bytes

async function damaged(file: Buffer, decryptKey: EncryptionKey = key, writeSizes?: number[]) {
  const outcome = await decryptBuffer(decryptKey, file, writeSizes);
  expect(outcome.error).toBeInstanceOf(FormatError);
  return { ...outcome, error: outcome.error as FormatError };
}

const file = await encryptToBuffer(key, plaintext, { chunkSize: CHUNK, compression: 'none' });
const H = readHeader(file).length;
const chunk = (i: number) => file.subarray(H + i * RECORD, Math.min(H + (i + 1) * RECORD, file.length));

describe('tampered chunks', () => {
  it.each([1, 2, 3])('refuses a file cut at a chunk boundary, after %i chunks', async (kept) => {
    const { error, plaintext: released } = await damaged(file.subarray(0, H + kept * RECORD));
    expect(error).toBeInstanceOf(TruncatedError);
    expect(error.message).toMatch(/chunk boundary.*final chunk is missing/);
    expect(released.length).toBe(kept * CHUNK);
  });

  it('refuses a file cut right after the header, before any chunk', async () => {
    expect((await damaged(file.subarray(0, H))).error).toBeInstanceOf(TruncatedError);
  });

  it.each([1, 3, 4, 40, RECORD - 1, 2 * RECORD + 5])(
    'refuses a file cut %i bytes past the header',
    async (cut) => {
      const { error } = await damaged(file.subarray(0, H + cut));
      expect(error).toBeInstanceOf(TruncatedError);
    },
  );

  it('refuses a file whose final chunk lost its last byte', async () => {
    expect((await damaged(file.subarray(0, file.length - 1))).error).toBeInstanceOf(TruncatedError);
  });

  it.each([0, 1, 50, H - 1])('refuses a file cut inside the header, after %i bytes', async (cut) => {
    const { error } = await damaged(file.subarray(0, cut));
    expect(error).toBeInstanceOf(TruncatedError);
    expect(error.message).toMatch(cut === 0 ? /empty/ : /inside the header/);
  });

  it('refuses swapped chunks', async () => {
    const swapped = Buffer.concat([file.subarray(0, H), chunk(1), chunk(0), chunk(2), chunk(3)]);
    const { error } = await damaged(swapped);
    expect(error).toBeInstanceOf(ChunkCorruptError);
    expect((error as ChunkCorruptError).chunkIndex).toBe(0);
  });

  it('refuses a repeated chunk', async () => {
    const repeated = Buffer.concat([file.subarray(0, H), chunk(0), chunk(1), chunk(1), chunk(2), chunk(3)]);
    const { error } = await damaged(repeated);
    expect(error).toBeInstanceOf(ChunkCorruptError);
    expect((error as ChunkCorruptError).chunkIndex).toBe(2);
  });

  it('refuses a file with a chunk removed from the middle', async () => {
    const removed = Buffer.concat([file.subarray(0, H), chunk(0), chunk(2), chunk(3)]);
    expect((await damaged(removed)).error).toBeInstanceOf(ChunkCorruptError);
  });

  it('refuses a full chunk relabelled as the final one', async () => {
    // Drop the real final chunk and shorten chunk 2 by one byte so that it poses as the last chunk.
    const forged = Buffer.from(file.subarray(0, H + 3 * RECORD));
    forged.writeUInt32BE(CHUNK - 1, H + 2 * RECORD);
    const cut = Buffer.concat([
      forged.subarray(0, H + 2 * RECORD + 4 + CHUNK - 1),
      forged.subarray(H + 2 * RECORD + 4 + CHUNK),
    ]);
    expect((await damaged(cut)).error).toBeInstanceOf(ChunkCorruptError);
  });

  it.each([1, 16, 1000])('refuses %i bytes appended after the final chunk', async (extra) => {
    const { error, plaintext: released } = await damaged(Buffer.concat([file, randomBytes(extra)]));
    expect(error).toBeInstanceOf(TrailingDataError);
    // The final chunk is held back until the end of input, so nothing past the last full chunk leaks.
    expect(released.length).toBe(3 * CHUNK);
  });

  it('refuses a second copy of the final chunk appended to the file', async () => {
    expect((await damaged(Buffer.concat([file, chunk(3)]))).error).toBeInstanceOf(TrailingDataError);
  });

  it('refuses two files joined together', async () => {
    expect((await damaged(Buffer.concat([file, file]))).error).toBeInstanceOf(TrailingDataError);
  });

  it('refuses a chunk whose length field exceeds the chunk size, without waiting for its bytes', async () => {
    const forged = Buffer.from(file);
    forged.writeUInt32BE(0xffffffff, H);
    const { error } = await damaged(forged);
    expect(error).toBeInstanceOf(ChunkCorruptError);
    expect(error.message).toMatch(/declares 4294967295 bytes/);
  });

  it('refuses one flipped bit anywhere in the file, each time with the error of the region hit', async () => {
    const finalLength = H + 3 * RECORD;
    for (let offset = 0; offset < file.length; offset++) {
      const flipped = Buffer.from(file);
      flipped[offset]! ^= 1 << (offset % 8);
      const { error } = await damaged(flipped);
      let expected: string[];
      if (offset < 12) expected = ['bad_magic'];
      else if (offset === 12) expected = ['unsupported_version'];
      else if (offset < H) expected = ['header_corrupt'];
      // A longer length in the final chunk asks for bytes that never come: the file reads as cut.
      else if (offset >= finalLength && offset < finalLength + 4) expected = ['chunk_corrupt', 'truncated'];
      else expected = ['chunk_corrupt'];
      expect(expected, `bit flipped at byte ${offset}: ${error.code} ${error.message}`).toContain(error.code);
    }
  });
});

describe('wrong keys', () => {
  const pair = generateKeyPair();
  const recipient = parseEncryptionKey(pair.publicKey);
  const privateKey = parseEncryptionKey(pair.privateKey);
  const otherPrivate = parseEncryptionKey(generateKeyPair().privateKey);
  const other = parseEncryptionKey(generateSymmetricKey());

  it('reports a different symmetric key as a wrong key naming both key ids, before any data', async () => {
    const { error, events } = await damaged(file, other);
    expect(error).toBeInstanceOf(WrongKeyError);
    expect(error.message).toContain(key.keyId);
    expect(error.message).toContain(other.keyId);
    expect((error as WrongKeyError).fileKeyId).toBe(key.keyId);
    expect((error as WrongKeyError).givenKeyId).toBe(other.keyId);
    expect(events).toEqual([]);
  });

  it('reports a different private key as a wrong key, before any data', async () => {
    const x25519File = await encryptToBuffer(recipient, plaintext, { chunkSize: CHUNK });
    const { error, events } = await damaged(x25519File, otherPrivate, [1]);
    expect(error).toBeInstanceOf(WrongKeyError);
    expect(error.message).toContain(privateKey.keyId);
    expect(error.message).toContain(otherPrivate.keyId);
    expect(events).toEqual([]);
  });

  it('reports a symmetric key used on a public-key file as a wrong key, and the other way round', async () => {
    const x25519File = await encryptToBuffer(recipient, plaintext, { chunkSize: CHUNK });
    expect((await damaged(x25519File, key)).error.message).toMatch(
      /encrypted to a public key.*symmetric key/,
    );
    expect((await damaged(file, privateKey)).error.message).toMatch(
      /encrypted with a symmetric key.*public-key pair/,
    );
  });

  it('refuses to decrypt with a public (recipient) key, before reading anything', () => {
    expect(() => createDecryptStream(recipient)).toThrow(KeyUsageError);
  });
});
