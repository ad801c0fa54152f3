import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';

// node:crypto has no raw X25519 import/export, so keys travel through their fixed DER wrappers:
// a 32-byte key always sits at the end of the same 16-byte PKCS#8 / 12-byte SPKI prefix (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export const X25519_KEY_LENGTH = 32;

export function x25519PrivateKey(raw: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

export function x25519PublicKey(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function rawX25519PublicKey(key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

export function rawX25519PrivateKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
}

/**
 * X25519, or undefined when the peer key is a low-order point.
 * SECURITY: a low-order point forces an all-zero shared secret that anyone can compute; OpenSSL refuses
 * to derive it, and we double-check, so such a key can neither be encrypted to nor smuggled into a header.
 */
export function x25519(privateKey: KeyObject, publicKey: KeyObject): Buffer | undefined {
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey, publicKey });
  } catch {
    return undefined;
  }
  return shared.some((byte) => byte !== 0) ? shared : undefined;
}
