// Writes the golden test vectors: node agent/src/format/vectors/generate.ts
// Released vectors never change: this refuses to overwrite an existing vectors.json. It exists to
// document how the files were made and to add vectors for a future format version.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileRandomness } from '../envelope.ts';
import { headerLayout, writeHeaderChecksum } from '../header.ts';
import { parseEncryptionKey, publicKeyOf } from '../keys.ts';
import { encryptToBuffer } from '../testing.ts';

const directory = dirname(fileURLToPath(import.meta.url));

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const sha256 = (text: string | Uint8Array) => createHash('sha256').update(text).digest();
const keyText = (prefix: string, first: number) =>
  prefix + Buffer.from(Array.from({ length: 32 }, (_, i) => first + i)).toString('base64url');

// SECURITY: public test keys (published in vectors.json); they must never protect real data.
const KEYS = {
  symmetric: keyText('resistro-key-1:', 0x00),
  x25519Private: keyText('resistro-sec-1:', 0x40),
  otherSymmetric: keyText('resistro-key-1:', 0x80),
  otherX25519Private: keyText('resistro-sec-1:', 0xa0),
};
type KeyName = keyof typeof KEYS;

/** byte i = i mod 251: 251 is prime, so the pattern never lines up with a chunk boundary. */
export function patternPlaintext(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = i % 251;
  return bytes;
}

// SECURITY: deterministic per-file secrets, so the vectors are reproducible; only for vectors.
function randomnessFor(name: string, x25519: boolean): FileRandomness {
  return {
    dataKey: sha256(`resistro vector ${name} data key`),
    salt: sha256(`resistro vector ${name} salt`),
    noncePrefix: sha256(`resistro vector ${name} nonce prefix`).subarray(0, 7),
    ephemeralPrivateKey: x25519 ? sha256(`resistro vector ${name} ephemeral`) : undefined,
  };
}

// A real zstd frame of a small SQL script, stored as bytes so the vector does not depend on zstd's output.
const ZSTD_PAYLOAD = Buffer.from(
  '28b52ffd20e46d02008244101780356e6c956d7a08d12915792b620900b1c22f27baa911a8cd29ad834a88211f1021dfd640e5f8fb6ac56fb64d312a79017780cbbf2f32a5bf5d961d54c5c59a02009527506258050a',
  'hex',
);

type ValidSpec = {
  name: string;
  key: KeyName;
  chunkSize: number;
  plaintext: Buffer;
  explicit?: boolean;
  compression?: 'none' | 'zstd';
};

const valid: ValidSpec[] = [];
for (const mode of ['symmetric', 'x25519'] as const) {
  for (const [label, chunkSize] of [
    ['c16', 16],
    ['c64k', 65536],
  ] as const) {
    for (const length of [0, 1, chunkSize - 1, chunkSize, chunkSize + 1]) {
      const key: KeyName = mode === 'symmetric' ? 'symmetric' : 'x25519Private';
      valid.push({ name: `${mode}-${label}-${length}`, key, chunkSize, plaintext: patternPlaintext(length) });
    }
  }
}
valid.push({ name: 'symmetric-c16-40', key: 'symmetric', chunkSize: 16, plaintext: patternPlaintext(40) });
valid.push({
  name: 'symmetric-c64k-zstd',
  key: 'symmetric',
  chunkSize: 65536,
  plaintext: ZSTD_PAYLOAD,
  explicit: true,
  compression: 'zstd',
});

async function main(): Promise<void> {
  const index = join(directory, 'vectors.json');
  if (existsSync(index) && !process.argv.includes('--force')) {
    throw new Error(
      'vectors.json exists; released vectors never change (pass --force only before a release)',
    );
  }
  const files = new Map<string, Buffer>();
  const validEntries = [];
  for (const spec of valid) {
    const key = parseEncryptionKey(KEYS[spec.key]);
    const randomness = randomnessFor(spec.name, key.kind !== 'symmetric');
    const compression = spec.compression ?? 'none';
    const bytes = await encryptToBuffer(key, spec.plaintext, {
      chunkSize: spec.chunkSize,
      compression,
      randomness,
    });
    files.set(`${spec.name}.resistro`, bytes);
    validEntries.push({
      name: spec.name,
      file: `${spec.name}.resistro`,
      key: spec.key,
      keyId: key.keyId,
      compression,
      chunkSize: spec.chunkSize,
      plaintextLength: spec.plaintext.length,
      ...(spec.explicit ? { plaintextHex: hex(spec.plaintext) } : {}),
      plaintextSha256: hex(sha256(spec.plaintext)),
      dataKey: hex(randomness.dataKey),
      salt: hex(randomness.salt),
      noncePrefix: hex(randomness.noncePrefix),
      ...(randomness.ephemeralPrivateKey ? { ephemeralPrivateKey: hex(randomness.ephemeralPrivateKey) } : {}),
      ciphertextLength: bytes.length,
      ciphertextSha256: hex(sha256(bytes)),
    });
  }

  // Damaged files, all made from symmetric-c16-40: header 191 bytes, then chunks of 36, 36 and 28 bytes.
  const base = files.get('symmetric-c16-40.resistro')!;
  const layout = headerLayout('symmetric');
  const H = layout.length;
  const chunk = (i: number) => base.subarray(H + 36 * i, H + 36 * i + (i === 2 ? 28 : 36));
  const flipped = (offset: number, fixChecksum: boolean) => {
    const copy = Buffer.from(base);
    copy[offset]! ^= 0x01;
    if (fixChecksum) writeHeaderChecksum(copy, layout);
    return copy;
  };
  const invalid: {
    name: string;
    key: KeyName;
    error: string;
    description: string;
    bytes?: Buffer;
    file?: string;
  }[] = [
    {
      name: 'bad-magic',
      key: 'symmetric',
      error: 'bad_magic',
      description: 'first byte 0x89 changed to 0x88',
      bytes: flipped(0, false),
    },
    {
      name: 'unsupported-version',
      key: 'symmetric',
      error: 'unsupported_version',
      description: 'version byte 1 changed to 2',
      bytes: Buffer.concat([base.subarray(0, 12), Buffer.from([2]), base.subarray(13)]),
    },
    {
      name: 'header-checksum',
      key: 'symmetric',
      error: 'header_corrupt',
      description: 'one bit of the key id flipped; checksum left as is',
      bytes: flipped(20, false),
    },
    {
      name: 'header-compression',
      key: 'symmetric',
      error: 'header_corrupt',
      description: 'compression 0 changed to 1, checksum recomputed: the header tag (and the wrap) fail',
      bytes: flipped(14, true),
    },
    {
      name: 'header-nonce-prefix',
      key: 'symmetric',
      error: 'header_corrupt',
      description: 'one bit of the nonce prefix flipped, checksum recomputed',
      bytes: flipped(68, true),
    },
    {
      name: 'header-commitment',
      key: 'symmetric',
      error: 'header_corrupt',
      description: 'one bit of the key commitment flipped, checksum recomputed',
      bytes: flipped(layout.commitment, true),
    },
    {
      name: 'header-tag',
      key: 'symmetric',
      error: 'header_corrupt',
      description: 'one bit of the header tag flipped, checksum recomputed',
      bytes: flipped(layout.tag, true),
    },
    {
      name: 'truncated-header',
      key: 'symmetric',
      error: 'truncated',
      description: 'cut after 100 bytes',
      bytes: base.subarray(0, 100),
    },
    {
      name: 'truncated-at-boundary',
      key: 'symmetric',
      error: 'truncated',
      description: 'cut after chunk 1, at a chunk boundary',
      bytes: base.subarray(0, H + 72),
    },
    {
      name: 'truncated-inside-chunk',
      key: 'symmetric',
      error: 'truncated',
      description: 'cut 10 bytes into chunk 1',
      bytes: base.subarray(0, H + 46),
    },
    {
      name: 'trailing-data',
      key: 'symmetric',
      error: 'trailing_data',
      description: 'one zero byte appended',
      bytes: Buffer.concat([base, Buffer.alloc(1)]),
    },
    {
      name: 'chunks-swapped',
      key: 'symmetric',
      error: 'chunk_corrupt',
      description: 'chunks 0 and 1 swapped',
      bytes: Buffer.concat([base.subarray(0, H), chunk(1), chunk(0), chunk(2)]),
    },
    {
      name: 'chunk-repeated',
      key: 'symmetric',
      error: 'chunk_corrupt',
      description: 'chunk 0 repeated before chunk 1',
      bytes: Buffer.concat([base.subarray(0, H), chunk(0), chunk(0), chunk(1), chunk(2)]),
    },
    {
      name: 'chunk-bit-flip',
      key: 'symmetric',
      error: 'chunk_corrupt',
      description: 'one ciphertext bit of chunk 1 flipped',
      bytes: flipped(H + 36 + 4 + 3, false),
    },
    {
      name: 'final-chunk-dropped-flag',
      key: 'symmetric',
      error: 'chunk_corrupt',
      description: 'final chunk removed and chunk 1 length field set to 15, posing as the final chunk',
      bytes: (() => {
        const c = Buffer.from(base.subarray(0, H + 72));
        c.writeUInt32BE(15, H + 36);
        return Buffer.concat([c.subarray(0, H + 36 + 4 + 15), c.subarray(H + 36 + 4 + 16)]);
      })(),
    },
    {
      name: 'wrong-key-symmetric',
      key: 'symmetric',
      error: 'wrong_key',
      description: 'symmetric-c16-40 plaintext encrypted with otherSymmetric',
      bytes: await encryptToBuffer(parseEncryptionKey(KEYS.otherSymmetric), patternPlaintext(40), {
        chunkSize: 16,
        compression: 'none',
        randomness: randomnessFor('wrong-key-symmetric', false),
      }),
    },
    {
      name: 'wrong-key-x25519',
      key: 'x25519Private',
      error: 'wrong_key',
      description: 'encrypted to the public key of otherX25519Private',
      bytes: await encryptToBuffer(parseEncryptionKey(KEYS.otherX25519Private), patternPlaintext(40), {
        chunkSize: 16,
        compression: 'none',
        randomness: randomnessFor('wrong-key-x25519', true),
      }),
    },
    {
      name: 'mode-mismatch',
      key: 'symmetric',
      error: 'wrong_key',
      description: 'an x25519 file opened with a symmetric key',
      file: 'x25519-c16-17.resistro',
    },
  ];
  const invalidEntries = invalid.map(({ bytes, file, ...entry }) => {
    const name = file ?? `invalid-${entry.name}.resistro`;
    if (bytes) files.set(name, bytes);
    return { ...entry, file: name };
  });

  const keys = Object.fromEntries(
    Object.entries(KEYS).map(([name, text]) => {
      const key = parseEncryptionKey(text);
      return [
        name,
        { text, keyId: key.keyId, ...(key.kind === 'private' ? { publicKey: publicKeyOf(key) } : {}) },
      ];
    }),
  );
  for (const [name, bytes] of files) await writeFile(join(directory, name), bytes);
  const document = {
    description:
      'Golden test vectors for the .resistro format, version 1. See FORMAT.md, "Test vectors". Never edit: add new vectors instead.',
    plaintextRule: 'Unless plaintextHex is given, byte i of the plaintext is i mod 251.',
    keys,
    valid: validEntries,
    invalid: invalidEntries,
  };
  await writeFile(index, `${JSON.stringify(document, null, 2)}\n`);
  console.log(`wrote ${files.size} files and vectors.json`);
}

await main();
