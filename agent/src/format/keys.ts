import { createHmac, createSecretKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { InvalidKeyError } from './errors.ts';
import { KEY_ID_LENGTH } from './header.ts';
import {
  rawX25519PrivateKey,
  rawX25519PublicKey,
  x25519,
  x25519PrivateKey,
  x25519PublicKey,
} from './x25519.ts';

// Key text formats (FORMAT.md, "Key text"): a versioned prefix that says what the key is, then the
// 32 key bytes in unpadded base64url. A bare 64-character hex string is also a symmetric key, so a key
// made with `openssl rand -hex 32` works as is.
export const SYMMETRIC_KEY_PREFIX = 'resistro-key-1:';
export const PUBLIC_KEY_PREFIX = 'resistro-pub-1:';
export const PRIVATE_KEY_PREFIX = 'resistro-sec-1:';

const KEY_LENGTH = 32;
const BASE64URL_KEY_LENGTH = 43;
const KEYGEN_HINT = 'Generate a key with `resistro keygen`.';

// SECURITY: the key material lives only inside KeyObjects, which print as `SecretKeyObject {}` and
// serialise to `{}`, so logging a parsed config cannot leak it.
export type EncryptionKey =
  | { readonly kind: 'symmetric'; readonly keyId: string; readonly secret: KeyObject }
  | { readonly kind: 'recipient'; readonly keyId: string; readonly publicKey: KeyObject }
  | {
      readonly kind: 'private';
      readonly keyId: string;
      readonly publicKey: KeyObject;
      readonly privateKey: KeyObject;
    };

// SECURITY: a key id is public (it is written into every file header), so it must not reveal the key:
// HMAC-SHA256 keyed with the key itself is a PRF output, and the mode label keeps a symmetric key and a
// public key with the same 32 bytes from ever sharing an id.
const SYMMETRIC_KEY_ID_LABEL = 'resistro v1 key id symmetric';
const X25519_KEY_ID_LABEL = 'resistro v1 key id x25519';

export function symmetricKeyId(secret: KeyObject): Buffer {
  return createHmac('sha256', secret).update(SYMMETRIC_KEY_ID_LABEL).digest().subarray(0, KEY_ID_LENGTH);
}

export function x25519KeyId(rawPublicKey: Uint8Array): Buffer {
  return createHmac('sha256', rawPublicKey).update(X25519_KEY_ID_LABEL).digest().subarray(0, KEY_ID_LENGTH);
}

export function generateSymmetricKey(): string {
  // SECURITY: 256 bits from the OS CSPRNG; this is the customer's long-term key.
  return SYMMETRIC_KEY_PREFIX + randomBytes(KEY_LENGTH).toString('base64url');
}

export function generateKeyPair(): { publicKey: string; privateKey: string } {
  const { privateKey } = generateKeyPairSync('x25519');
  return {
    publicKey: PUBLIC_KEY_PREFIX + rawX25519PublicKey(privateKey).toString('base64url'),
    privateKey: PRIVATE_KEY_PREFIX + rawX25519PrivateKey(privateKey).toString('base64url'),
  };
}

/** The `resistro-pub-1:` text of a public-key-mode key (undefined for a symmetric key). */
export function publicKeyOf(key: EncryptionKey): string | undefined {
  if (key.kind === 'symmetric') return undefined;
  return PUBLIC_KEY_PREFIX + rawX25519PublicKey(key.publicKey).toString('base64url');
}

export function parseEncryptionKey(text: string): EncryptionKey {
  const value = text.trim();
  if (value === '') throw new InvalidKeyError('the encryption key is empty', KEYGEN_HINT);
  if (/^["']/.test(value)) {
    throw new InvalidKeyError('the encryption key is wrapped in quotes', 'Remove the quotes around the key.');
  }
  if (/^[0-9a-fA-F]+$/.test(value)) return symmetricKey(decodeHex(value));

  const colon = value.indexOf(':');
  const prefix = colon < 0 ? '' : value.slice(0, colon + 1);
  const body = value.slice(colon + 1);
  if (prefix === SYMMETRIC_KEY_PREFIX) return symmetricKey(decodeBase64url(body, prefix));
  if (prefix === PUBLIC_KEY_PREFIX) return recipientKey(decodeBase64url(body, prefix));
  if (prefix === PRIVATE_KEY_PREFIX) return privateKey(decodeBase64url(body, prefix));
  const newer = /^resistro-(key|pub|sec)-(\d+):$/.exec(prefix);
  if (newer) {
    throw new InvalidKeyError(
      `the encryption key uses key format ${newer[1]}-${newer[2]}, which this resistro does not know`,
      'Upgrade resistro, or use a key made by this version of `resistro keygen`.',
    );
  }
  // SECURITY: never echo the value, it may be a mistyped secret.
  throw new InvalidKeyError(
    `the encryption key is not in a known format (expected ${SYMMETRIC_KEY_PREFIX}…, ${PUBLIC_KEY_PREFIX}…, ` +
      `${PRIVATE_KEY_PREFIX}… or 64 hex characters; got ${value.length} characters)`,
    KEYGEN_HINT,
  );
}

function symmetricKey(bytes: Buffer): EncryptionKey {
  // SECURITY: an all-zero key is a placeholder, never a real key; refusing it catches templates.
  if (bytes.every((byte) => byte === 0)) {
    throw new InvalidKeyError('the encryption key is all zeros', KEYGEN_HINT);
  }
  const secret = createSecretKey(bytes);
  bytes.fill(0);
  return { kind: 'symmetric', keyId: symmetricKeyId(secret).toString('hex'), secret };
}

function recipientKey(raw: Buffer): EncryptionKey {
  const publicKey = x25519PublicKey(raw);
  // SECURITY: reject low-order points now, at config load, rather than when the first backup runs.
  if (x25519(x25519PrivateKey(PROBE_SCALAR), publicKey) === undefined) {
    throw new InvalidKeyError(
      `the public key after ${PUBLIC_KEY_PREFIX} is not a usable X25519 key (low-order point)`,
      'Generate a new key pair with `resistro keygen`.',
    );
  }
  return { kind: 'recipient', keyId: x25519KeyId(raw).toString('hex'), publicKey };
}

// Any fixed scalar works to detect low-order points: they give an all-zero result for every scalar.
const PROBE_SCALAR = Buffer.alloc(32, 0x42);

function privateKey(raw: Buffer): EncryptionKey {
  const secret = x25519PrivateKey(raw);
  raw.fill(0);
  const publicRaw = rawX25519PublicKey(secret);
  return {
    kind: 'private',
    keyId: x25519KeyId(publicRaw).toString('hex'),
    publicKey: x25519PublicKey(publicRaw),
    privateKey: secret,
  };
}

function decodeHex(value: string): Buffer {
  if (value.length !== 2 * KEY_LENGTH) {
    throw new InvalidKeyError(
      `a hex encryption key must be exactly 64 hex characters (32 bytes); got ${value.length}`,
      KEYGEN_HINT,
    );
  }
  return Buffer.from(value, 'hex');
}

function decodeBase64url(body: string, prefix: string): Buffer {
  const where = `the key after ${prefix}`;
  if (/\s/.test(body))
    throw new InvalidKeyError(`${where} contains whitespace`, 'Paste the key on one line.');
  if (/[+/=]/.test(body)) {
    throw new InvalidKeyError(
      `${where} contains +, / or =: it looks like standard base64, but keys use unpadded base64url`,
      KEYGEN_HINT,
    );
  }
  const bad = body.search(/[^A-Za-z0-9_-]/);
  if (bad >= 0) {
    throw new InvalidKeyError(
      `${where} has a character that is not base64url at position ${bad + 1}`,
      KEYGEN_HINT,
    );
  }
  if (body.length !== BASE64URL_KEY_LENGTH) {
    throw new InvalidKeyError(
      `${where} must be ${BASE64URL_KEY_LENGTH} base64url characters (32 bytes); got ${body.length}`,
      'Check that the whole key was copied.',
    );
  }
  const bytes = Buffer.from(body, 'base64url');
  // One key, one spelling: the last character carries 4 unused bits, which must be zero.
  if (bytes.toString('base64url') !== body) {
    throw new InvalidKeyError(
      `${where} is not canonical base64url (its last character is wrong)`,
      KEYGEN_HINT,
    );
  }
  return bytes;
}
