// Identity beyond e-mail + password: single-use link tokens (verification, change of e-mail,
// password reset), password change, two-factor authentication with TOTP and recovery codes, the
// second step of a log-in, and a user's sessions. The routes (identity/routes.ts) send the e-mails.
import type { SessionInfo, User } from '@resistro/contract';
import { and, desc, eq, gt, isNull, ne, sql } from 'drizzle-orm';
import type { Db } from '../db.ts';
import type { Config } from '../env.ts';
import { ApiError } from '../errors.ts';
import { hashPassword, randomToken, sha256Hex, verifyPassword } from '../lib/crypto.ts';
import { SecretBoxError } from '../lib/secret-box.ts';
import { accounts, authTokens, recoveryCodes, sessions, users } from './accounts.sql.ts';
import { type ClientInfo, createSession, hitRateLimit, isRateLimited, toUser } from './accounts.ts';
import { matchTotp, newTotpSecret, otpauthUri } from './totp.ts';
import { openTotpSecret, sealTotpSecret } from './totp-secrets.ts';

export const TOKEN_TTL_MS = {
  verify_email: 48 * 3600_000,
  change_email: 24 * 3600_000,
  verify_alert_email: 7 * 24 * 3600_000,
  reset_password: 60 * 60_000,
} as const;

/** Password reset requests: per address and per client, in the login limits' 15-minute window. */
export const RESET_LIMITS = { perEmail: 3, perClient: 20 };
/** Wrong second-factor codes per user in the window before the log-in is refused for a while. */
export const TWO_FACTOR_LIMIT = 10;
export const RECOVERY_CODE_COUNT = 10;

const INVALID_LINK = 'This link is invalid, was already used or has expired';

type LinkKind = keyof typeof TOKEN_TTL_MS;

async function issueToken(
  db: Db,
  kind: LinkKind,
  o: { userId?: string; accountId: string; email: string },
  now: Date,
): Promise<string> {
  // SECURITY: 256-bit random; only the SHA-256 is stored, so the table yields no usable link.
  const token = randomToken();
  await db.insert(authTokens).values({
    tokenHash: await sha256Hex(token),
    kind,
    userId: o.userId ?? null,
    accountId: o.accountId,
    email: o.email,
    createdAt: now,
    expiresAt: new Date(now.getTime() + TOKEN_TTL_MS[kind]),
  });
  return token;
}

/** Marks the token used and returns it, once: a second use, an expired or unknown token fails. */
async function consumeToken(db: Db, kinds: string[], token: string, now: Date) {
  const [row] = await db
    .update(authTokens)
    .set({ usedAt: now })
    .where(
      and(
        eq(authTokens.tokenHash, await sha256Hex(token)),
        isNull(authTokens.usedAt),
        gt(authTokens.expiresAt, now),
        sql`${authTokens.kind} in (${sql.join(
          kinds.map((k) => sql`${k}`),
          sql`, `,
        )})`,
      ),
    )
    .returning();
  return row;
}

async function userRow(db: Db, userId: string) {
  const [row] = await db.select().from(users).where(eq(users.id, userId));
  if (!row) throw new ApiError('not_found', 'user not found');
  return row;
}

async function accountLanguage(db: Db, accountId: string) {
  const [row] = await db
    .select({ language: accounts.language })
    .from(accounts)
    .where(eq(accounts.id, accountId));
  return row?.language ?? 'en';
}

export type LinkMail = { to: string; token: string; language: 'en' | 'de' };

// ---------- e-mail verification ----------

/** A verification link for the user's address, unless it is verified already. */
export async function startEmailVerification(db: Db, userId: string, now: Date): Promise<LinkMail | null> {
  const user = await userRow(db, userId);
  if (user.emailVerifiedAt) return null;
  const token = await issueToken(
    db,
    'verify_email',
    { userId, accountId: user.accountId, email: user.email },
    now,
  );
  return { to: user.email, token, language: await accountLanguage(db, user.accountId) };
}

/** Verification links for alert addresses that are not verified yet. */
export async function startAlertEmailVerifications(
  db: Db,
  accountId: string,
  now: Date,
): Promise<LinkMail[]> {
  const [account] = await db.select().from(accounts).where(eq(accounts.id, accountId));
  if (!account) return [];
  const verified = new Set(account.verifiedAlertEmails);
  // a member's own address is verified by its own link (verify_email)
  const members = await db.select({ email: users.email }).from(users).where(eq(users.accountId, accountId));
  for (const m of members) verified.add(m.email);
  const open = await db
    .select({ email: authTokens.email })
    .from(authTokens)
    .where(
      and(
        eq(authTokens.accountId, accountId),
        eq(authTokens.kind, 'verify_alert_email'),
        isNull(authTokens.usedAt),
        gt(authTokens.expiresAt, now),
      ),
    );
  for (const o of open) if (o.email) verified.add(o.email);
  const out: LinkMail[] = [];
  for (const email of account.alertEmails) {
    if (verified.has(email)) continue;
    const token = await issueToken(db, 'verify_alert_email', { accountId, email }, now);
    out.push({ to: email, token, language: account.language });
  }
  return out;
}

async function markAlertEmailVerified(db: Db, accountId: string, email: string) {
  await db
    .update(accounts)
    .set({
      verifiedAlertEmails: sql`(select coalesce(jsonb_agg(distinct e), '[]'::jsonb) from jsonb_array_elements_text(${accounts.verifiedAlertEmails} || ${JSON.stringify([email])}::jsonb) e)`,
    })
    .where(eq(accounts.id, accountId));
}

/**
 * Applies a verification link: the sign-up address, a new address (change of e-mail), or an
 * alert address. Returns what it confirmed and, for a change, the old address to notify.
 */
export async function confirmEmailToken(db: Db, token: string, now: Date) {
  const row = await consumeToken(db, ['verify_email', 'change_email', 'verify_alert_email'], token, now);
  if (!row?.email || !row.accountId) throw new ApiError('not_found', INVALID_LINK);
  const kind = row.kind as 'verify_email' | 'change_email' | 'verify_alert_email';
  const email = row.email;
  let oldEmail: string | undefined;
  if (kind === 'verify_email' && row.userId) {
    const user = await userRow(db, row.userId);
    // the link was for the address the user had then; a change since makes it void
    if (user.email !== email) throw new ApiError('not_found', INVALID_LINK);
    await db.update(users).set({ emailVerifiedAt: now }).where(eq(users.id, row.userId));
  } else if (kind === 'change_email' && row.userId) {
    const user = await userRow(db, row.userId);
    oldEmail = user.email;
    const updated = await db
      .update(users)
      .set({ email, emailVerifiedAt: now })
      .where(
        and(
          eq(users.id, row.userId),
          sql`not exists (select 1 from users u where u.email = ${email} and u.id <> ${row.userId})`,
        ),
      )
      .returning({ id: users.id });
    if (!updated[0])
      throw new ApiError('conflict', 'An account with this e-mail address already exists', {
        email: 'is already registered',
      });
    // the alert list follows the address it had
    await db
      .update(accounts)
      .set({
        alertEmails: sql`(select coalesce(jsonb_agg(case when e = ${oldEmail} then ${email} else e end), '[]'::jsonb) from jsonb_array_elements_text(${accounts.alertEmails}) e)`,
      })
      .where(eq(accounts.id, row.accountId));
  }
  await markAlertEmailVerified(db, row.accountId, email);
  return { kind, email, oldEmail, accountId: row.accountId, userId: row.userId };
}

export async function requestEmailChange(
  db: Db,
  userId: string,
  input: { email: string; password: string },
  now: Date,
): Promise<{ link: LinkMail; oldEmail: string }> {
  const user = await userRow(db, userId);
  if (!(await verifyPassword(input.password, user.passwordHash)))
    throw new ApiError('validation_failed', 'The current password is wrong', { password: 'is wrong' });
  if (input.email === user.email)
    throw new ApiError('validation_failed', 'This is already your e-mail address', {
      email: 'is your current address',
    });
  const [taken] = await db.select({ id: users.id }).from(users).where(eq(users.email, input.email));
  if (taken)
    throw new ApiError('conflict', 'An account with this e-mail address already exists', {
      email: 'is already registered',
    });
  await db.delete(authTokens).where(and(eq(authTokens.userId, userId), eq(authTokens.kind, 'change_email')));
  const token = await issueToken(
    db,
    'change_email',
    { userId, accountId: user.accountId, email: input.email },
    now,
  );
  const language = await accountLanguage(db, user.accountId);
  return { link: { to: input.email, token, language }, oldEmail: user.email };
}

// ---------- password reset and change ----------

/**
 * A reset link for the address, or null when there is no such user. Rate-limited per address and
 * per client either way, so the answer (and its limit) never tells whether the address exists.
 */
export async function requestPasswordReset(
  db: Db,
  email: string,
  client: string,
  now: Date,
): Promise<LinkMail | null> {
  const emailKey = `reset:email:${await sha256Hex(email)}`;
  const clientKey = `reset:client:${client}`;
  const okEmail = await hitRateLimit(db, emailKey, RESET_LIMITS.perEmail, now);
  const okClient = await hitRateLimit(db, clientKey, RESET_LIMITS.perClient, now);
  if (!okEmail || !okClient)
    throw new ApiError('rate_limited', 'Too many password reset requests; wait 15 minutes and try again');
  const [user] = await db.select().from(users).where(eq(users.email, email));
  if (!user) return null;
  const token = await issueToken(
    db,
    'reset_password',
    { userId: user.id, accountId: user.accountId, email: user.email },
    now,
  );
  return { to: user.email, token, language: await accountLanguage(db, user.accountId) };
}

/** Sets the new password and ends every session of the user; the link works once. */
export async function resetPassword(
  db: Db,
  config: Config,
  input: { token: string; password: string },
  now: Date,
): Promise<{ userId: string; accountId: string; email: string }> {
  const row = await consumeToken(db, ['reset_password'], input.token, now);
  if (!row?.userId || !row.accountId) throw new ApiError('not_found', INVALID_LINK);
  const passwordHash = await hashPassword(input.password, config.pbkdf2Iterations);
  const user = await userRow(db, row.userId);
  await db.transaction(async (tx) => {
    // Receiving the link proves the address too.
    await tx
      .update(users)
      .set({
        passwordHash,
        passwordChangedAt: now,
        emailVerifiedAt: user.email === row.email ? (user.emailVerifiedAt ?? now) : user.emailVerifiedAt,
      })
      .where(eq(users.id, row.userId!));
    await tx.delete(sessions).where(eq(sessions.userId, row.userId!));
    // every other open reset link of the user is void now
    await tx
      .delete(authTokens)
      .where(and(eq(authTokens.userId, row.userId!), eq(authTokens.kind, 'reset_password')));
  });
  return { userId: row.userId, accountId: row.accountId, email: user.email };
}

/** Changes the password (the current one is required) and ends the user's other sessions. */
export async function changePassword(
  db: Db,
  config: Config,
  userId: string,
  currentSessionId: string | null,
  input: { currentPassword: string; newPassword: string },
  now: Date,
): Promise<void> {
  const user = await userRow(db, userId);
  if (!(await verifyPassword(input.currentPassword, user.passwordHash)))
    throw new ApiError('validation_failed', 'The current password is wrong', {
      currentPassword: 'is wrong',
    });
  const passwordHash = await hashPassword(input.newPassword, config.pbkdf2Iterations);
  await db.transaction(async (tx) => {
    await tx.update(users).set({ passwordHash, passwordChangedAt: now }).where(eq(users.id, userId));
    await tx
      .delete(sessions)
      .where(
        currentSessionId
          ? and(eq(sessions.userId, userId), ne(sessions.id, currentSessionId))
          : eq(sessions.userId, userId),
      );
  });
}

// ---------- two-factor authentication ----------

async function requirePassword(user: typeof users.$inferSelect, password: string) {
  if (!(await verifyPassword(password, user.passwordHash)))
    throw new ApiError('validation_failed', 'The current password is wrong', { password: 'is wrong' });
}

/** A new secret, not in force until enableTotp saw a code from it. */
export async function startTotpSetup(db: Db, config: Config, userId: string, password: string) {
  const user = await userRow(db, userId);
  if (user.totpEnabledAt)
    throw new ApiError('conflict', 'Two-factor authentication is already on; turn it off first');
  await requirePassword(user, password);
  const secret = newTotpSecret();
  // SECURITY: the seed is stored sealed (accounts/totp-secrets.ts); only this answer shows it.
  const sealed = await sealTotpSecret(config, userId, secret);
  await db.update(users).set({ totpSecret: sealed, totpLastStep: null }).where(eq(users.id, userId));
  return { secret, uri: otpauthUri(secret, user.email) };
}

function newRecoveryCode(): string {
  // 10 characters from a 32-letter alphabet without look-alikes: 50 bits each
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  const chars = [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}

const normalizeRecovery = (code: string) => code.trim().toLowerCase().replace('-', '');

async function replaceRecoveryCodes(db: Db, userId: string, now: Date): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  const hashes = await Promise.all(codes.map((c) => sha256Hex(normalizeRecovery(c))));
  await db.transaction(async (tx) => {
    await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
    await tx.insert(recoveryCodes).values(hashes.map((codeHash) => ({ userId, codeHash, createdAt: now })));
  });
  return codes;
}

/** Checks a TOTP code (each accepted once) or uses up a recovery code; false when neither. */
async function checkSecondFactor(
  db: Db,
  config: Config,
  userId: string,
  code: string,
  now: Date,
): Promise<boolean> {
  const user = await userRow(db, userId);
  if (!user.totpSecret) return false;
  const trimmed = code.trim();
  if (/^\d{6}$/.test(trimmed)) {
    let secret: string;
    try {
      secret = await openTotpSecret(db, config, { id: user.id, totpSecret: user.totpSecret });
    } catch (e) {
      // A seed that does not open (moved from another row, or its key removed from
      // DATA_ENCRYPTION_KEYS) verifies no code; the operator sees why in the log.
      if (!(e instanceof SecretBoxError)) throw e;
      console.error(`TOTP seed of user ${userId} does not open: ${e.message}`);
      return false;
    }
    const step = await matchTotp(secret, trimmed, now, user.totpLastStep);
    if (step === null) return false;
    // SECURITY: only one request can move the step forward, so a code works exactly once.
    const moved = await db
      .update(users)
      .set({ totpLastStep: step })
      .where(
        and(eq(users.id, userId), sql`(${users.totpLastStep} is null or ${users.totpLastStep} < ${step})`),
      )
      .returning({ id: users.id });
    return moved.length === 1;
  }
  const used = await db
    .update(recoveryCodes)
    .set({ usedAt: now })
    .where(
      and(
        eq(recoveryCodes.userId, userId),
        eq(recoveryCodes.codeHash, await sha256Hex(normalizeRecovery(trimmed))),
        isNull(recoveryCodes.usedAt),
      ),
    )
    .returning({ id: recoveryCodes.id });
  return used.length === 1;
}

async function limitedSecondFactor(db: Db, config: Config, userId: string, code: string, now: Date) {
  const key = `2fa:user:${userId}`;
  if (await isRateLimited(db, key, TWO_FACTOR_LIMIT, now))
    throw new ApiError('rate_limited', 'Too many wrong codes; wait 15 minutes and try again');
  if (!(await checkSecondFactor(db, config, userId, code, now))) {
    await hitRateLimit(db, key, TWO_FACTOR_LIMIT, now);
    throw new ApiError('validation_failed', 'The code is wrong or was already used', { code: 'is wrong' });
  }
}

/** Turns 2FA on with a first code from the new secret; returns the recovery codes (shown once). */
export async function enableTotp(
  db: Db,
  config: Config,
  userId: string,
  code: string,
  now: Date,
): Promise<string[]> {
  const user = await userRow(db, userId);
  if (user.totpEnabledAt) throw new ApiError('conflict', 'Two-factor authentication is already on');
  if (!user.totpSecret)
    throw new ApiError('conflict', 'Start the two-factor setup first (POST /auth/2fa/setup)');
  await limitedSecondFactor(db, config, userId, code, now);
  await db.update(users).set({ totpEnabledAt: now }).where(eq(users.id, userId));
  return replaceRecoveryCodes(db, userId, now);
}

export async function disableTotp(
  db: Db,
  config: Config,
  userId: string,
  input: { password: string; code: string },
  now: Date,
): Promise<void> {
  const user = await userRow(db, userId);
  if (!user.totpEnabledAt) throw new ApiError('conflict', 'Two-factor authentication is not on');
  const [account] = await db
    .select({ require2fa: accounts.require2fa })
    .from(accounts)
    .where(eq(accounts.id, user.accountId));
  if (account?.require2fa)
    throw new ApiError('forbidden', 'Your team requires two-factor authentication; it cannot be turned off');
  await requirePassword(user, input.password);
  await limitedSecondFactor(db, config, userId, input.code, now);
  await db
    .update(users)
    .set({ totpEnabledAt: null, totpSecret: null, totpLastStep: null })
    .where(eq(users.id, userId));
  await db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
}

export async function regenerateRecoveryCodes(
  db: Db,
  config: Config,
  userId: string,
  code: string,
  now: Date,
): Promise<string[]> {
  const user = await userRow(db, userId);
  if (!user.totpEnabledAt) throw new ApiError('conflict', 'Two-factor authentication is not on');
  await limitedSecondFactor(db, config, userId, code, now);
  return replaceRecoveryCodes(db, userId, now);
}

/** The second step of a log-in: the challenge from the password step and a code. */
export async function completeLogin2fa(
  db: Db,
  config: Config,
  input: { challenge: string; code: string },
  client: ClientInfo,
  now: Date,
): Promise<{ user: User; accountId: string; token: string; expiresAt: Date }> {
  const hash = await sha256Hex(input.challenge);
  const [challenge] = await db
    .select()
    .from(authTokens)
    .where(
      and(
        eq(authTokens.tokenHash, hash),
        eq(authTokens.kind, 'login_2fa'),
        isNull(authTokens.usedAt),
        gt(authTokens.expiresAt, now),
      ),
    );
  if (!challenge?.userId)
    throw new ApiError(
      'unauthorized',
      'The log-in has expired; enter your e-mail address and password again',
    );
  await limitedSecondFactor(db, config, challenge.userId, input.code, now);
  const used = await db
    .update(authTokens)
    .set({ usedAt: now })
    .where(and(eq(authTokens.id, challenge.id), isNull(authTokens.usedAt)))
    .returning({ id: authTokens.id });
  if (!used[0])
    throw new ApiError(
      'unauthorized',
      'The log-in has expired; enter your e-mail address and password again',
    );
  const user = await userRow(db, challenge.userId);
  const session = await createSession(db, config, user, now, client);
  return { user: toUser(user), accountId: user.accountId, ...session };
}

/** An owner turns "every member needs 2FA" on or off; on only with their own 2FA on. */
export async function setRequire2fa(db: Db, accountId: string, userId: string | null, on: boolean) {
  if (on) {
    if (!userId)
      throw new ApiError('forbidden', 'Only a logged-in user with two-factor authentication can require it');
    const user = await userRow(db, userId);
    if (!user.totpEnabledAt)
      throw new ApiError('conflict', 'Turn on two-factor authentication for yourself first', {
        require2fa: 'needs your own two-factor authentication',
      });
  }
  await db.update(accounts).set({ require2fa: on }).where(eq(accounts.id, accountId));
}

// ---------- sessions ----------

/** Browser and system from a User-Agent, coarse (what a person recognises in a list). */
export function parseUserAgent(ua: string | null): { browser: string | null; os: string | null } {
  if (!ua) return { browser: null, os: null };
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /OPR\//.test(ua)
      ? 'Opera'
      : /Firefox\//.test(ua)
        ? 'Firefox'
        : /(Chrome|Chromium|HeadlessChrome)\//.test(ua)
          ? 'Chrome'
          : /Safari\//.test(ua)
            ? 'Safari'
            : /curl\//.test(ua)
              ? 'curl'
              : null;
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad|iOS/.test(ua)
      ? 'iOS'
      : /Windows/.test(ua)
        ? 'Windows'
        : /Mac OS X|Macintosh/.test(ua)
          ? 'macOS'
          : /CrOS/.test(ua)
            ? 'ChromeOS'
            : /Linux/.test(ua)
              ? 'Linux'
              : null;
  return { browser, os };
}

/** The network of an address: IPv4 /24, IPv6 /48; null for anything else. */
export function ipPrefix(ip: string | null | undefined): string | null {
  if (!ip) return null;
  const v4 = ip.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  if (ip.includes(':')) {
    const [head = ''] = ip.split('::');
    const groups = head.split(':').filter(Boolean).slice(0, 3);
    while (groups.length < 3) groups.push('0');
    return `${groups.join(':')}::/48`;
  }
  return null;
}

export async function listSessions(
  db: Db,
  userId: string,
  currentSessionId: string | null,
  now: Date,
): Promise<SessionInfo[]> {
  const rows = await db
    .select()
    .from(sessions)
    .where(and(eq(sessions.userId, userId), gt(sessions.expiresAt, now)))
    .orderBy(desc(sessions.lastSeenAt), desc(sessions.createdAt));
  return rows.map((r) => ({
    id: r.id,
    current: r.id === currentSessionId,
    ...parseUserAgent(r.userAgent),
    ipPrefix: r.ipPrefix,
    country: r.country,
    method: r.method,
    createdAt: r.createdAt.toISOString(),
    lastSeenAt: (r.lastSeenAt ?? r.createdAt).toISOString(),
    expiresAt: r.expiresAt.toISOString(),
  }));
}

export async function revokeSession(db: Db, userId: string, sessionId: string): Promise<void> {
  const gone = await db
    .delete(sessions)
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId)))
    .returning({ id: sessions.id });
  if (!gone[0]) throw new ApiError('not_found', 'session not found');
}

export async function revokeAllSessions(db: Db, userId: string): Promise<number> {
  const gone = await db.delete(sessions).where(eq(sessions.userId, userId)).returning({ id: sessions.id });
  return gone.length;
}

/** Has the account's "2FA for everyone" setting locked this user out until they set it up? */
export async function needsTwoFactorSetup(db: Db, userId: string): Promise<boolean> {
  const [row] = await db
    .select({ enabled: users.totpEnabledAt, required: accounts.require2fa })
    .from(users)
    .innerJoin(accounts, eq(accounts.id, users.accountId))
    .where(eq(users.id, userId));
  return Boolean(row?.required && !row.enabled);
}

/** The user a log-in challenge or an e-mail address belongs to (for the audit of a failure). */
export async function userForAudit(
  db: Db,
  by: { challenge: string } | { email: string },
): Promise<{ id: string; accountId: string } | undefined> {
  if ('email' in by) {
    const [u] = await db
      .select({ id: users.id, accountId: users.accountId })
      .from(users)
      .where(eq(users.email, by.email));
    return u;
  }
  const [t] = await db
    .select({ id: authTokens.userId, accountId: authTokens.accountId })
    .from(authTokens)
    .where(and(eq(authTokens.tokenHash, await sha256Hex(by.challenge)), eq(authTokens.kind, 'login_2fa')));
  return t?.id && t.accountId ? { id: t.id, accountId: t.accountId } : undefined;
}
