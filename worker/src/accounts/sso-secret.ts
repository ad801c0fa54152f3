// The OIDC client secret at rest: sealed with the service's data key (lib/secret-box.ts), bound to
// its account, in accounts.sso_client_secret. Plaintext values moved there by migration 0022 (SQL
// cannot seal) and values sealed with a retired key are re-sealed when read at a log-in, and by a
// cron sweep (resealSsoSecrets) for accounts whose people do not log in.
import { and, eq, isNotNull, not, sql } from 'drizzle-orm';
import type { Db } from '../db.ts';
import type { Config } from '../env.ts';
import { ApiError } from '../errors.ts';
import { currentPrefix, importKeyring, type Keyring, open, resealRows, seal } from '../lib/secret-box.ts';
import { accounts } from './accounts.sql.ts';

// SECURITY: the account id is authenticated with the secret, so a sealed value moved to another
// account's row does not open there.
const context = (accountId: string) => `sso-client-secret:${accountId}`;

async function keyring(config: Config): Promise<Keyring | undefined> {
  return config.dataEncryptionKeys ? importKeyring(config.dataEncryptionKeys) : undefined;
}

/** The value to store for a new client secret; refused when the service has no data key. */
export async function sealSsoSecret(config: Config, accountId: string, secret: string): Promise<string> {
  const ring = await keyring(config);
  if (!ring)
    throw new ApiError('conflict', 'Single sign-on is not set up on this service (DATA_ENCRYPTION_KEYS)');
  return seal(ring, secret, context(accountId));
}

/** Only if the row still holds what was read: a concurrent change of the settings wins. */
async function replaceStored(db: Db, accountId: string, was: string, now: string) {
  await db
    .update(accounts)
    .set({ ssoClientSecret: now })
    .where(and(eq(accounts.id, accountId), eq(accounts.ssoClientSecret, was)));
}

/** The client secret of a stored value, re-sealing it with the current key when it is stale. */
export async function openSsoSecret(db: Db, config: Config, accountId: string, stored: string) {
  const ring = await keyring(config);
  const { plaintext, stale } = await open(ring, stored, context(accountId));
  if (stale && ring)
    await replaceStored(db, accountId, stored, await seal(ring, plaintext, context(accountId)));
  return plaintext;
}

/**
 * Cron: seals up to `limit` client secrets not yet sealed with the current key (plaintext from
 * before migration 0022, or an older key after a rotation). Returns how many it re-sealed.
 */
export async function resealSsoSecrets(
  db: Db,
  config: Config,
  limit = 200,
): Promise<{ resealed: number; unreadable: number }> {
  const ring = await keyring(config);
  if (!ring) return { resealed: 0, unreadable: 0 };
  const rows = await db
    .select({ id: accounts.id, stored: accounts.ssoClientSecret })
    .from(accounts)
    .where(
      and(
        isNotNull(accounts.ssoClientSecret),
        not(sql`starts_with(${accounts.ssoClientSecret}, ${currentPrefix(ring)})`),
      ),
    )
    .limit(limit);
  return resealRows(ring, rows, context, (id, was, now) => replaceStored(db, id, was, now));
}
