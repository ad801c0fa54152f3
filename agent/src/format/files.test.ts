import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormatError, KeyUsageError, PayloadCorruptError, WrongKeyError } from './errors.ts';
import { decryptFile, readFileHeader, verifyFile } from './files.ts';
import { readHeader } from './header.ts';
import { generateKeyPair, generateSymmetricKey, parseEncryptionKey } from './keys.ts';
import { encryptToBuffer } from './testing.ts';

const key = parseEncryptionKey(generateSymmetricKey());
const rows = Array.from(
  { length: 5000 },
  () => `INSERT INTO t VALUES ('${randomBytes(16).toString('hex')}');\n`,
);
const sql = Buffer.from(`CREATE TABLE t (id text);\n${rows.join('')}`);
const compressed = zstdCompressSync(sql);

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'resistro-format-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function place(name: string, bytes: Buffer): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, bytes);
  return path;
}

describe('decryptFile', () => {
  it('decrypts and decompresses to the original SQL, readable by its owner only', async () => {
    const input = await place('ok.resistro', await encryptToBuffer(key, compressed, { chunkSize: 1000 }));
    const output = join(directory, 'ok.sql');
    const result = await decryptFile(input, output, key);
    expect((await readFile(output)).equals(sql)).toBe(true);
    expect((await stat(output)).mode & 0o777).toBe(0o600);
    expect(result).toMatchObject({
      plaintextBytes: compressed.length,
      chunks: Math.floor(compressed.length / 1000) + 1,
      decompressedBytes: sql.length,
    });
    expect(result.header.compression).toBe('zstd');
  });

  it('writes the compressed payload as is with decompress: false', async () => {
    const input = await place('raw.resistro', await encryptToBuffer(key, compressed));
    const output = join(directory, 'raw.sql.zst');
    const result = await decryptFile(input, output, key, { decompress: false });
    expect((await readFile(output)).equals(compressed)).toBe(true);
    expect(result.decompressedBytes).toBeUndefined();
  });

  it('writes an uncompressed payload as is', async () => {
    const input = await place('plain.resistro', await encryptToBuffer(key, sql, { compression: 'none' }));
    const output = join(directory, 'plain.sql');
    await decryptFile(input, output, key);
    expect((await readFile(output)).equals(sql)).toBe(true);
  });

  it('decrypts a public-key file with the private key', async () => {
    const pair = generateKeyPair();
    const file = await encryptToBuffer(parseEncryptionKey(pair.publicKey), compressed);
    const input = await place('x25519.resistro', file);
    const output = join(directory, 'x25519.sql');
    await decryptFile(input, output, parseEncryptionKey(pair.privateKey));
    expect((await readFile(output)).equals(sql)).toBe(true);
  });
});

describe('decryptFile on a bad file leaves no output behind', async () => {
  const good = await encryptToBuffer(key, compressed, { chunkSize: 1000 });
  const H = readHeader(good).length;
  const cases: [string, Buffer, string, ReturnType<typeof parseEncryptionKey>][] = [
    ['a file cut at a chunk boundary', good.subarray(0, H + 3 * 1020), 'truncated', key],
    ['a file cut inside a chunk', good.subarray(0, good.length - 7), 'truncated', key],
    ['a file with bytes appended', Buffer.concat([good, Buffer.from('x')]), 'trailing_data', key],
    ['a file with a flipped bit', flip(good, H + 1500), 'chunk_corrupt', key],
    ['a damaged header', flip(good, 40), 'header_corrupt', key],
    ['a file that is not a backup', sql.subarray(0, 5000), 'bad_magic', key],
    ['an empty file', Buffer.alloc(0), 'truncated', key],
    ['the wrong key', good, 'wrong_key', parseEncryptionKey(generateSymmetricKey())],
    ['a public key', good, 'key_usage', parseEncryptionKey(generateKeyPair().publicKey)],
  ];

  it.each(cases)('%s', async (_name, bytes, code, decryptKey) => {
    const caseDirectory = await mkdtemp(join(directory, 'case-'));
    const input = join(caseDirectory, 'in.resistro');
    await writeFile(input, bytes);
    const output = join(caseDirectory, 'out.sql');
    const error = await decryptFile(input, output, decryptKey).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FormatError);
    expect((error as FormatError).code).toBe(code);
    expect(await readdir(caseDirectory)).toEqual(['in.resistro']);
  });

  it('keeps an existing output file untouched when decryption fails', async () => {
    const input = await place('cut.resistro', good.subarray(0, good.length - 1));
    const output = await place('existing.sql', Buffer.from('previous restore'));
    await expect(decryptFile(input, output, key)).rejects.toThrow(FormatError);
    expect(await readFile(output, 'utf8')).toBe('previous restore');
  });

  it('reports an authentic payload that is not valid zstd as a payload error', async () => {
    const input = await place('notzstd.resistro', await encryptToBuffer(key, randomBytes(5000)));
    const output = join(directory, 'notzstd.sql');
    await expect(decryptFile(input, output, key)).rejects.toThrow(PayloadCorruptError);
    await expect(stat(output)).rejects.toThrow(/ENOENT/);
  });
});

describe('verifyFile', () => {
  it('checks the whole file and reports its size without writing anything', async () => {
    const input = await place('verify.resistro', await encryptToBuffer(key, compressed, { chunkSize: 4096 }));
    const before = await readdir(directory);
    const result = await verifyFile(input, key);
    expect(result).toEqual({
      header: readHeader(await readFile(input)),
      plaintextBytes: compressed.length,
      chunks: Math.floor(compressed.length / 4096) + 1,
      decompressedBytes: sql.length,
    });
    expect(await readdir(directory)).toEqual(before);
  });

  it('fails with the named error of the damage', async () => {
    const file = await encryptToBuffer(key, compressed, { chunkSize: 4096 });
    const input = await place('verify-cut.resistro', file.subarray(0, file.length - 20));
    await expect(verifyFile(input, key)).rejects.toMatchObject({ code: 'truncated' });
    await expect(verifyFile(input, parseEncryptionKey(generateSymmetricKey()))).rejects.toThrow(
      WrongKeyError,
    );
    await expect(verifyFile(input, parseEncryptionKey(generateKeyPair().publicKey))).rejects.toThrow(
      KeyUsageError,
    );
  });
});

describe('key usage', () => {
  it('refuses a public key before even opening the file', async () => {
    const recipient = parseEncryptionKey(generateKeyPair().publicKey);
    const missing = join(directory, 'does-not-exist.resistro');
    await expect(verifyFile(missing, recipient)).rejects.toThrow(KeyUsageError);
    await expect(decryptFile(missing, join(directory, 'never.sql'), recipient)).rejects.toThrow(
      KeyUsageError,
    );
  });
});

describe('readFileHeader', () => {
  it('reads the key id and compression of a file without any key', async () => {
    const input = await place('header.resistro', await encryptToBuffer(key, compressed));
    expect(await readFileHeader(input)).toMatchObject({
      keyId: key.keyId,
      compression: 'zstd',
      chunkSize: 65536,
    });
  });
});

function flip(bytes: Buffer, offset: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset]! ^= 0x10;
  return copy;
}
