// TOTP seeds at rest: sealed with the service's data key (lib/secret-box.ts), bound to their user.
// Rows from before encryption (plaintext base32) and rows sealed with a retired key are re-sealed
// with the current key when read, and by a cron sweep (resealTotpSecrets) for users who do not log in.
import { and, eq, isNotNull, not, sql } from 'drizzle-orm';
import type { Db } from '../db.ts';
import type { Config } from '../env.ts';
import { ApiError } from '../errors.ts';
import { currentPrefix, importKeyring, type Keyring, open, resealRows, seal } from '../lib/secret-box.ts';
import { users } from './accounts.sql.ts';

// SECURITY: the user id is authenticated with the seed, so a sealed seed moved to another user's
// row does not open there.
const context = (userId: string) => `totp:${userId}`;

async function keyring(config: Config): Promise<Keyring | undefined> {
  return config.dataEncryptionKeys ? importKeyring(config.dataEncryptionKeys) : undefined;
}

/** The value to store for a new seed; refused when the service has no data key. */
export async function sealTotpSecret(config: Config, userId: string, secret: string): Promise<string> {
  const ring = await keyring(config);
  if (!ring)
    throw new ApiError(
      'conflict',
      'Two-factor authentication is not set up on this service (DATA_ENCRYPTION_KEYS)',
    );
  return seal(ring, secret, context(userId));
}

/** Only if the row still holds what was read: a concurrent setup or re-seal wins. */
async function replaceStored(db: Db, userId: string, was: string, now: string) {
  await db
    .update(users)
    .set({ totpSecret: now })
    .where(and(eq(users.id, userId), eq(users.totpSecret, was)));
}

/** The base32 seed of a stored value, re-sealing it with the current key when it is stale. */
export async function openTotpSecret(
  db: Db,
  config: Config,
  user: { id: string; totpSecret: string },
): Promise<string> {
  const ring = await keyring(config);
  const { plaintext, stale } = await open(ring, user.totpSecret, context(user.id));
  if (stale && ring)
    await replaceStored(db, user.id, user.totpSecret, await seal(ring, plaintext, context(user.id)));
  return plaintext;
}

/**
 * Cron: seals up to `limit` seeds not yet sealed with the current key (plaintext from before
 * encryption, or an older key after a rotation). Returns how many it re-sealed.
 */
export async function resealTotpSecrets(
  db: Db,
  config: Config,
  limit = 200,
): Promise<{ resealed: number; unreadable: number }> {
  const ring = await keyring(config);
  if (!ring) return { resealed: 0, unreadable: 0 };
  const rows = await db
    .select({ id: users.id, stored: users.totpSecret })
    .from(users)
    .where(
      and(isNotNull(users.totpSecret), not(sql`starts_with(${users.totpSecret}, ${currentPrefix(ring)})`)),
    )
    .limit(limit);
  return resealRows(ring, rows, context, (id, was, now) => replaceStored(db, id, was, now));
}
