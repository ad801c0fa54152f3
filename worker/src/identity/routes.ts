// Sign-up, log-in (with the second factor), e-mail verification, password reset and change,
// two-factor setup, and the user's sessions (issue 16). The logic is in accounts/; this layer
// answers with the account (plans/) and sends the e-mails (notifications/).
import {
  ChangeEmailBody,
  ChangePasswordBody,
  Login2faBody,
  LoginBody,
  PasswordResetBody,
  PasswordResetRequestBody,
  RecoveryCodesBody,
  SecuritySettingsBody,
  SignupBody,
  SsoCallbackQuery,
  SsoConfigBody,
  SsoStartQuery,
  TwoFactorDisableBody,
  TwoFactorEnableBody,
  TwoFactorSetupBody,
  VerifyEmailBody,
} from '@resistro/contract';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { type ClientInfo, login, signup } from '../accounts/accounts.ts';
import {
  changePassword,
  completeLogin2fa,
  confirmEmailToken,
  disableTotp,
  enableTotp,
  ipPrefix,
  listSessions,
  regenerateRecoveryCodes,
  requestEmailChange,
  requestPasswordReset,
  resetPassword,
  revokeAllSessions,
  revokeSession,
  setRequire2fa,
  startAlertEmailVerifications,
  startEmailVerification,
  startTotpSetup,
  userForAudit,
} from '../accounts/identity.ts';
import { finishSso, getSso, removeSso, setSso, startSso } from '../accounts/sso.ts';
import type { AppEnv, Principal } from '../app-types.ts';
import { recordAudit, requestIp } from '../audit/audit.ts';
import { ApiError } from '../errors.ts';
import { languageFromHeader } from '../i18n/language.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readBody, readQuery } from '../lib/validate.ts';
import { getAccount } from '../plans/plans.ts';
import { setSessionCookie } from '../plans/routes.ts';
import { type AccountMail, linkOrigin, sendAccountMail } from './mail.ts';

/** The client as the sessions list shows it: User-Agent, network prefix, country. */
export function clientInfo(c: Context<AppEnv>): ClientInfo {
  const cf = (c.req.raw as { cf?: { country?: unknown } }).cf;
  const country = typeof cf?.country === 'string' && /^[A-Z]{2}$/.test(cf.country) ? cf.country : null;
  return {
    userAgent: c.req.header('user-agent')?.slice(0, 300) ?? null,
    ipPrefix: ipPrefix(c.req.header('cf-connecting-ip')),
    country,
  };
}

/** The client key the rate limits count by. */
const clientKey = (c: Context<AppEnv>) => c.req.header('cf-connecting-ip') ?? 'local';

/** A logged-in person (a browser session), not an API key: these routes are about the user. */
function requireUser(c: Context<AppEnv>, access: 'read' | 'write'): Principal & { userId: string } {
  const p = requirePrincipal(c.get('principal'), access);
  if (!p.userId) throw new ApiError('forbidden', 'Only a logged-in user can do this; API keys cannot');
  return p as Principal & { userId: string };
}

/** Records a user's own account action (no secrets in details). */
async function audit(
  c: Context<AppEnv>,
  who: { accountId: string; userId: string },
  action: string,
  details?: Record<string, unknown>,
) {
  await recordAudit(c.get('db'), {
    accountId: who.accountId,
    actor: { kind: 'user', userId: who.userId },
    ip: requestIp(c),
    action,
    objectKind: 'member',
    objectId: who.userId,
    ...(details && { details }),
  });
}

/** A failed log-in of a known address is recorded for its account (an unknown one has none). */
async function auditFailure<T>(
  c: Context<AppEnv>,
  by: { challenge: string } | { email: string },
  details: Record<string, unknown>,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (
      e instanceof ApiError &&
      (e.code === 'unauthorized' || e.code === 'validation_failed' || e.code === 'rate_limited')
    ) {
      const user = await userForAudit(c.get('db'), by);
      if (user)
        await audit(c, { accountId: user.accountId, userId: user.id }, 'auth.login_failed', {
          ...details,
          reason:
            e.code === 'rate_limited'
              ? 'rate_limited'
              : 'step' in details && details.step === 'password'
                ? 'wrong_password'
                : 'wrong_code',
        });
    }
    throw e;
  }
}

/** Sends after the answer, so neither its time nor a provider failure shows in the answer. */
function mailLater(c: Context<AppEnv>, language: 'en' | 'de', mail: AccountMail) {
  const origin = linkOrigin(c.get('config'), c.req.url);
  c.executionCtx.waitUntil(sendAccountMail(c.get('config'), origin, language, mail));
}

export const identityRoutes = new Hono<AppEnv>()
  // After the alert addresses changed (PATCH /account, plans/routes.ts): a verification link to
  // each new one. Mounted before the account routes, so this wraps their handler.
  .patch('/account', async (c, next) => {
    await next();
    const p = c.get('principal');
    if (c.res.status === 200 && p) await verifyNewAlertEmails(c, p.accountId);
  })
  .post('/auth/signup', async (c) => {
    const input = await readBody(c, SignupBody);
    // The browser's language unless the sign-up form says otherwise (its language switch).
    const language = input.language ?? languageFromHeader(c.req.header('accept-language'));
    const db = c.get('db');
    const now = c.get('now');
    const { user, accountId, token, expiresAt } = await signup(
      db,
      c.get('config'),
      // With Paddle the plan applies once it confirms the payment (billing/); until then the smallest.
      { ...input, plan: c.get('config').billing.enabled ? undefined : input.plan, language },
      now,
      clientInfo(c),
    );
    setSessionCookie(c, token, expiresAt);
    await audit(c, { accountId, userId: user.id }, 'account.created', { email: user.email });
    const link = await startEmailVerification(db, user.id, now);
    if (link) mailLater(c, link.language, { kind: 'verify_email', to: link.to, token: link.token });
    return c.json(
      { user, account: await getAccount(db, accountId, c.get('now'), c.get('config').billing) },
      201,
    );
  })
  .post('/auth/login', async (c) => {
    const input = await readBody(c, LoginBody);
    const result = await auditFailure(c, { email: input.email }, { step: 'password' }, () =>
      login(c.get('db'), c.get('config'), input, clientKey(c), c.get('now'), clientInfo(c)),
    );
    if (result.twoFactor) {
      return c.json({
        twoFactorRequired: true as const,
        challenge: result.challenge,
        expiresAt: result.expiresAt.toISOString(),
      });
    }
    setSessionCookie(c, result.token, result.expiresAt);
    await audit(c, { accountId: result.accountId, userId: result.user.id }, 'auth.login', {
      method: 'password',
    });
    return c.json({
      user: result.user,
      account: await getAccount(c.get('db'), result.accountId, c.get('now'), c.get('config').billing),
    });
  })
  .post('/auth/login/2fa', async (c) => {
    const input = await readBody(c, Login2faBody);
    const { user, accountId, token, expiresAt } = await auditFailure(
      c,
      { challenge: input.challenge },
      { step: 'second_factor' },
      () => completeLogin2fa(c.get('db'), c.get('config'), input, clientInfo(c), c.get('now')),
    );
    setSessionCookie(c, token, expiresAt);
    await audit(c, { accountId, userId: user.id }, 'auth.login', {
      method: /^\d{6}$/.test(input.code.trim()) ? 'password+totp' : 'password+recovery_code',
    });
    return c.json({
      user,
      account: await getAccount(c.get('db'), accountId, c.get('now'), c.get('config').billing),
    });
  })
  .post('/auth/verify-email', async (c) => {
    const { token } = await readBody(c, VerifyEmailBody);
    const db = c.get('db');
    const done = await confirmEmailToken(db, token, c.get('now'));
    if (done.userId)
      await audit(
        c,
        { accountId: done.accountId, userId: done.userId },
        done.kind === 'change_email' ? 'auth.email_changed' : 'auth.email_verified',
      );
    if (done.oldEmail) {
      const account = await getAccount(db, done.accountId, c.get('now'), c.get('config').billing);
      mailLater(c, account.language, {
        kind: 'email_changed_notice',
        to: done.oldEmail,
        newEmail: done.email,
      });
    }
    return c.json({ kind: done.kind, email: done.email });
  })
  .post('/auth/verify-email/resend', async (c) => {
    const p = requireUser(c, 'write');
    const link = await startEmailVerification(c.get('db'), p.userId, c.get('now'));
    if (!link) throw new ApiError('conflict', 'The e-mail address is already verified');
    mailLater(c, link.language, { kind: 'verify_email', to: link.to, token: link.token });
    return c.body(null, 202);
  })
  .post('/auth/password-reset/request', async (c) => {
    const { email } = await readBody(c, PasswordResetRequestBody);
    const link = await requestPasswordReset(c.get('db'), email, clientKey(c), c.get('now'));
    // SECURITY: the same 202 whether or not the address exists; the mail goes out after the answer.
    if (link) mailLater(c, link.language, { kind: 'reset_password', to: link.to, token: link.token });
    return c.body(null, 202);
  })
  .post('/auth/password-reset', async (c) => {
    const input = await readBody(c, PasswordResetBody);
    const db = c.get('db');
    const done = await resetPassword(db, c.get('config'), input, c.get('now'));
    await audit(c, done, 'auth.password_reset');
    const account = await getAccount(db, done.accountId, c.get('now'), c.get('config').billing);
    mailLater(c, account.language, { kind: 'password_changed_notice', to: done.email });
    return c.body(null, 204);
  })
  .post('/auth/password', async (c) => {
    requirePrincipal(c.get('principal'), 'write'); // 401 before reading the body
    const input = await readBody(c, ChangePasswordBody);
    const p = requireUser(c, 'write');
    const db = c.get('db');
    await changePassword(db, c.get('config'), p.userId, p.sessionId, input, c.get('now'));
    await audit(c, p, 'auth.password_changed');
    return c.body(null, 204);
  })
  .post('/auth/email', async (c) => {
    requirePrincipal(c.get('principal'), 'write'); // 401 before reading the body
    const input = await readBody(c, ChangeEmailBody);
    const p = requireUser(c, 'write');
    const { link } = await requestEmailChange(c.get('db'), p.userId, input, c.get('now'));
    mailLater(c, link.language, { kind: 'change_email', to: link.to, token: link.token });
    return c.body(null, 202);
  })
  .post('/auth/2fa/setup', async (c) => {
    requirePrincipal(c.get('principal'), 'write'); // 401 before reading the body
    const { password } = await readBody(c, TwoFactorSetupBody);
    const p = requireUser(c, 'write');
    return c.json(await startTotpSetup(c.get('db'), c.get('config'), p.userId, password));
  })
  .post('/auth/2fa/enable', async (c) => {
    requirePrincipal(c.get('principal'), 'write'); // 401 before reading the body
    const { code } = await readBody(c, TwoFactorEnableBody);
    const p = requireUser(c, 'write');
    const recoveryCodes = await enableTotp(c.get('db'), c.get('config'), p.userId, code, c.get('now'));
    await audit(c, p, 'auth.2fa_enabled');
    return c.json({ recoveryCodes });
  })
  .post('/auth/2fa/disable', async (c) => {
    requirePrincipal(c.get('principal'), 'write'); // 401 before reading the body
    const input = await readBody(c, TwoFactorDisableBody);
    const p = requireUser(c, 'write');
    await disableTotp(c.get('db'), c.get('config'), p.userId, input, c.get('now'));
    await audit(c, p, 'auth.2fa_disabled');
    return c.body(null, 204);
  })
  .post('/auth/2fa/recovery-codes', async (c) => {
    requirePrincipal(c.get('principal'), 'write'); // 401 before reading the body
    const { code } = await readBody(c, RecoveryCodesBody);
    const p = requireUser(c, 'write');
    return c.json({
      recoveryCodes: await regenerateRecoveryCodes(
        c.get('db'),
        c.get('config'),
        p.userId,
        code,
        c.get('now'),
      ),
    });
  })
  .get('/auth/sessions', async (c) => {
    const p = requireUser(c, 'read');
    return c.json({ items: await listSessions(c.get('db'), p.userId, p.sessionId, c.get('now')) });
  })
  .delete('/auth/sessions/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const id = c.req.param('id');
    // an API key has no sessions: whatever the id, there is none of its own to end
    if (!p.userId || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
      throw new ApiError('not_found', 'session not found');
    await revokeSession(c.get('db'), p.userId, id);
    await audit(c, { accountId: p.accountId, userId: p.userId }, 'session.revoked', { sessionId: id });
    return c.body(null, 204);
  })
  .post('/auth/sessions/revoke-all', async (c) => {
    const p = requireUser(c, 'write');
    const revoked = await revokeAllSessions(c.get('db'), p.userId);
    await audit(c, p, 'session.revoked_all', { revoked });
    return c.json({ revoked });
  })
  .patch('/account/security', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const { require2fa } = await readBody(c, SecuritySettingsBody);
    await setRequire2fa(c.get('db'), p.accountId, p.userId, require2fa);
    if (p.userId)
      await audit(c, { accountId: p.accountId, userId: p.userId }, 'account.2fa_required', { require2fa });
    return c.json({
      account: await getAccount(c.get('db'), p.accountId, c.get('now'), c.get('config').billing),
    });
  });

/** Single sign-on (OIDC, Enterprise): settings for admins, and the log-in round trip. */
export const ssoRoutes = new Hono<AppEnv>()
  .get('/account/sso', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    return c.json({ sso: await getSso(c.get('db'), p.accountId, linkOrigin(c.get('config'), c.req.url)) });
  })
  .patch('/account/sso', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const input = await readBody(c, SsoConfigBody);
    const origin = linkOrigin(c.get('config'), c.req.url);
    const sso = await setSso(c.get('db'), c.get('config'), p.accountId, input, origin);
    if (p.userId)
      await audit(c, { accountId: p.accountId, userId: p.userId }, 'account.sso_configured', {
        issuer: input.issuer,
        enabled: input.enabled,
      });
    return c.json({ sso });
  })
  .delete('/account/sso', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    await removeSso(c.get('db'), p.accountId);
    if (p.userId) await audit(c, { accountId: p.accountId, userId: p.userId }, 'account.sso_removed');
    return c.body(null, 204);
  })
  .get('/auth/sso/start', async (c) => {
    const { email } = readQuery(c, SsoStartQuery);
    const url = await startSso(
      c.get('db'),
      c.get('config'),
      email,
      linkOrigin(c.get('config'), c.req.url),
      c.get('now'),
    );
    return c.json({ url });
  })
  .get('/auth/sso/callback', async (c) => {
    const q = readQuery(c, SsoCallbackQuery);
    try {
      const done = await finishSso(
        c.get('db'),
        c.get('config'),
        { code: q.code, state: q.state, error: q.error },
        linkOrigin(c.get('config'), c.req.url),
        clientInfo(c),
        c.get('now'),
      );
      setSessionCookie(c, done.token, done.expiresAt);
      if (done.created)
        await audit(c, { accountId: done.accountId, userId: done.user.id }, 'member.joined_by_sso');
      await audit(c, { accountId: done.accountId, userId: done.user.id }, 'auth.login', { method: 'sso' });
      return c.redirect('/', 302);
    } catch (e) {
      // the browser came here from the provider: it gets the log-in page with the reason, not JSON
      if (e instanceof ApiError) return c.redirect(`/login?sso=${e.code}`, 302);
      throw e;
    }
  });

/** After the alert addresses changed: a verification link to each one not verified yet. */
export async function verifyNewAlertEmails(c: Context<AppEnv>, accountId: string): Promise<void> {
  const links = await startAlertEmailVerifications(c.get('db'), accountId, c.get('now'));
  for (const link of links)
    mailLater(c, link.language, { kind: 'verify_alert_email', to: link.to, token: link.token });
}
