// Secrets the service must read back (TOTP seeds) sealed at rest with AES-256-GCM (WebCrypto).
//
// Stored form: `sb1.<key id>.<iv>.<ciphertext+tag>` (base64url). The key id names which key of
// the Worker secret DATA_ENCRYPTION_KEYS sealed it, so keys can be rotated: the first key in the
// list seals, every listed key opens, and a value sealed with an older key (or a plaintext value
// from before encryption) is reported `stale` so its owner re-seals it.
//
// SECURITY: a fresh 96-bit random IV per seal (never reused with a key: 2^32 seals per key keep the
// collision chance negligible); the context (e.g. `totp:<user id>`) is authenticated as additional
// data, so a sealed value copied into another row or column does not open there.
import { fromBase64Url, toBase64Url } from '@resistro/contract';

const PREFIX = 'sb1';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export type Keyring = {
  /** the key that seals */
  currentId: string;
  keys: Map<string, CryptoKey>;
};

/**
 * `id:base64key[,id:base64key…]`, 32-byte keys; the first one seals. Throws a message naming the
 * problem (never the key material).
 */
export function parseKeyList(text: string): Array<{ id: string; raw: Uint8Array<ArrayBuffer> }> {
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error('DATA_ENCRYPTION_KEYS is empty');
  const seen = new Set<string>();
  return entries.map((entry, i) => {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    if (!KEY_ID.test(id))
      throw new Error(
        `DATA_ENCRYPTION_KEYS entry ${i + 1}: expected <id>:<base64 key>, id of A-Z a-z 0-9 _ -`,
      );
    if (seen.has(id)) throw new Error(`DATA_ENCRYPTION_KEYS: key id ${id} appears twice`);
    seen.add(id);
    let raw: Uint8Array<ArrayBuffer>;
    try {
      raw = fromBase64Url(entry.slice(colon + 1));
    } catch {
      throw new Error(`DATA_ENCRYPTION_KEYS key ${id}: not base64`);
    }
    if (raw.length !== 32)
      throw new Error(`DATA_ENCRYPTION_KEYS key ${id}: must be 32 bytes, is ${raw.length}`);
    return { id, raw };
  });
}

const rings = new Map<string, Promise<Keyring>>();

/** The keyring of a DATA_ENCRYPTION_KEYS value, imported once per isolate. */
export function importKeyring(text: string): Promise<Keyring> {
  let ring = rings.get(text);
  if (!ring) {
    ring = buildKeyring(text);
    rings.set(text, ring);
  }
  return ring;
}

async function buildKeyring(text: string): Promise<Keyring> {
  const list = parseKeyList(text);
  const keys = new Map<string, CryptoKey>();
  for (const { id, raw } of list) {
    keys.set(id, await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']));
  }
  return { currentId: list[0]!.id, keys };
}

const aad = (context: string) => new TextEncoder().encode(`resistro-secret-box:${context}`);

export function isSealed(stored: string): boolean {
  return stored.startsWith(`${PREFIX}.`);
}

export async function seal(ring: Keyring, plaintext: string, context: string): Promise<string> {
  const key = ring.keys.get(ring.currentId)!;
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: aad(context) },
    key,
    new TextEncoder().encode(plaintext),
  );
  return `${PREFIX}.${ring.currentId}.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(ct))}`;
}

export class SecretBoxError extends Error {}

/**
 * The plaintext of a stored value. `stale`: not sealed with the current key (a plaintext value
 * from before encryption, or an older key), so the caller should store `seal(...)` of it again.
 */
export async function open(
  ring: Keyring | undefined,
  stored: string,
  context: string,
): Promise<{ plaintext: string; stale: boolean }> {
  if (!isSealed(stored)) return { plaintext: stored, stale: ring !== undefined };
  const [, keyId, iv, ct] = stored.split('.');
  if (!ring) throw new SecretBoxError('a sealed secret, but DATA_ENCRYPTION_KEYS is not set');
  const key = keyId ? ring.keys.get(keyId) : undefined;
  if (!key || !iv || !ct)
    throw new SecretBoxError(`sealed with key ${keyId}, which DATA_ENCRYPTION_KEYS does not hold`);
  try {
    const pt = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: fromBase64Url(iv), additionalData: aad(context) },
      key,
      fromBase64Url(ct),
    );
    return { plaintext: new TextDecoder().decode(pt), stale: keyId !== ring.currentId };
  } catch {
    throw new SecretBoxError(`a secret sealed with key ${keyId} does not open (altered, or another row's)`);
  }
}

/**
 * Re-seals stored values with the current key (a cron sweep after a rotation, or over plaintext
 * from before encryption). `replace` stores the new value only if the row still holds `was`.
 * A value that does not open (its key removed too early) is counted, not fatal: the cron log
 * shows it.
 */
export async function resealRows(
  ring: Keyring,
  rows: Array<{ id: string; stored: string | null }>,
  context: (id: string) => string,
  replace: (id: string, was: string, now: string) => Promise<void>,
): Promise<{ resealed: number; unreadable: number }> {
  let resealed = 0;
  let unreadable = 0;
  for (const row of rows) {
    if (!row.stored) continue;
    let plaintext: string;
    try {
      ({ plaintext } = await open(ring, row.stored, context(row.id)));
    } catch (e) {
      if (e instanceof SecretBoxError) {
        unreadable++;
        continue;
      }
      throw e;
    }
    await replace(row.id, row.stored, await seal(ring, plaintext, context(row.id)));
    resealed++;
  }
  return { resealed, unreadable };
}

/** The key id prefix of values sealed with the current key, for finding the rest in SQL. */
export function currentPrefix(ring: Keyring): string {
  return `${PREFIX}.${ring.currentId}.`;
}

/** A fresh key for DATA_ENCRYPTION_KEYS (`<id>:<base64>`), as the local stack generates one. */
export function newKeyEntry(id: string): string {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  return `${id}:${btoa(String.fromCharCode(...raw))}`;
}
