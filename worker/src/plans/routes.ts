// The log-out, profile and account routes (sign-up and log-in: identity/routes.ts). Each answers with the account and its plan's usage
// (plans.ts), which counts databases, so they sit here above accounts/ and databases/.
import { roleAtLeast, UpdateAccountBody } from '@resistro/contract';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { getUser, logout, SESSION_COOKIE } from '../accounts/accounts.ts';
import type { AppEnv } from '../app-types.ts';
import { auditRequest } from '../audit/audit.ts';
import { changePlan } from '../billing/billing.ts';
import { ApiError } from '../errors.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readBody } from '../lib/validate.ts';
import { getAccount, updateAccount } from './plans.ts';

export function setSessionCookie(c: Context<AppEnv>, token: string, expiresAt: Date) {
  // SECURITY: HttpOnly (no script access), Secure, SameSite=Lax, and an expiry matching the row.
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    secure: true,
    sameSite: 'Lax',
    path: '/',
    expires: expiresAt,
  });
}

export const accountRoutes = new Hono<AppEnv>()
  .post('/auth/logout', async (c) => {
    const p = c.get('principal');
    if (p?.sessionId) {
      await logout(c.get('db'), p.sessionId);
      await auditRequest(c, 'auth.logout');
    }
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: true });
    return c.body(null, 204);
  })
  .get('/auth/me', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    if (!p.userId)
      throw new ApiError(
        'forbidden',
        'Only a logged-in user has a profile; use GET /api/v1/account with an API key',
      );
    return c.json({
      user: await getUser(c.get('db'), p.userId),
      account: await getAccount(c.get('db'), p.accountId, c.get('now'), c.get('config').billing),
    });
  })
  .get('/account', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    return c.json({
      account: await getAccount(c.get('db'), p.accountId, c.get('now'), c.get('config').billing),
    });
  })
  .patch('/account', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const { plan, ...rest } = await readBody(c, UpdateAccountBody);
    if (plan !== undefined && !roleAtLeast(p.role, 'owner'))
      throw new ApiError('forbidden', 'Only an owner may change the plan');
    const billing = c.get('config').billing;
    // With Paddle, a plan change is billing's: charged (upgrade) or scheduled (downgrade), applied
    // when Paddle confirms (billing/ records 'billing.plan_changed' then). Without it (a
    // self-hosted service), the plan just changes.
    if (plan && billing.enabled) await changePlan(c.get('db'), billing, p.accountId, plan, c.get('now'));
    const patch = billing.enabled ? rest : { ...rest, plan };
    const account = await updateAccount(c.get('db'), p.accountId, patch, billing);
    const fields = Object.keys({ ...rest, ...(plan && { plan }) }).sort();
    const action = !plan
      ? 'account.changed'
      : billing.enabled
        ? 'billing.plan_change_requested'
        : 'billing.plan_changed';
    await auditRequest(c, action, undefined, { fields, ...(plan && { plan }) });
    return c.json({ account });
  });
