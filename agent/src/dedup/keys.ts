// The keys of deduplicated storage (FORMAT.md §13.2), all derived from one 32-byte dedup secret D:
// the chunker's gear table, the chunk-id key and the chunk-key key. D itself comes from the
// customer's symmetric key; in public-key mode the host has no secret of the customer's, so it
// keeps a random D of its own (dedupSecretFile), which the customer never needs for a restore.
import { createHmac, createSecretKey, hkdfSync, type KeyObject, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { EncryptionKey } from '../format/index.ts';

export type DedupKeys = {
  /** 256 u32 entries of the keyed gear hash */
  readonly gear: Uint32Array;
  /** SECURITY: keys of HMAC-SHA256; they only live in KeyObjects */
  readonly digestKey: KeyObject;
  readonly idKey: KeyObject;
  readonly chunkKeyKey: KeyObject;
};

const EMPTY = Buffer.alloc(0);

function derive(secret: Uint8Array | KeyObject, info: string, length = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, EMPTY, info, length));
}

/**
 * SECURITY: D for a symmetric key, HKDF(K, "resistro v3 dedup secret"); a one-way function of K, so
 * D (and everything derived from it) reveals nothing about K, and every host of the account derives
 * the same D, so backups of one account deduplicate against each other.
 */
export function dedupSecretOf(key: EncryptionKey): Buffer | undefined {
  if (key.kind !== 'symmetric') return undefined;
  return derive(key.secret, 'resistro v3 dedup secret');
}

/**
 * Public-key mode: this host's own random D, created once (mode 0600). Losing it costs only
 * deduplication against the chunks made with it (the next backup uploads everything again);
 * restores never need it.
 */
export async function hostDedupSecret(path: string): Promise<Buffer> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    const bytes = Buffer.from(text, 'base64url');
    if (bytes.length === 32) return bytes;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const fresh = randomBytes(32);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${fresh.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' }).catch(
    async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    },
  );
  await chmod(path, 0o600);
  const stored = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64url');
  return stored.length === 32 ? stored : fresh;
}

export function dedupKeys(secret: Uint8Array): DedupKeys {
  if (secret.length !== 32) throw new RangeError('the dedup secret must be 32 bytes');
  const table = derive(secret, 'resistro v3 gear table', 1024);
  const gear = new Uint32Array(256);
  for (let i = 0; i < 256; i++) gear[i] = table.readUInt32BE(i * 4);
  return {
    gear,
    digestKey: createSecretKey(derive(secret, 'resistro v3 chunk digest')),
    idKey: createSecretKey(derive(secret, 'resistro v3 chunk id')),
    chunkKeyKey: createSecretKey(derive(secret, 'resistro v3 chunk key')),
  };
}

/**
 * One pass over the chunk: t = HMAC(digestKey, plaintext); id = HMAC(idKey, t); key = HMAC(chunkKeyKey, t).
 * SECURITY: the id (which the control plane sees) and the chunk's encryption key are independent
 * PRF outputs of t, so the id reveals nothing about the key; both need the plaintext (or t).
 */
export function chunkIdentity(keys: DedupKeys, plaintext: Uint8Array): { id: Buffer; key: Buffer } {
  const t = createHmac('sha256', keys.digestKey).update(plaintext).digest();
  return {
    id: createHmac('sha256', keys.idKey).update(t).digest(),
    key: createHmac('sha256', keys.chunkKeyKey).update(t).digest(),
  };
}
