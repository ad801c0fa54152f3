import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { HeaderCorruptError, KeyUsageError, WrongKeyError } from './errors.ts';
import {
  type Compression,
  DATA_KEY_LENGTH,
  EPHEMERAL_KEY_LENGTH,
  encodeHeader,
  type FormatVersion,
  headerLayout,
  NONCE_PREFIX_LENGTH,
  type ParsedHeader,
  SALT_LENGTH,
  writeHeaderChecksum,
} from './header.ts';
import type { EncryptionKey } from './keys.ts';
import { rawX25519PublicKey, x25519, x25519PrivateKey, x25519PublicKey } from './x25519.ts';

// The key schedule (FORMAT.md, "Key schedule"): a random data key per file, wrapped for the
// customer's key, and everything else derived from it with HKDF-SHA256 over the file's salt.

const WRAP_SYMMETRIC_INFO = 'resistro v1 wrap symmetric';
const WRAP_X25519_INFO = 'resistro v1 wrap x25519';
const PAYLOAD_KEY_INFO = 'resistro v1 payload key';
const HEADER_KEY_INFO = 'resistro v1 header key';
const COMMITMENT_INFO = 'resistro v1 commitment';

// SECURITY: every key-wrapping key is derived from a fresh 256-bit salt (and, in x25519 mode, a fresh
// ephemeral key), so it encrypts exactly one message and the fixed all-zero GCM nonce is never reused.
const WRAP_NONCE = Buffer.alloc(12);

/** The per-file secrets an encryptor draws; tests inject them to make golden vectors reproducible. */
export type FileRandomness = {
  dataKey: Uint8Array;
  salt: Uint8Array;
  noncePrefix: Uint8Array;
  /** Raw X25519 scalar, x25519 mode only. */
  ephemeralPrivateKey?: Uint8Array;
};

export type StreamKeys = {
  payloadKey: KeyObject;
  noncePrefix: Buffer;
  /** Version 2 (FORMAT.md §11.3): the key of section `index`, and of the table of contents. */
  sectionKey(index: number): KeyObject;
  tocKey(): KeyObject;
};

const SECTION_KEY_INFO = 'resistro v2 section key';
const TOC_KEY_INFO = 'resistro v2 toc key';

function streamKeys(dataKey: KeyObject, salt: Buffer, noncePrefix: Buffer): StreamKeys {
  return {
    payloadKey: createSecretKey(derive(dataKey, salt, PAYLOAD_KEY_INFO)),
    noncePrefix,
    sectionKey(index) {
      if (!Number.isInteger(index) || index < 0 || index > 0xffff_ffff)
        throw new RangeError(`section index ${index} is out of range`);
      const info = Buffer.alloc(SECTION_KEY_INFO.length + 4);
      info.write(SECTION_KEY_INFO, 0, 'latin1');
      info.writeUInt32BE(index, SECTION_KEY_INFO.length);
      // SECURITY: one key per section index: a section's chunks moved to another section's place
      // (or its TOC entry pointed elsewhere) are opened under the wrong key and fail their tags.
      return createSecretKey(Buffer.from(hkdfSync('sha256', dataKey, salt, info, 32)));
    },
    tocKey: () => createSecretKey(derive(dataKey, salt, TOC_KEY_INFO)),
  };
}

export function freshRandomness(key: EncryptionKey): FileRandomness {
  // SECURITY: all per-file secrets come from the OS CSPRNG; a repeat of (data key, nonce prefix)
  // would reuse GCM nonces, and 256 + 56 random bits make that practically impossible.
  return {
    dataKey: randomBytes(DATA_KEY_LENGTH),
    salt: randomBytes(SALT_LENGTH),
    noncePrefix: randomBytes(NONCE_PREFIX_LENGTH),
    ephemeralPrivateKey: key.kind === 'symmetric' ? undefined : randomBytes(EPHEMERAL_KEY_LENGTH),
  };
}

export function sealHeader(
  key: EncryptionKey,
  options: { compression: Compression; chunkSize: number; version?: FormatVersion },
  randomness: FileRandomness,
): StreamKeys & { header: Buffer } {
  const keyMode = key.kind === 'symmetric' ? 'symmetric' : 'x25519';
  const salt = Buffer.from(randomness.salt);
  let kek: Buffer;
  let ephemeralPublicKey: Buffer | undefined;
  if (key.kind === 'symmetric') {
    kek = symmetricKek(key.secret, salt);
  } else {
    if (!randomness.ephemeralPrivateKey) throw new Error('x25519 mode needs an ephemeral private key');
    const ephemeral = x25519PrivateKey(randomness.ephemeralPrivateKey);
    ephemeralPublicKey = rawX25519PublicKey(ephemeral);
    // SECURITY: the ephemeral key is used for this one file and then dropped, so only the holder of
    // the recipient's private key can recompute the shared secret.
    const shared = x25519(ephemeral, key.publicKey);
    if (!shared) throw new Error('recipient key is a low-order point'); // parseEncryptionKey refuses these
    kek = x25519Kek(shared, salt, ephemeralPublicKey, rawX25519PublicKey(key.publicKey));
  }
  const header = encodeHeader({
    version: options.version,
    keyMode,
    compression: options.compression,
    chunkSize: options.chunkSize,
    keyId: Buffer.from(key.keyId, 'hex'),
    salt,
    noncePrefix: randomness.noncePrefix,
    ephemeralPublicKey,
  });
  const layout = headerLayout(keyMode);
  const dataKey = createSecretKey(randomness.dataKey);

  // SECURITY: AES-GCM with the header so far as associated data binds the wrapped key to this header.
  const wrap = createCipheriv('aes-256-gcm', kek, WRAP_NONCE);
  wrap.setAAD(header.subarray(0, layout.wrappedKey));
  const wrapped = wrap.update(randomness.dataKey);
  wrap.final();
  header.set(wrapped, layout.wrappedKey);
  header.set(wrap.getAuthTag(), layout.wrappedKey + DATA_KEY_LENGTH);
  kek.fill(0);

  header.set(derive(dataKey, salt, COMMITMENT_INFO), layout.commitment);
  header.set(headerTag(dataKey, salt, header.subarray(0, layout.tag)), layout.tag);
  writeHeaderChecksum(header, layout);
  return { header, ...streamKeys(dataKey, salt, Buffer.from(randomness.noncePrefix)) };
}

/**
 * Checks, in this order, that the key is the file's key (WrongKeyError), that the wrapped data key
 * opens, that it is the key the header commits to, and that the header tag is valid
 * (HeaderCorruptError for each of the last three: the key id matched, so the key is right).
 */
export function openHeader(header: ParsedHeader, key: EncryptionKey): StreamKeys {
  if (key.kind === 'recipient') throw recipientCannotDecrypt();
  const keyKind = key.kind === 'symmetric' ? 'a symmetric key' : 'a public-key pair';
  const fileKind = header.keyMode === 'symmetric' ? 'with a symmetric key' : 'to a public key';
  if ((header.keyMode === 'symmetric') !== (key.kind === 'symmetric')) {
    throw new WrongKeyError(
      `wrong key: the file was encrypted ${fileKind} (key id ${header.keyId}), but the given key is ${keyKind} (key id ${key.keyId})`,
      header.keyId,
      key.keyId,
    );
  }
  // Key ids are public, so a plain comparison is fine here.
  if (header.keyId !== key.keyId) {
    throw new WrongKeyError(
      `wrong key: the file was encrypted with key id ${header.keyId}, but the given key has key id ${key.keyId}`,
      header.keyId,
      key.keyId,
    );
  }

  const { layout, bytes, salt } = header;
  let kek: Buffer;
  if (key.kind === 'symmetric') {
    kek = symmetricKek(key.secret, salt);
  } else {
    const ephemeralRaw = header.ephemeralPublicKey!;
    const shared = x25519(key.privateKey, x25519PublicKey(ephemeralRaw));
    if (!shared)
      throw new HeaderCorruptError('the ephemeral public key in the header is not a valid X25519 key');
    kek = x25519Kek(shared, salt, ephemeralRaw, rawX25519PublicKey(key.publicKey));
  }
  let dataKeyBytes: Buffer;
  try {
    const unwrap = createDecipheriv('aes-256-gcm', kek, WRAP_NONCE);
    unwrap.setAAD(bytes.subarray(0, layout.wrappedKey));
    unwrap.setAuthTag(header.wrappedKey.subarray(DATA_KEY_LENGTH));
    dataKeyBytes = Buffer.concat([
      unwrap.update(header.wrappedKey.subarray(0, DATA_KEY_LENGTH)),
      unwrap.final(),
    ]);
  } catch (cause) {
    throw new HeaderCorruptError('the wrapped data key does not authenticate: the header was altered', {
      cause,
    });
  } finally {
    kek.fill(0);
  }
  const dataKey = createSecretKey(dataKeyBytes);
  dataKeyBytes.fill(0);

  // SECURITY: the commitment pins the data key: GCM alone is not key-committing, so without it a
  // crafted file could decrypt "validly" to different plaintexts under two keys.
  if (!timingSafeEqual(derive(dataKey, salt, COMMITMENT_INFO), header.commitment)) {
    throw new HeaderCorruptError('the key commitment does not match the data key: the header was altered');
  }
  // SECURITY: the tag covers every header byte before it (compression, chunk size, nonce prefix...),
  // so no field can be changed without detection even by someone who fixes the checksum.
  if (!timingSafeEqual(headerTag(dataKey, salt, bytes.subarray(0, layout.tag)), header.tag)) {
    throw new HeaderCorruptError('the header authentication tag does not match: the header was altered');
  }
  return streamKeys(dataKey, salt, Buffer.from(header.noncePrefix));
}

export function recipientCannotDecrypt(): KeyUsageError {
  return new KeyUsageError(
    'a public key (resistro-pub-1:) can only encrypt; decrypting needs the matching private key',
    'Use the resistro-sec-1: private key printed by `resistro keygen` next to this public key.',
  );
}

function symmetricKek(secret: KeyObject, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, salt, WRAP_SYMMETRIC_INFO, 32));
}

function x25519Kek(
  shared: Buffer,
  salt: Buffer,
  ephemeralPublic: Uint8Array,
  recipientPublic: Uint8Array,
): Buffer {
  // SECURITY: both public keys go into the info (as in HPKE), binding the wrapping key to this exact
  // exchange; the all-zero shared secret was already refused in x25519().
  const info = Buffer.concat([Buffer.from(WRAP_X25519_INFO), ephemeralPublic, recipientPublic]);
  const kek = Buffer.from(hkdfSync('sha256', shared, salt, info, 32));
  shared.fill(0);
  return kek;
}

function derive(dataKey: KeyObject, salt: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', dataKey, salt, info, 32));
}

function headerTag(dataKey: KeyObject, salt: Buffer, covered: Buffer): Buffer {
  const headerKey = derive(dataKey, salt, HEADER_KEY_INFO);
  const tag = createHmac('sha256', headerKey).update(covered).digest();
  headerKey.fill(0);
  return tag;
}
