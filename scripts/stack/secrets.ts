// Secrets the local stack generates once and keeps in its data directory (git-ignored .data/ for
// `npm start`), so a restart finds the same ones: what production sets with `wrangler secret put`.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * DATA_ENCRYPTION_KEYS for the worker: read from <dataDir>/secrets/data-encryption-keys, or made
 * (one random 32-byte AES key with a random id) and written there, readable by us only.
 */
export function localDataEncryptionKeys(dataDir: string): string {
  const dir = join(dataDir, 'secrets');
  const file = join(dir, 'data-encryption-keys');
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept) return kept;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const value = `local-${randomBytes(4).toString('hex')}:${randomBytes(32).toString('base64')}`;
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return value;
}
