import {
  type ApiKey,
  type ApiKeyScope,
  PAGE_LIMIT_MAX,
  type PageQuery,
  type Role,
  roleAtLeast,
} from '@resistro/contract';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { users } from '../accounts/accounts.sql.ts';
import type { Db } from '../db.ts';
import { ApiError, notFound } from '../errors.ts';
import { randomToken, sha256Hex } from '../lib/crypto.ts';
import { afterCursor, toPage } from '../lib/page.ts';
import { apiKeys } from './api-keys.sql.ts';

/** Every API key starts with it, so a leaked key is recognisable (and scannable) as ours. */
export const API_KEY_PREFIX = 'rsk_';

function toApiKey(row: typeof apiKeys.$inferSelect): ApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scope: row.scope,
    role: row.role,
    canDownload: row.canDownload,
    createdBy: row.createdByEmail,
    createdByRemoved: row.createdByEmail !== null && row.createdByUserId === null,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}

/** Who creates a key: a member's session, or an API key acting for the member who created it. */
export type KeyCreator = {
  role: Role;
  canDownload: boolean;
  userId: string | null;
  apiKeyId: string | null;
};

/**
 * A key's role from its scope, never wider than its creator's: read → viewer, agent → operator
 * (it registers agents and uploads backups), full → the creator's own role.
 */
export function keyRole(scope: ApiKeyScope, creator: Pick<KeyCreator, 'role' | 'canDownload'>) {
  const mayDownload = creator.canDownload || roleAtLeast(creator.role, 'operator');
  if (scope === 'read') return { role: 'viewer' as const, canDownload: mayDownload };
  if (scope === 'agent') {
    if (!roleAtLeast(creator.role, 'operator'))
      throw new ApiError('forbidden', 'An agent key needs the operator role or higher', {
        scope: 'is wider than your role',
      });
    return { role: 'operator' as const, canDownload: true };
  }
  return { role: creator.role, canDownload: mayDownload };
}

async function creatorOf(db: Db, accountId: string, c: KeyCreator) {
  if (c.userId) {
    const [u] = await db
      .select({ id: users.id, email: users.email })
      .from(users)
      .where(and(eq(users.id, c.userId), eq(users.accountId, accountId)));
    return { createdByUserId: u?.id ?? null, createdByEmail: u?.email ?? null };
  }
  if (c.apiKeyId) {
    const [k] = await db
      .select({ id: apiKeys.createdByUserId, email: apiKeys.createdByEmail })
      .from(apiKeys)
      .where(and(eq(apiKeys.id, c.apiKeyId), eq(apiKeys.accountId, accountId)));
    return { createdByUserId: k?.id ?? null, createdByEmail: k?.email ?? null };
  }
  return { createdByUserId: null, createdByEmail: null };
}

export async function createApiKey(
  db: Db,
  accountId: string,
  input: { name: string; scope: ApiKeyScope },
  creator: KeyCreator,
  now: Date,
) {
  const access = keyRole(input.scope, creator);
  // SECURITY: 256 random bits; shown to the user once, stored only as SHA-256.
  const secret = `${API_KEY_PREFIX}${randomToken(32)}`;
  const [row] = await db
    .insert(apiKeys)
    .values({
      accountId,
      name: input.name,
      scope: input.scope,
      ...access,
      ...(await creatorOf(db, accountId, creator)),
      prefix: secret.slice(0, API_KEY_PREFIX.length + 8),
      secretHash: await sha256Hex(secret),
      createdAt: now,
    })
    .returning();
  return { apiKey: toApiKey(row!), secret };
}

/** The live keys a member created (listed when the member is removed, to keep or revoke). */
export async function listKeysCreatedBy(db: Db, accountId: string, userId: string): Promise<ApiKey[]> {
  const rows = await db
    .select()
    .from(apiKeys)
    .where(
      and(eq(apiKeys.accountId, accountId), eq(apiKeys.createdByUserId, userId), isNull(apiKeys.revokedAt)),
    )
    .orderBy(desc(apiKeys.createdAt));
  return rows.map(toApiKey);
}

/** The account's keys in use, newest first, a page at a time. */
export async function listApiKeys(db: Db, accountId: string, q: PageQuery = {}) {
  const limit = q.limit ?? PAGE_LIMIT_MAX;
  const where = [eq(apiKeys.accountId, accountId), isNull(apiKeys.revokedAt)];
  if (q.cursor) where.push(afterCursor(q.cursor, apiKeys.createdAt, apiKeys.id));
  const rows = await db
    .select()
    .from(apiKeys)
    .where(and(...where))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(limit + 1);
  return toPage(rows, limit, toApiKey, (r) => [r.createdAt, r.id]);
}

/**
 * Revokes a key of the account. An operator may revoke only the keys they created; an admin or
 * owner any. Returns the revoked key's name for the audit log.
 */
export async function revokeApiKey(
  db: Db,
  accountId: string,
  id: string,
  by: { role: Role; userId: string | null },
  now: Date,
): Promise<{ name: string }> {
  const [key] = await db
    .select({ createdByUserId: apiKeys.createdByUserId })
    .from(apiKeys)
    .where(and(eq(apiKeys.id, id), eq(apiKeys.accountId, accountId), isNull(apiKeys.revokedAt)));
  if (!key) throw notFound('API key');
  if (!roleAtLeast(by.role, 'admin') && (by.userId === null || key.createdByUserId !== by.userId))
    throw new ApiError('forbidden', 'Only an admin may revoke an API key another member created');
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, id), eq(apiKeys.accountId, accountId), isNull(apiKeys.revokedAt)))
    .returning({ name: apiKeys.name });
  if (!rows[0]) throw notFound('API key');
  return rows[0];
}

/** Caps the keys a member created to their new, lower role (role changes; accounts/members.ts). */
export async function capKeysOf(db: Db, accountId: string, userId: string, role: Role, canDownload: boolean) {
  const rows = await db
    .select({ id: apiKeys.id, scope: apiKeys.scope, role: apiKeys.role, canDownload: apiKeys.canDownload })
    .from(apiKeys)
    .where(
      and(eq(apiKeys.accountId, accountId), eq(apiKeys.createdByUserId, userId), isNull(apiKeys.revokedAt)),
    );
  const mayDownload = canDownload || roleAtLeast(role, 'operator');
  for (const k of rows) {
    // An agent key does an agent's work only: its machine keeps backing up whoever created it.
    if (k.scope === 'agent') continue;
    const capped = roleAtLeast(k.role, role) ? role : k.role;
    const download = k.canDownload && mayDownload;
    if (capped !== k.role || download !== k.canDownload)
      await db.update(apiKeys).set({ role: capped, canDownload: download }).where(eq(apiKeys.id, k.id));
  }
}
