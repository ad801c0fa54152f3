// Sealed database passwords: the browser (or an API user) seals a password to the assigned
// agent's X25519 public key; only that agent's private key opens it. The control plane stores
// the sealed value and can never read it.
//
// Format (base64url, no padding):  0x01 | ephemeral public key (32) | nonce (12) | AES-256-GCM(ct || tag)
// key = HKDF-SHA256(ikm = X25519(ephemeral, recipient), salt = ephemeral pub || recipient pub,
//                   info = "resistro sealed password v1")
// SECURITY: a fresh ephemeral key per seal gives a fresh AES key, so the random 96-bit nonce is
// never reused under one key; binding both public keys into the salt stops a sealed value from
// being re-targeted to another agent.
const VERSION = 1;
const INFO = new TextEncoder().encode('resistro sealed password v1');
const AAD = new TextEncoder().encode('resistro-seal-1');

export function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const s = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * True when `text` has the shape of a sealed value (version, room for the ephemeral key, nonce and
 * tag). Only the agent can tell whether it opens; this catches pasted or truncated values early.
 */
export function looksSealed(text: string): boolean {
  try {
    const bytes = fromBase64Url(text);
    return bytes.length >= 1 + 32 + 12 + 16 + 1 && bytes[0] === VERSION;
  } catch {
    return false;
  }
}

// Typed loosely: DOM, Node and Workers type libraries disagree on the X25519 parameter name.
const x25519 = (publicKey: CryptoKey) =>
  ({ name: 'X25519', public: publicKey }) as unknown as Parameters<SubtleCrypto['deriveBits']>[0];

async function deriveKey(
  shared: ArrayBuffer,
  ephemeral: Uint8Array,
  recipient: Uint8Array,
): Promise<CryptoKey> {
  const ikm = await crypto.subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  const salt = new Uint8Array(64);
  salt.set(ephemeral, 0);
  salt.set(recipient, 32);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt, info: INFO },
    ikm,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** Seal `plaintext` to the agent's public key (base64url, 32 bytes). */
export async function sealToAgent(agentPublicKey: string, plaintext: string): Promise<string> {
  const recipientRaw = fromBase64Url(agentPublicKey);
  if (recipientRaw.length !== 32) throw new Error('agent public key must be 32 bytes');
  const recipient = await crypto.subtle.importKey('raw', recipientRaw, { name: 'X25519' }, false, []);
  const eph = (await crypto.subtle.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as CryptoKeyPair;
  const ephRaw = new Uint8Array((await crypto.subtle.exportKey('raw', eph.publicKey)) as ArrayBuffer);
  const shared = await crypto.subtle.deriveBits(x25519(recipient), eph.privateKey, 256);
  const key = await deriveKey(shared, ephRaw, recipientRaw);
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: nonce, additionalData: AAD },
      key,
      new TextEncoder().encode(plaintext),
    ),
  );
  const out = new Uint8Array(1 + 32 + 12 + ct.length);
  out[0] = VERSION;
  out.set(ephRaw, 1);
  out.set(nonce, 33);
  out.set(ct, 45);
  return toBase64Url(out);
}

export type AgentKeyPair = { publicKey: string; privateKey: string };

/** A new agent identity: X25519 key pair, both halves base64url (raw 32 bytes). */
export async function generateAgentKeyPair(): Promise<AgentKeyPair> {
  const pair = (await crypto.subtle.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as CryptoKeyPair;
  const jwk = (await crypto.subtle.exportKey('jwk', pair.privateKey)) as JsonWebKey;
  if (!jwk.d || !jwk.x) throw new Error('X25519 export failed');
  return { publicKey: jwk.x, privateKey: jwk.d };
}

/** Open a sealed value with the agent's key pair. Throws on any tampering or wrong key. */
export async function openSealed(pair: AgentKeyPair, sealed: string): Promise<string> {
  const bytes = fromBase64Url(sealed);
  if (bytes.length < 1 + 32 + 12 + 16 || bytes[0] !== VERSION)
    throw new Error('not a sealed value of version 1');
  const ephRaw = bytes.slice(1, 33);
  const nonce = bytes.slice(33, 45);
  const ct = bytes.slice(45);
  const priv = await crypto.subtle.importKey(
    'jwk',
    { kty: 'OKP', crv: 'X25519', d: pair.privateKey, x: pair.publicKey },
    { name: 'X25519' },
    false,
    ['deriveBits'],
  );
  const eph = await crypto.subtle.importKey('raw', ephRaw, { name: 'X25519' }, false, []);
  const shared = await crypto.subtle.deriveBits(x25519(eph), priv, 256);
  const key = await deriveKey(shared, ephRaw, fromBase64Url(pair.publicKey));
  const pt = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: AAD }, key, ct);
  return new TextDecoder().decode(pt);
}
