import type { Language, PlanId, User } from '@resistro/contract';
import { and, eq, gt, sql } from 'drizzle-orm';
import type { Db } from '../db.ts';
import type { Config } from '../env.ts';
import { ApiError } from '../errors.ts';
import { hashPassword, randomToken, sha256Hex, verifyPassword } from '../lib/crypto.ts';
import { accounts, authTokens, rateLimits, sessions, users } from './accounts.sql.ts';

/** The browser session's cookie (HttpOnly; the middleware reads it, the auth routes set it). */
export const SESSION_COOKIE = 'resistro_session';

export const LOGIN_LIMITS = {
  windowMs: 15 * 60_000,
  perEmail: 10,
  perClient: 50,
};

export function toUser(row: typeof users.$inferSelect): User {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    canDownload: row.canDownload,
    createdAt: row.createdAt.toISOString(),
    emailVerified: row.emailVerifiedAt !== null,
    twoFactorEnabled: row.totpEnabledAt !== null,
  };
}

/** Where a session comes from, as the sessions list shows it (no full IP address is kept). */
export type ClientInfo = { userAgent: string | null; ipPrefix: string | null; country: string | null };

export async function createSession(
  db: Db,
  config: Config,
  user: { id: string; accountId: string },
  now: Date,
  client?: ClientInfo,
  method: 'password' | 'sso' = 'password',
) {
  // SECURITY: 256-bit random token; only its hash is stored, so a database leak yields no sessions.
  const token = randomToken();
  const expiresAt = new Date(now.getTime() + config.sessionTtlMs);
  await db.insert(sessions).values({
    tokenHash: await sha256Hex(token),
    userId: user.id,
    accountId: user.accountId,
    expiresAt,
    createdAt: now,
    lastSeenAt: now,
    userAgent: client?.userAgent ?? null,
    ipPrefix: client?.ipPrefix ?? null,
    country: client?.country ?? null,
    method,
  });
  return { token, expiresAt };
}

export async function signup(
  db: Db,
  config: Config,
  input: {
    email: string;
    password: string;
    plan?: PlanId | undefined;
    language: Language;
    timeZone?: string | undefined;
  },
  now: Date,
  client?: ClientInfo,
) {
  const passwordHash = await hashPassword(input.password, config.pbkdf2Iterations);
  const user = await db.transaction(async (tx) => {
    const [taken] = await tx.select({ id: users.id }).from(users).where(eq(users.email, input.email));
    if (taken)
      throw new ApiError('conflict', 'An account with this e-mail address already exists', {
        email: 'is already registered',
      });
    const [account] = await tx
      .insert(accounts)
      .values({
        plan: input.plan ?? 'starter',
        alertEmails: [input.email],
        language: input.language,
        timeZone: input.timeZone ?? 'UTC',
        createdAt: now,
      })
      .returning();
    const inserted = await tx
      .insert(users)
      .values({
        accountId: account!.id,
        email: input.email,
        passwordHash,
        // who signs up owns the new account (members: accounts/members.ts)
        role: 'owner',
        canDownload: true,
        createdAt: now,
      })
      .onConflictDoNothing()
      .returning();
    if (!inserted[0])
      throw new ApiError('conflict', 'An account with this e-mail address already exists', {
        email: 'is already registered',
      });
    return inserted[0];
  });
  const session = await createSession(db, config, user, now, client);
  return { user: toUser(user), accountId: user.accountId, ...session };
}

/** Counts one attempt under `key`; true while the key is within `limit` in the current window. */
export async function hitRateLimit(db: Db, key: string, limit: number, now: Date): Promise<boolean> {
  const windowStart = new Date(now.getTime() - LOGIN_LIMITS.windowMs);
  const [row] = await db
    .insert(rateLimits)
    .values({ key, windowStart: now, count: 1 })
    .onConflictDoUpdate({
      target: rateLimits.key,
      set: {
        count: sql`case when ${rateLimits.windowStart} < ${windowStart.toISOString()}::timestamptz then 1 else ${rateLimits.count} + 1 end`,
        windowStart: sql`case when ${rateLimits.windowStart} < ${windowStart.toISOString()}::timestamptz then ${now.toISOString()}::timestamptz else ${rateLimits.windowStart} end`,
      },
    })
    .returning({ count: rateLimits.count });
  return (row?.count ?? 0) <= limit;
}

export async function isRateLimited(db: Db, key: string, limit: number, now: Date): Promise<boolean> {
  const windowStart = new Date(now.getTime() - LOGIN_LIMITS.windowMs);
  const [row] = await db
    .select({ count: rateLimits.count })
    .from(rateLimits)
    .where(and(eq(rateLimits.key, key), gt(rateLimits.windowStart, windowStart)));
  return (row?.count ?? 0) >= limit;
}

export type LoginResult =
  | { twoFactor: false; user: User; accountId: string; token: string; expiresAt: Date }
  /** the password was right; the session starts after the second factor (completeLogin2fa) */
  | { twoFactor: true; userId: string; accountId: string; challenge: string; expiresAt: Date };

export const LOGIN_CHALLENGE_TTL_MS = 5 * 60_000;

export async function login(
  db: Db,
  config: Config,
  input: { email: string; password: string },
  client: string,
  now: Date,
  info?: ClientInfo,
): Promise<LoginResult> {
  const emailKey = `login:email:${await sha256Hex(input.email)}`;
  const clientKey = `login:client:${client}`;
  if (
    (await isRateLimited(db, emailKey, LOGIN_LIMITS.perEmail, now)) ||
    (await isRateLimited(db, clientKey, LOGIN_LIMITS.perClient, now))
  ) {
    throw new ApiError('rate_limited', 'Too many failed log-in attempts; wait 15 minutes and try again');
  }
  const [user] = await db.select().from(users).where(eq(users.email, input.email));
  // SECURITY: hash even for unknown e-mails so response time does not reveal who has an account.
  let ok = false;
  if (user) ok = await verifyPassword(input.password, user.passwordHash);
  else await hashPassword(input.password, config.pbkdf2Iterations);
  if (!user || !ok) {
    await hitRateLimit(db, emailKey, LOGIN_LIMITS.perEmail, now);
    await hitRateLimit(db, clientKey, LOGIN_LIMITS.perClient, now);
    throw new ApiError('unauthorized', 'The e-mail address or the password is wrong');
  }
  if (user.totpEnabledAt) {
    const challenge = randomToken();
    const expiresAt = new Date(now.getTime() + LOGIN_CHALLENGE_TTL_MS);
    await db.insert(authTokens).values({
      tokenHash: await sha256Hex(challenge),
      kind: 'login_2fa',
      userId: user.id,
      accountId: user.accountId,
      createdAt: now,
      expiresAt,
    });
    return { twoFactor: true, userId: user.id, accountId: user.accountId, challenge, expiresAt };
  }
  const session = await createSession(db, config, user, now, info);
  return { twoFactor: false, user: toUser(user), accountId: user.accountId, ...session };
}

export async function logout(db: Db, sessionId: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.id, sessionId));
}

export async function getUser(db: Db, userId: string): Promise<User> {
  const [row] = await db.select().from(users).where(eq(users.id, userId));
  if (!row) throw new ApiError('not_found', 'user not found');
  return toUser(row);
}

/** SECURITY: asked again before an irreversible step (deleting the account), whatever the session. */
export async function checkPassword(db: Db, userId: string, password: string): Promise<boolean> {
  const [user] = await db.select({ hash: users.passwordHash }).from(users).where(eq(users.id, userId));
  return user ? verifyPassword(password, user.hash) : false;
}
