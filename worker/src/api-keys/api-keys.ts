import type { ApiKey, ApiKeyScope } from '@resistro/contract';
import { and, desc, eq, isNull } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { notFound } from '../errors.ts';
import { randomToken, sha256Hex } from '../lib/crypto.ts';
import { apiKeys } from './api-keys.sql.ts';

/** Every API key starts with it, so a leaked key is recognisable (and scannable) as ours. */
export const API_KEY_PREFIX = 'rsk_';

function toApiKey(row: typeof apiKeys.$inferSelect): ApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scope: row.scope,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}

export async function createApiKey(
  db: Db,
  accountId: string,
  input: { name: string; scope: ApiKeyScope },
  now: Date,
) {
  // SECURITY: 256 random bits; shown to the user once, stored only as SHA-256.
  const secret = `${API_KEY_PREFIX}${randomToken(32)}`;
  const [row] = await db
    .insert(apiKeys)
    .values({
      accountId,
      name: input.name,
      scope: input.scope,
      prefix: secret.slice(0, API_KEY_PREFIX.length + 8),
      secretHash: await sha256Hex(secret),
      createdAt: now,
    })
    .returning();
  return { apiKey: toApiKey(row!), secret };
}

export async function listApiKeys(db: Db, accountId: string): Promise<ApiKey[]> {
  const rows = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.accountId, accountId), isNull(apiKeys.revokedAt)))
    .orderBy(desc(apiKeys.createdAt));
  return rows.map(toApiKey);
}

export async function revokeApiKey(db: Db, accountId: string, id: string, now: Date): Promise<void> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, id), eq(apiKeys.accountId, accountId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  if (rows.length === 0) throw notFound('API key');
}
