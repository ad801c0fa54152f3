// OIDC single sign-on against the local provider (scripts/stack/oidc.ts): discovery, the code
// flow with PKCE, state and nonce, the ID token's signature checked with the provider's JWKS,
// and membership made at the first log-in.
import { describe, expect, inject, it } from 'vitest';
import { runCron, Session, signup, sql, stackInfo } from '../../scripts/test/api.ts';
import { importKeyring, isSealed, open } from '../../worker/src/lib/secret-box.ts';

const oidc = () => inject('stack').oidc;
let n = 0;
const domain = () => `corp-${process.pid}-${Date.now()}-${++n}.test`;

async function enterpriseWithSso(domains: string[]) {
  const acct = await signup({ plan: 'enterprise' });
  const r = await acct.session.json('/account/sso', {
    method: 'PATCH',
    json: {
      issuer: oidc().issuer,
      clientId: oidc().clientId,
      clientSecret: oidc().clientSecret,
      domains,
      enabled: true,
    },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return { ...acct, sso: r.body.sso };
}

/** The browser's part: open the provider's URL, sign in there as `email`, follow back to us. */
async function providerLogin(startUrl: string, email: string): Promise<string> {
  const u = new URL(startUrl);
  const form = new URLSearchParams(u.searchParams);
  form.set('login_email', email);
  const res = await fetch(`${u.origin}/authorize`, {
    method: 'POST',
    body: form,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    redirect: 'manual',
  });
  expect(res.status).toBe(302);
  return res.headers.get('location')!;
}

async function callback(location: string, s = new Session()) {
  const u = new URL(location);
  expect(u.pathname).toBe('/api/v1/auth/sso/callback');
  const res = await s.fetch(`/auth/sso/callback${u.search}`);
  return { s, res, to: res.headers.get('location') };
}

describe('OIDC single sign-on', () => {
  it('is for Enterprise accounts, reads the discovery document, and never returns the client secret', async () => {
    const starter = await signup();
    const refused = await starter.session.json('/account/sso', {
      method: 'PATCH',
      json: {
        issuer: oidc().issuer,
        clientId: 'x',
        clientSecret: 'y',
        domains: ['example.com'],
        enabled: true,
      },
    });
    expect(refused.status).toBe(402);
    const acct = await signup({ plan: 'enterprise' });
    const wrongIssuer = await acct.session.json('/account/sso', {
      method: 'PATCH',
      json: {
        issuer: `${stackInfo().sinkUrl}/nothing`,
        clientId: 'x',
        clientSecret: 'y',
        domains: ['example.com'],
        enabled: true,
      },
    });
    expect(wrongIssuer.status).toBe(422);
    expect(wrongIssuer.body.error.fields).toHaveProperty('issuer');
    const { sso } = await enterpriseWithSso([domain()]);
    expect(sso).toMatchObject({
      issuer: oidc().issuer,
      clientId: oidc().clientId,
      hasClientSecret: true,
      enabled: true,
    });
    expect(sso.redirectUri).toBe(`${stackInfo().url}/api/v1/auth/sso/callback`);
    expect(JSON.stringify(sso)).not.toContain(oidc().clientSecret);
  });

  it('logs a new person of the domain in with PKCE, state and nonce, and makes them a member', async () => {
    const d = domain();
    const { account } = await enterpriseWithSso([d]);
    const email = `alice@${d}`;
    const start = await new Session().json(`/auth/sso/start?email=${encodeURIComponent(email)}`);
    expect(start.status).toBe(200);
    const url = new URL(start.body.url);
    expect(url.origin).toBe(oidc().issuer);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('state')).toBeTruthy();
    expect(url.searchParams.get('nonce')).toBeTruthy();
    expect(url.searchParams.get('redirect_uri')).toBe(`${stackInfo().url}/api/v1/auth/sso/callback`);
    // the state is stored hashed, with the PKCE verifier, never the raw value
    const [stored] = await sql(
      "select token_hash, data from auth_tokens where kind = 'oidc' and email = $1",
      [email],
    );
    expect(stored.token_hash).not.toBe(url.searchParams.get('state'));
    const location = await providerLogin(start.body.url, email);
    const { s, res, to } = await callback(location);
    expect(res.status).toBe(302);
    expect(to).toBe('/');
    const me = await s.json('/auth/me');
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ email, emailVerified: true });
    expect(me.body.account.id).toBe(account.id);
    const [member] = await sql('select role, can_download, sso_subject from users where email = $1', [email]);
    expect(member).toMatchObject({ role: 'viewer', can_download: false });
    expect(member.sso_subject).toBeTruthy();
    const sessions = await s.json('/auth/sessions');
    expect(sessions.body.items[0].method).toBe('sso');
    // the state works once
    const again = await callback(location);
    expect(again.to).toBe('/login?sso=unauthorized');
    // a second log-in finds the same member by the provider's subject
    const second = await new Session().json(`/auth/sso/start?email=${encodeURIComponent(email)}`);
    const back = await callback(await providerLogin(second.body.url, email));
    expect((await back.s.json('/auth/me')).body.user.id).toBe(me.body.user.id);
    const audit = await sql(
      'select action, details::text as details from audit_log where account_id = $1 order by at',
      [account.id],
    );
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['member.joined_by_sso', 'auth.login']),
    );
    expect(audit.find((a) => a.details.includes('"sso"'))).toBeDefined();
  });

  it('refuses a forged state, a code for another flow, and a provider error', async () => {
    const d = domain();
    await enterpriseWithSso([d]);
    const email = `bob@${d}`;
    const start = await new Session().json(`/auth/sso/start?email=${encodeURIComponent(email)}`);
    const location = new URL(await providerLogin(start.body.url, email));
    const forged = new URL(location);
    forged.searchParams.set('state', 'A'.repeat(43));
    expect((await callback(forged.href)).to).toBe('/login?sso=unauthorized');
    // the code of this flow under the state of another flow: the PKCE verifier does not match
    const other = await new Session().json(`/auth/sso/start?email=${encodeURIComponent(email)}`);
    const swapped = new URL(location);
    swapped.searchParams.set('state', new URL(other.body.url).searchParams.get('state')!);
    expect((await callback(swapped.href)).to).toBe('/login?sso=unauthorized');
    const third = await new Session().json(`/auth/sso/start?email=${encodeURIComponent(email)}`);
    const denied = new URL(`${stackInfo().url}/api/v1/auth/sso/callback`);
    denied.searchParams.set('state', new URL(third.body.url).searchParams.get('state')!);
    denied.searchParams.set('error', 'access_denied');
    expect((await callback(denied.href)).to).toBe('/login?sso=unauthorized');
    expect(await sql('select 1 from users where email = $1', [email])).toHaveLength(0);
  });

  it('knows no SSO for a domain no account set up, nor for an address outside the domains', async () => {
    const r = await new Session().json(`/auth/sso/start?email=${encodeURIComponent(`eve@${domain()}`)}`);
    expect(r.status).toBe(404);
    const d = domain();
    await enterpriseWithSso([d]);
    const start = await new Session().json(`/auth/sso/start?email=${encodeURIComponent(`carol@${d}`)}`);
    // the provider vouches for another address than the one asked for: not in the domains
    const { to } = await callback(await providerLogin(start.body.url, 'carol@elsewhere.test'));
    expect(to).toBe('/login?sso=forbidden');
  });
});

describe('the client secret at rest', () => {
  const stored = async (accountId: string) =>
    (await sql('select sso_client_secret, sso::text as sso from accounts where id = $1', [accountId]))[0];
  /** Opens a stored secret with the key the stack gave the worker (DATA_ENCRYPTION_KEYS). */
  const openWithServiceKey = async (value: string, accountId: string) =>
    (
      await open(
        await importKeyring(stackInfo().vars.DATA_ENCRYPTION_KEYS!),
        value,
        `sso-client-secret:${accountId}`,
      )
    ).plaintext;

  async function logsIn(d: string, accountId: string) {
    const email = `dora@${d}`;
    const start = await new Session().json(`/auth/sso/start?email=${encodeURIComponent(email)}`);
    expect(start.status).toBe(200);
    const { s, to } = await callback(await providerLogin(start.body.url, email));
    expect(to).toBe('/');
    expect((await s.json('/auth/me')).body.account.id).toBe(accountId);
  }

  it('is sealed, bound to the account, kept when omitted, and never in the settings JSON', async () => {
    const d = domain();
    const { account, session } = await enterpriseWithSso([d]);
    const row = await stored(account.id);
    expect(isSealed(row.sso_client_secret)).toBe(true);
    expect(row.sso_client_secret).not.toContain(oidc().clientSecret);
    expect(row.sso).not.toContain(oidc().clientSecret);
    expect(row.sso).not.toContain('clientSecret');
    expect(await openWithServiceKey(row.sso_client_secret, account.id)).toBe(oidc().clientSecret);
    // saving without a secret keeps the sealed one
    const kept = await session.json('/account/sso', {
      method: 'PATCH',
      json: { issuer: oidc().issuer, clientId: oidc().clientId, domains: [d], enabled: true },
    });
    expect(kept.status).toBe(200);
    expect(JSON.stringify(kept.body)).not.toContain(oidc().clientSecret);
    expect((await stored(account.id)).sso_client_secret).toBe(row.sso_client_secret);
    const read = await session.json('/account/sso');
    expect(read.body.sso.hasClientSecret).toBe(true);
    expect(JSON.stringify(read.body)).not.toContain(oidc().clientSecret);
    await logsIn(d, account.id);
    // a sealed secret copied to another account does not open there: its log-in fails
    const d2 = domain();
    const other = await enterpriseWithSso([d2]);
    await sql('update accounts set sso_client_secret = $1 where id = $2', [
      row.sso_client_secret,
      other.account.id,
    ]);
    const email = `eve@${d2}`;
    const start = await new Session().json(`/auth/sso/start?email=${encodeURIComponent(email)}`);
    expect((await callback(await providerLogin(start.body.url, email))).to).toBe('/login?sso=unauthorized');
    // removing SSO removes the secret
    expect((await session.fetch('/account/sso', { method: 'DELETE' })).status).toBe(204);
    expect((await stored(account.id)).sso_client_secret).toBeNull();
  });

  it('seals a plaintext secret from before migration 0022 at the next log-in', async () => {
    const d = domain();
    const { account } = await enterpriseWithSso([d]);
    // a row as migration 0022 leaves it: the secret moved out of the JSON, not sealed yet
    await sql('update accounts set sso_client_secret = $1 where id = $2', [oidc().clientSecret, account.id]);
    await logsIn(d, account.id);
    const row = await stored(account.id);
    expect(isSealed(row.sso_client_secret)).toBe(true);
    expect(await openWithServiceKey(row.sso_client_secret, account.id)).toBe(oidc().clientSecret);
  });

  it('seals plaintext secrets of accounts nobody logs in to on the next cron run', async () => {
    const { account } = await enterpriseWithSso([domain()]);
    await sql('update accounts set sso_client_secret = $1 where id = $2', [oidc().clientSecret, account.id]);
    await runCron();
    const row = await stored(account.id);
    expect(isSealed(row.sso_client_secret)).toBe(true);
    expect(await openWithServiceKey(row.sso_client_secret, account.id)).toBe(oidc().clientSecret);
  });
});
