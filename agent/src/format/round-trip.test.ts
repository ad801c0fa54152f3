import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDecryptStream } from './decrypt.ts';
import { createEncryptStream } from './encrypt.ts';
import { DEFAULT_CHUNK_SIZE, readHeader } from './header.ts';
import { type EncryptionKey, generateKeyPair, generateSymmetricKey, parseEncryptionKey } from './keys.ts';
import { decryptBuffer, encryptToBuffer } from './testing.ts';

const symmetric = parseEncryptionKey(generateSymmetricKey());
const pair = generateKeyPair();
const recipient = parseEncryptionKey(pair.publicKey);
const privateKey = parseEncryptionKey(pair.privateKey);

const MODES: [string, EncryptionKey, EncryptionKey][] = [
  ['symmetric', symmetric, symmetric],
  ['public-key (recipient encrypts, private decrypts)', recipient, privateKey],
  ['public-key (private key encrypts too)', privateKey, privateKey],
];
const ODD_WRITES = [1, 13, 4093, 65537, 200003, 7];

describe.each(MODES)('round trip, %s', (_mode, encryptKey, decryptKey) => {
  for (const chunkSize of [16, DEFAULT_CHUNK_SIZE]) {
    for (const size of [0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 3 * chunkSize]) {
      it(`returns ${size} bytes unchanged with ${chunkSize}-byte chunks`, async () => {
        const plaintext = randomBytes(size);
        const file = await encryptToBuffer(encryptKey, plaintext, { chunkSize, writeSizes: ODD_WRITES });
        const outcome = await decryptBuffer(decryptKey, file, [1, 2, 3, 5, 8, 13, 70000]);
        expect(outcome.error).toBeUndefined();
        expect(outcome.plaintext.equals(plaintext)).toBe(true);
        // header + full chunks + one final chunk shorter than chunkSize (empty on a boundary)
        const chunks = Math.floor(size / chunkSize) + 1;
        expect(file.length).toBe(readHeader(file).length + size + chunks * 20);
      });
    }
  }

  it('returns a few megabytes unchanged when both sides are fed in odd write sizes', async () => {
    const plaintext = randomBytes(3 * 1024 * 1024 + 12345);
    const file = await encryptToBuffer(encryptKey, plaintext, { writeSizes: ODD_WRITES });
    const outcome = await decryptBuffer(decryptKey, file, [65556, 3, 100001, 17, 1 << 20]);
    expect(outcome.error).toBeUndefined();
    expect(outcome.plaintext.equals(plaintext)).toBe(true);
  });
});

describe('stream behaviour', () => {
  it('encrypts the same plaintext to different files every time', async () => {
    const plaintext = Buffer.from('same input');
    const [a, b] = await Promise.all([
      encryptToBuffer(symmetric, plaintext),
      encryptToBuffer(symmetric, plaintext),
    ]);
    expect(a.equals(b)).toBe(false);
  });

  it('records the payload compression and chunk size in the header, zstd by default', async () => {
    expect(readHeader(await encryptToBuffer(symmetric, Buffer.alloc(1)))).toMatchObject({
      version: 1,
      keyMode: 'symmetric',
      compression: 'zstd',
      chunkSize: 65536,
      keyId: symmetric.keyId,
    });
    const none = await encryptToBuffer(recipient, Buffer.alloc(1), { compression: 'none', chunkSize: 100 });
    expect(readHeader(none)).toMatchObject({ keyMode: 'x25519', compression: 'none', chunkSize: 100 });
  });

  it('emits the header event before any data', async () => {
    const file = await encryptToBuffer(symmetric, randomBytes(5000), {
      chunkSize: 1000,
      compression: 'none',
    });
    const outcome = await decryptBuffer(symmetric, file, [7]);
    expect(outcome.events[0]).toBe('header');
    expect(outcome.events.filter((event) => event === 'header')).toHaveLength(1);
    expect(outcome.events.length).toBeGreaterThan(1);
    expect(outcome.header).toMatchObject({ compression: 'none', chunkSize: 1000, keyId: symmetric.keyId });
  });

  it('counts the authenticated plaintext bytes and chunks', async () => {
    const file = await encryptToBuffer(symmetric, randomBytes(2500), { chunkSize: 1000 });
    const stream = createDecryptStream(symmetric);
    stream.resume();
    stream.end(file);
    await new Promise((resolve) => stream.on('end', resolve));
    expect(stream.plaintextBytes).toBe(2500);
    expect(stream.chunks).toBe(3);
  });

  it('refuses invalid chunk sizes', () => {
    for (const chunkSize of [0, -1, 1.5, 16 * 1024 * 1024 + 1]) {
      expect(() => createEncryptStream(symmetric, { chunkSize })).toThrow(RangeError);
    }
  });

  it('holds about two chunks at most when the reader does not read (encrypt)', () => {
    const stream = createEncryptStream(symmetric);
    let accepted = 0;
    while (accepted < 1000 && stream.write(Buffer.alloc(DEFAULT_CHUNK_SIZE))) accepted++;
    expect(accepted).toBeLessThan(4);
    expect(stream.readableLength + stream.writableLength).toBeLessThanOrEqual(3 * (DEFAULT_CHUNK_SIZE + 20));
    stream.destroy();
  });

  it('holds about two chunks at most when the reader does not read (decrypt)', async () => {
    const file = await encryptToBuffer(symmetric, randomBytes(40 * DEFAULT_CHUNK_SIZE));
    const stream = createDecryptStream(symmetric);
    let offset = 0;
    while (offset < file.length && stream.write(file.subarray(offset, offset + DEFAULT_CHUNK_SIZE))) {
      offset += DEFAULT_CHUNK_SIZE;
    }
    expect(offset).toBeLessThan(4 * DEFAULT_CHUNK_SIZE);
    expect(stream.readableLength + stream.writableLength).toBeLessThanOrEqual(3 * (DEFAULT_CHUNK_SIZE + 20));
    stream.destroy();
  });
});
