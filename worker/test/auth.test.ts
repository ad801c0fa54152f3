import { describe, expect, it } from 'vitest';
import { waitFor } from '../../scripts/stack/ports.ts';
import { Session, signup, sql, stackInfo, uniqueEmail } from '../../scripts/test/api.ts';

describe('accounts and sessions', () => {
  it('signs up with a hashed password and an HttpOnly, Secure, SameSite session cookie with expiry', async () => {
    const s = new Session();
    const email = uniqueEmail();
    const res = await s.fetch('/auth/signup', {
      method: 'POST',
      json: { email, password: 'a long enough password' },
    });
    expect(res.status).toBe(201);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^resistro_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('Secure');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).toMatch(/Expires=/);
    const [row] = await sql('select password_hash from users where email = $1', [email]);
    expect(row.password_hash).toMatch(/^pbkdf2-sha256\$100000\$/);
    expect(row.password_hash).not.toContain('a long enough password');
    const [session] = await sql(
      'select token_hash from sessions s join users u on u.id = s.user_id where u.email = $1',
      [email],
    );
    expect(session.token_hash).not.toBe(s.cookie.split('=')[1]);
    const me = await s.json('/auth/me');
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(email);
    expect(me.body.account.plan).toBe('starter');
  });

  it('refuses an e-mail that is already taken, in any letter case', async () => {
    const { email } = await signup();
    const r = await new Session().json('/auth/signup', {
      method: 'POST',
      json: { email: email.toUpperCase(), password: 'another password!' },
    });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('conflict');
    expect(r.body.error.fields.email).toBeDefined();
  });

  it('names each invalid field without echoing the input', async () => {
    const r = await new Session().json('/auth/signup', {
      method: 'POST',
      json: { email: 'not-an-email-MARKER', password: 'short' },
    });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('validation_failed');
    expect(Object.keys(r.body.error.fields).sort()).toEqual(['email', 'password']);
    expect(JSON.stringify(r.body)).not.toContain('MARKER');
  });

  it('logs in with the right password only, and logs out', async () => {
    const { email, password } = await signup();
    const s = new Session();
    const wrong = await s.json('/auth/login', {
      method: 'POST',
      json: { email, password: 'wrong password!!' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('unauthorized');
    const ok = await s.json('/auth/login', { method: 'POST', json: { email, password } });
    expect(ok.status).toBe(200);
    expect((await s.json('/auth/me')).status).toBe(200);
    const cookie = s.cookie;
    expect((await s.fetch('/auth/logout', { method: 'POST' })).status).toBe(204);
    const stale = new Session();
    stale.cookie = cookie;
    expect((await stale.json('/auth/me')).status).toBe(401);
  });

  it('ends a session at its expiry', async () => {
    const { session, email } = await signup();
    expect((await session.json('/auth/me')).status).toBe(200);
    await sql(
      `update sessions set expires_at = now() - interval '1 second' where user_id = (select id from users where email = $1)`,
      [email],
    );
    const r = await session.json('/auth/me');
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('unauthorized');
  });

  it('refuses cookie-authenticated changes from another origin or without an Origin (CSRF)', async () => {
    const { session } = await signup();
    const evil = await session.json('/api-keys', {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
      json: { name: 'x', scope: 'read' },
    });
    expect(evil.status).toBe(403);
    expect(evil.body.error.code).toBe('forbidden');
    const res = await fetch(`${stackInfo().url}/api/v1/api-keys`, {
      method: 'POST',
      headers: { cookie: session.cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', scope: 'read' }),
    });
    expect(res.status).toBe(403);
    const same = await session.json('/api-keys', { method: 'POST', json: { name: 'x', scope: 'read' } });
    expect(same.status).toBe(201);
  });

  it('rate-limits failed log-ins per e-mail, even for the right password afterwards', async () => {
    const { email, password } = await signup();
    const s = new Session();
    for (let i = 0; i < 10; i++) {
      const r = await s.json('/auth/login', {
        method: 'POST',
        json: { email, password: `wrong-${i}-password` },
      });
      expect(r.status).toBe(401);
    }
    const blocked = await s.json('/auth/login', { method: 'POST', json: { email, password } });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('rate_limited');
    // Another account from the same client is not affected by this e-mail's counter.
    const other = await signup();
    expect(
      (
        await new Session().json('/auth/login', {
          method: 'POST',
          json: { email: other.email, password: other.password },
        })
      ).status,
    ).toBe(200);
  });

  it('rate-limits failed log-ins per client address across e-mails', async () => {
    const ip = `203.0.113.${Math.floor(Math.random() * 200) + 1}`;
    const s = new Session();
    for (let i = 0; i < 50; i++) {
      const r = await s.json('/auth/login', {
        method: 'POST',
        headers: { 'cf-connecting-ip': ip },
        json: { email: uniqueEmail('nobody'), password: 'whatever password' },
      });
      expect(r.status).toBe(401);
    }
    const r = await s.json('/auth/login', {
      method: 'POST',
      headers: { 'cf-connecting-ip': ip },
      json: { email: uniqueEmail('nobody'), password: 'whatever password' },
    });
    expect(r.status).toBe(429);
  });

  it('changes plan through Paddle: the new limits apply once Paddle confirms the prorated charge', async () => {
    const { session } = await signup({ plan: 'business' });
    const up = await session.json('/account', { method: 'PATCH', json: { plan: 'professional' } });
    expect(up.status).toBe(200);
    await waitFor(
      async () => (await session.json('/account')).body.account.limits.maxDatabases === 25,
      30_000,
      "Paddle's confirmation",
    );
    const bad = await session.json('/account', { method: 'PATCH', json: { plan: 'platinum' } });
    expect(bad.status).toBe(422);
    // Without a paid subscription there is nothing to change.
    const unpaid = await signup();
    const none = await unpaid.session.json('/account', { method: 'PATCH', json: { plan: 'business' } });
    expect(none.status).toBe(409);
    expect((await unpaid.session.json('/account')).body.account.plan).toBe('starter');
  });
});
