import { describe, expect, it } from 'vitest';
import {
  BadMagicError,
  FormatError,
  HeaderCorruptError,
  TruncatedError,
  UnsupportedVersionError,
} from './errors.ts';
import { headerLayout, MAGIC, readHeader, writeHeaderChecksum } from './header.ts';
import { generateKeyPair, generateSymmetricKey, parseEncryptionKey } from './keys.ts';
import { decryptBuffer, encryptToBuffer } from './testing.ts';

const symmetric = parseEncryptionKey(generateSymmetricKey());
const pair = generateKeyPair();
const recipient = parseEncryptionKey(pair.publicKey);
const privateKey = parseEncryptionKey(pair.privateKey);

const plaintext = Buffer.from('header tests');
const symmetricFile = await encryptToBuffer(symmetric, plaintext, { chunkSize: 4 });
const x25519File = await encryptToBuffer(recipient, plaintext, { chunkSize: 4 });

function readHeaderError(bytes: Buffer): FormatError {
  try {
    readHeader(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(FormatError);
    return error as FormatError;
  }
  throw new Error('expected readHeader to fail');
}

describe('header layout', () => {
  it('starts with the magic and reads back every public field without the key', () => {
    expect(symmetricFile.subarray(0, 12).equals(MAGIC)).toBe(true);
    expect(readHeader(symmetricFile)).toEqual({
      version: 1,
      keyMode: 'symmetric',
      compression: 'zstd',
      chunkSize: 4,
      keyId: symmetric.keyId,
      length: 191,
    });
    expect(readHeader(x25519File)).toMatchObject({ keyMode: 'x25519', keyId: recipient.keyId, length: 223 });
  });

  it('refuses a file that is not a .resistro file as soon as the first byte differs', () => {
    expect(readHeaderError(Buffer.from('-- PostgreSQL database dump'))).toBeInstanceOf(BadMagicError);
    expect(readHeaderError(Buffer.from([0x89]))).toBeInstanceOf(TruncatedError);
    expect(readHeaderError(Buffer.from([0x88]))).toBeInstanceOf(BadMagicError);
  });

  it('refuses a file whose line endings were converted in transfer', () => {
    const converted = Buffer.concat([MAGIC.subarray(0, 9), Buffer.from([0x0a]), symmetricFile.subarray(11)]);
    expect(readHeaderError(converted)).toBeInstanceOf(BadMagicError);
  });

  it('refuses an unknown version before interpreting anything else', () => {
    const future = Buffer.from(symmetricFile);
    future[12] = 3; // 2 is the sectioned format (FORMAT.md §11)
    const error = readHeaderError(future);
    expect(error).toBeInstanceOf(UnsupportedVersionError);
    expect(error.message).toMatch(/version 3/);
  });
});

type Field = { name: string; offset: number; length: number };

function fieldsOf(keyMode: 'symmetric' | 'x25519'): Field[] {
  const layout = headerLayout(keyMode);
  const fields: Field[] = [
    { name: 'key mode', offset: 13, length: 1 },
    { name: 'compression', offset: 14, length: 1 },
    { name: 'flags', offset: 15, length: 1 },
    { name: 'chunk size', offset: 16, length: 4 },
    { name: 'key id', offset: 20, length: 16 },
    { name: 'salt', offset: 36, length: 32 },
    { name: 'nonce prefix', offset: 68, length: 7 },
    { name: 'wrapped data key', offset: layout.wrappedKey, length: 48 },
    { name: 'key commitment', offset: layout.commitment, length: 32 },
    { name: 'header tag', offset: layout.tag, length: 32 },
  ];
  if (keyMode === 'x25519') fields.push({ name: 'ephemeral public key', offset: 75, length: 32 });
  return fields;
}

describe.each([
  ['symmetric', symmetricFile, symmetric],
  ['x25519', x25519File, privateKey],
] as const)('altered header fields, %s mode', (keyMode, file, key) => {
  const layout = headerLayout(keyMode);

  it.each(fieldsOf(keyMode))(
    'reports an accidental change to the $name as a damaged header',
    async (field) => {
      for (const at of [field.offset, field.offset + field.length - 1]) {
        const altered = Buffer.from(file);
        altered[at]! ^= 0x04;
        const { error, events } = await decryptBuffer(key, altered);
        expect(error).toBeInstanceOf(HeaderCorruptError);
        expect(events).toEqual([]);
      }
    },
  );

  it.each(fieldsOf(keyMode).filter((field) => field.name !== 'key id'))(
    'detects a deliberate change to the $name even with the checksum recomputed',
    async (field) => {
      for (const at of [field.offset, field.offset + field.length - 1]) {
        const altered = Buffer.from(file);
        altered[at]! ^= 0x04;
        writeHeaderChecksum(altered, layout);
        const { error, events } = await decryptBuffer(key, altered);
        expect(error).toBeInstanceOf(HeaderCorruptError);
        expect(events).toEqual([]);
      }
    },
  );

  it('reports a deliberately rewritten key id as a wrong key: that is what the key id check is for', async () => {
    const altered = Buffer.from(file);
    altered[20]! ^= 0x04;
    writeHeaderChecksum(altered, layout);
    expect((await decryptBuffer(key, altered)).error).toMatchObject({ code: 'wrong_key' });
  });

  it('reports a damaged checksum field as a damaged header', async () => {
    const altered = Buffer.from(file);
    altered[layout.checksum]! ^= 0x80;
    const { error } = await decryptBuffer(key, altered);
    expect(error).toBeInstanceOf(HeaderCorruptError);
    expect((error as Error).message).toMatch(/checksum/);
  });
});
