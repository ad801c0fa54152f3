import { findRoute, requiredRole, roleAllows, roleAtLeast } from '@resistro/contract';
import { and, eq, gt, isNull, lt, or } from 'drizzle-orm';
import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { accounts, sessions, users } from '../accounts/accounts.sql.ts';
import { SESSION_COOKIE } from '../accounts/accounts.ts';
import { apiKeys } from '../api-keys/api-keys.sql.ts';
import { API_KEY_PREFIX } from '../api-keys/api-keys.ts';
import type { AppEnv } from '../app-types.ts';
import { ApiError } from '../errors.ts';
import { sha256Hex } from '../lib/crypto.ts';
import { requirePrincipal } from '../lib/principal.ts';

/** What a user whose team requires 2FA can reach before setting it up. */
const OPEN_WITHOUT_2FA = /^\/api\/v1\/(auth\/(me|logout|2fa\/setup|2fa\/enable|sessions(\/.*)?))$/;

/** Who is calling: an API key (Authorization: Bearer) or a browser session (cookie). */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const db = c.get('db');
  const now = c.get('now');
  const header = c.req.header('authorization');
  if (header) {
    const m = header.match(/^Bearer\s+(\S+)$/i);
    if (!m?.[1]?.startsWith(API_KEY_PREFIX))
      throw new ApiError('unauthorized', 'The Authorization header must be "Bearer rsk_..."');
    // SECURITY: look up by hash; the stored hash never reveals the 256-bit secret.
    const hash = await sha256Hex(m[1]);
    const [key] = await db
      .select({
        id: apiKeys.id,
        accountId: apiKeys.accountId,
        scope: apiKeys.scope,
        role: apiKeys.role,
        canDownload: apiKeys.canDownload,
        lastUsedAt: apiKeys.lastUsedAt,
      })
      .from(apiKeys)
      .where(and(eq(apiKeys.secretHash, hash), isNull(apiKeys.revokedAt)));
    if (!key) throw new ApiError('unauthorized', 'The API key is unknown or revoked');
    c.set('principal', {
      accountId: key.accountId,
      userId: null,
      sessionId: null,
      apiKeyId: key.id,
      scope: key.scope,
      role: key.role,
      canDownload: key.canDownload,
    });
    if (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() > 60_000) {
      // Throttled to once a minute so heartbeats do not write on every call.
      await db
        .update(apiKeys)
        .set({ lastUsedAt: now })
        .where(
          and(
            eq(apiKeys.id, key.id),
            or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, new Date(now.getTime() - 60_000))),
          ),
        );
    }
    return next();
  }
  const token = getCookie(c, SESSION_COOKIE);
  if (token) {
    const hash = await sha256Hex(token);
    const [session] = await db
      .select({
        id: sessions.id,
        userId: sessions.userId,
        accountId: sessions.accountId,
        role: users.role,
        canDownload: users.canDownload,
        lastSeenAt: sessions.lastSeenAt,
        twoFactorOn: users.totpEnabledAt,
        twoFactorRequired: accounts.require2fa,
      })
      .from(sessions)
      .innerJoin(users, and(eq(users.id, sessions.userId), eq(users.accountId, sessions.accountId)))
      .innerJoin(accounts, eq(accounts.id, sessions.accountId))
      .where(and(eq(sessions.tokenHash, hash), gt(sessions.expiresAt, now)));
    if (session) {
      // SECURITY: the team requires 2FA and this user has none yet: only setting it up is open.
      if (
        session.twoFactorRequired &&
        !session.twoFactorOn &&
        !OPEN_WITHOUT_2FA.test(c.req.path) &&
        !(c.req.method === 'GET' && c.req.path === '/api/v1/account')
      ) {
        throw new ApiError(
          'forbidden',
          'Your team requires two-factor authentication: set it up in Settings → Security first',
        );
      }
      if (!session.lastSeenAt || now.getTime() - session.lastSeenAt.getTime() > 60_000) {
        // "last seen" in the sessions list, written at most once a minute
        await db.update(sessions).set({ lastSeenAt: now }).where(eq(sessions.id, session.id));
      }
      c.set('principal', {
        accountId: session.accountId,
        userId: session.userId,
        sessionId: session.id,
        apiKeyId: null,
        scope: 'session',
        role: session.role,
        canDownload: session.canDownload,
      });
    }
  }
  return next();
});

/** SECURITY: a cookie-authenticated state change must come from our own origin (CSRF). */
export const csrf = createMiddleware<AppEnv>(async (c, next) => {
  const method = c.req.method;
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return next();
  if (c.req.header('authorization')) return next(); // bearer tokens are not sent by browsers on their own
  const origin = c.req.header('origin');
  const hasCookie = Boolean(getCookie(c, SESSION_COOKIE));
  const allowed = new Set([new URL(c.req.url).origin]);
  const configured = c.get('config').appOrigin;
  if (configured) allowed.add(configured);
  if (origin ? !allowed.has(origin) : hasCookie) {
    throw new ApiError(
      'forbidden',
      'Cross-site request refused: the Origin header does not match this service',
    );
  }
  return next();
});

/**
 * Every route's role, from the route table (contract/src/routes.ts `role`, else by its access):
 * checked here once for every request, so no handler can forget it. A route the table does not
 * know falls through to the 404.
 */
export const authorize = createMiddleware<AppEnv>(async (c, next) => {
  const path = c.req.path.replace(/^\/api\/v1(?=\/)/, '');
  const route = findRoute(c.req.method, path);
  if (!route || route.access === 'public') return next();
  const principal = requirePrincipal(c.get('principal'), route.access);
  if (!roleAllows(route, principal)) {
    const need = requiredRole(route);
    if (need?.downloadGrant && roleAtLeast(principal.role, need.role)) {
      throw new ApiError(
        'forbidden',
        'Your role (viewer) may not download backups unless an admin grants it',
      );
    }
    throw new ApiError(
      'forbidden',
      `Your role (${principal.role}) does not allow this; it needs ${need?.role ?? 'another role'}`,
    );
  }
  return next();
});
