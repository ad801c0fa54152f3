// Issue 16, identity: e-mail verification, password reset and change, change of e-mail, TOTP
// two-factor log-in with recovery codes, sessions, and "2FA for the whole team", against the real
// worker, its PostgreSQL and the local mail sink.
import { describe, expect, it } from 'vitest';
import {
  mailsTo,
  runCron,
  Session,
  signup,
  sql,
  stackInfo,
  uniqueEmail,
  waitForMail,
} from '../../scripts/test/api.ts';
import { base32Decode, totp } from '../../worker/src/accounts/totp.ts';
import { importKeyring, open } from '../../worker/src/lib/secret-box.ts';

let ipCounter = 0;
/** A client address of its own, so the per-client rate limits of one test do not touch another. */
const clientIp = () => `198.51.${process.pid % 250}.${++ipCounter}`;

async function code(secret: string, at = Date.now()): Promise<string> {
  return totp(base32Decode(secret), Math.floor(at / 1000));
}

async function login(email: string, password: string, headers: Record<string, string> = {}) {
  const s = new Session();
  const r = await s.json('/auth/login', {
    method: 'POST',
    json: { email, password },
    headers: { 'cf-connecting-ip': clientIp(), ...headers },
  });
  return { s, r };
}

async function enable2fa(session: Session, password: string) {
  const setup = await session.json('/auth/2fa/setup', { method: 'POST', json: { password } });
  expect(setup.status).toBe(200);
  const { secret, uri } = setup.body;
  const enabled = await session.json('/auth/2fa/enable', {
    method: 'POST',
    json: { code: await code(secret) },
  });
  expect(enabled.status, JSON.stringify(enabled.body)).toBe(200);
  return { secret, uri, recoveryCodes: enabled.body.recoveryCodes as string[] };
}

describe('e-mail verification', () => {
  it('sends a single-use, expiring link at sign-up; the address counts only once confirmed', async () => {
    const { session, email, user } = await signup({ verified: false });
    expect(user.emailVerified).toBe(false);
    const me = await session.json('/auth/me');
    expect(me.body.user.emailVerified).toBe(false);
    expect(me.body.account.alertEmails).toEqual([email]);
    expect(me.body.account.verifiedAlertEmails).toEqual([]);
    const mail = await waitForMail(email, 'confirm your e-mail');
    expect(mail.link).toMatch(/\/verify-email#token=/);
    // only the hash is stored
    const [row] = await sql("select token_hash from auth_tokens where kind = 'verify_email' and email = $1", [
      email,
    ]);
    expect(row.token_hash).not.toContain(mail.token);
    const anon = new Session();
    const bad = await anon.json('/auth/verify-email', { method: 'POST', json: { token: 'x'.repeat(43) } });
    expect(bad.status).toBe(404);
    const ok = await anon.json('/auth/verify-email', { method: 'POST', json: { token: mail.token } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ kind: 'verify_email', email });
    const after = await session.json('/auth/me');
    expect(after.body.user.emailVerified).toBe(true);
    expect(after.body.account.verifiedAlertEmails).toEqual([email]);
    const again = await anon.json('/auth/verify-email', { method: 'POST', json: { token: mail.token } });
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('not_found');
    // resending for a verified address is refused
    expect((await session.json('/auth/verify-email/resend', { method: 'POST' })).status).toBe(409);
  });

  it('refuses an expired link, and resends a fresh one', async () => {
    const { session, email } = await signup({ verified: false });
    const first = await waitForMail(email, 'confirm your e-mail');
    await sql("update auth_tokens set expires_at = now() - interval '1 second' where email = $1", [email]);
    const r = await new Session().json('/auth/verify-email', {
      method: 'POST',
      json: { token: first.token },
    });
    expect(r.status).toBe(404);
    expect((await session.fetch('/auth/verify-email/resend', { method: 'POST' })).status).toBe(202);
    const second = await waitForMail(email, 'confirm your e-mail', 2);
    expect(second.token).not.toBe(first.token);
    const ok = await new Session().json('/auth/verify-email', {
      method: 'POST',
      json: { token: second.token },
    });
    expect(ok.status).toBe(200);
  });

  it('sends alerts only to confirmed addresses: a new alert address gets its own link', async () => {
    const { session } = await signup();
    const other = uniqueEmail('ops');
    const r = await session.json('/account', { method: 'PATCH', json: { alertEmails: [other] } });
    expect(r.status).toBe(200);
    expect(r.body.account.verifiedAlertEmails).toEqual([]);
    const mail = await waitForMail(other, 'confirm alerts');
    // a second PATCH while the link is open sends no second mail
    await session.json('/account', { method: 'PATCH', json: { language: 'de' } });
    const ok = await new Session().json('/auth/verify-email', {
      method: 'POST',
      json: { token: mail.token },
    });
    expect(ok.body).toEqual({ kind: 'verify_alert_email', email: other });
    const acct = await session.json('/account');
    expect(acct.body.account.verifiedAlertEmails).toEqual([other]);
    expect((await mailsTo(other)).filter((m) => m.subject.includes('alerts'))).toHaveLength(1);
  });

  it('changes the e-mail address after the new one confirms, and tells the old one', async () => {
    const { session, email, password } = await signup();
    const next = uniqueEmail('moved');
    const wrong = await session.json('/auth/email', {
      method: 'POST',
      json: { email: next, password: 'wrong password!' },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.fields).toHaveProperty('password');
    expect(
      (await session.fetch('/auth/email', { method: 'POST', json: { email: next, password } })).status,
    ).toBe(202);
    const mail = await waitForMail(next, 'confirm your e-mail');
    // not changed until confirmed
    expect((await session.json('/auth/me')).body.user.email).toBe(email);
    const ok = await new Session().json('/auth/verify-email', {
      method: 'POST',
      json: { token: mail.token },
    });
    expect(ok.body).toEqual({ kind: 'change_email', email: next });
    const me = await session.json('/auth/me');
    expect(me.body.user.email).toBe(next);
    expect(me.body.account.alertEmails).toEqual([next]);
    const notice = await waitForMail(email, 'was changed');
    expect(notice.text).toContain(next);
    expect((await login(next, password)).r.status).toBe(200);
    expect((await login(email, password)).r.status).toBe(401);
  });
});

describe('password reset and change', () => {
  it('answers the same whether or not the address exists, and mails only a real one', async () => {
    const { email } = await signup();
    const nobody = uniqueEmail('nobody');
    const ip = clientIp();
    const known = await new Session().fetch('/auth/password-reset/request', {
      method: 'POST',
      json: { email },
      headers: { 'cf-connecting-ip': ip },
    });
    const unknown = await new Session().fetch('/auth/password-reset/request', {
      method: 'POST',
      json: { email: nobody },
      headers: { 'cf-connecting-ip': ip },
    });
    expect([known.status, unknown.status]).toEqual([202, 202]);
    expect([await known.text(), await unknown.text()]).toEqual(['', '']);
    expect(known.headers.get('content-type')).toBe(unknown.headers.get('content-type'));
    await waitForMail(email, 'reset your password');
    expect(await mailsTo(nobody)).toEqual([]);
  });

  it('resets with a single-use link, ends every session, and the old password stops working', async () => {
    const { session, email, password } = await signup();
    const second = (await login(email, password)).s;
    await new Session().fetch('/auth/password-reset/request', {
      method: 'POST',
      json: { email },
      headers: { 'cf-connecting-ip': clientIp() },
    });
    const mail = await waitForMail(email, 'reset your password');
    expect(mail.link).toMatch(/\/reset-password#token=/);
    const weak = await new Session().json('/auth/password-reset', {
      method: 'POST',
      json: { token: mail.token, password: 'short' },
    });
    expect(weak.status).toBe(422);
    const newPassword = 'a brand new passphrase';
    const ok = await new Session().fetch('/auth/password-reset', {
      method: 'POST',
      json: { token: mail.token, password: newPassword },
    });
    expect(ok.status).toBe(204);
    expect((await session.json('/auth/me')).status).toBe(401);
    expect((await second.json('/auth/me')).status).toBe(401);
    const reuse = await new Session().json('/auth/password-reset', {
      method: 'POST',
      json: { token: mail.token, password: 'yet another passphrase' },
    });
    expect(reuse.status).toBe(404);
    expect((await login(email, password)).r.status).toBe(401);
    expect((await login(email, newPassword)).r.status).toBe(200);
    await waitForMail(email, 'password was changed');
  });

  it('refuses an expired reset link', async () => {
    const { email } = await signup();
    await new Session().fetch('/auth/password-reset/request', {
      method: 'POST',
      json: { email },
      headers: { 'cf-connecting-ip': clientIp() },
    });
    const mail = await waitForMail(email, 'reset your password');
    await sql(
      "update auth_tokens set expires_at = now() - interval '1 second' where kind = 'reset_password' and email = $1",
      [email],
    );
    const r = await new Session().json('/auth/password-reset', {
      method: 'POST',
      json: { token: mail.token, password: 'a brand new passphrase' },
    });
    expect(r.status).toBe(404);
  });

  it('rate-limits reset requests per address, the same for an unknown one', async () => {
    const { email } = await signup();
    for (const address of [email, uniqueEmail('ghost')]) {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await new Session().fetch('/auth/password-reset/request', {
          method: 'POST',
          json: { email: address },
          headers: { 'cf-connecting-ip': clientIp() },
        });
        statuses.push(r.status);
      }
      expect(statuses).toEqual([202, 202, 202, 429]);
    }
  });

  it('changes the password in Settings with the current one, ending the other sessions only', async () => {
    const { session, email, password } = await signup();
    const other = (await login(email, password)).s;
    const wrong = await session.json('/auth/password', {
      method: 'POST',
      json: { currentPassword: 'not the password', newPassword: 'another long password' },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.fields).toHaveProperty('currentPassword');
    const ok = await session.fetch('/auth/password', {
      method: 'POST',
      json: { currentPassword: password, newPassword: 'another long password' },
    });
    expect(ok.status).toBe(204);
    expect((await session.json('/auth/me')).status).toBe(200);
    expect((await other.json('/auth/me')).status).toBe(401);
    expect((await login(email, 'another long password')).r.status).toBe(200);
  });
});

describe('two-factor authentication (TOTP)', () => {
  it('is set up with a code, then required at log-in; codes and recovery codes work once', async () => {
    const { session, email, password } = await signup();
    const badSetup = await session.json('/auth/2fa/setup', {
      method: 'POST',
      json: { password: 'wrong one!' },
    });
    expect(badSetup.status).toBe(422);
    const setup = await session.json('/auth/2fa/setup', { method: 'POST', json: { password } });
    expect(setup.body.uri).toBe(
      `otpauth://totp/Resistro%3A${encodeURIComponent(email)}?secret=${setup.body.secret}&issuer=Resistro&algorithm=SHA1&digits=6&period=30`,
    );
    const wrongCode = String((Number(await code(setup.body.secret)) + 500_000) % 1_000_000).padStart(6, '0');
    expect(
      (await session.json('/auth/2fa/enable', { method: 'POST', json: { code: wrongCode } })).status,
    ).toBe(422);
    // not in force yet: logging in needs no code
    expect((await login(email, password)).r.body.user.email).toBe(email);
    const enabled = await session.json('/auth/2fa/enable', {
      method: 'POST',
      json: { code: await code(setup.body.secret) },
    });
    expect(enabled.status).toBe(200);
    const recovery: string[] = enabled.body.recoveryCodes;
    expect(recovery).toHaveLength(10);
    expect(new Set(recovery).size).toBe(10);
    const stored = await sql(
      'select code_hash from recovery_codes where user_id = (select id from users where email = $1)',
      [email],
    );
    expect(stored).toHaveLength(10);
    for (const r of stored) expect(recovery.map((c) => c.replace('-', ''))).not.toContain(r.code_hash);
    expect((await session.json('/auth/me')).body.user.twoFactorEnabled).toBe(true);

    // the password alone gives no session, only a challenge
    const { s, r } = await login(email, password);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ twoFactorRequired: true });
    expect(r.body.user).toBeUndefined();
    expect(s.cookie).toBe('');
    expect((await s.json('/auth/me')).status).toBe(401);
    const wrong = await s.json('/auth/login/2fa', {
      method: 'POST',
      json: { challenge: r.body.challenge, code: wrongCode },
    });
    expect(wrong.status).toBe(422);
    // the code that enabled 2FA was used already; the next step's code is new. Codes from one
    // step later are accepted (clock drift), so take that one.
    const next = await code(setup.body.secret, Date.now() + 30_000);
    const ok = await s.json('/auth/login/2fa', {
      method: 'POST',
      json: { challenge: r.body.challenge, code: next },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.user.email).toBe(email);
    expect((await s.json('/auth/me')).status).toBe(200);
    // the challenge is spent, and the same code does not work a second time
    const replay = await login(email, password);
    const again = await replay.s.json('/auth/login/2fa', {
      method: 'POST',
      json: { challenge: replay.r.body.challenge, code: next },
    });
    expect(again.status).toBe(422);
    const spent = await s.json('/auth/login/2fa', {
      method: 'POST',
      json: { challenge: r.body.challenge, code: next },
    });
    expect(spent.status).toBe(401);
    // a recovery code works once
    const viaRecovery = await replay.s.json('/auth/login/2fa', {
      method: 'POST',
      json: { challenge: replay.r.body.challenge, code: recovery[0] },
    });
    expect(viaRecovery.status).toBe(200);
    const third = await login(email, password);
    const reused = await third.s.json('/auth/login/2fa', {
      method: 'POST',
      json: { challenge: third.r.body.challenge, code: recovery[0] },
    });
    expect(reused.status).toBe(422);
  });

  it('refuses an expired log-in challenge', async () => {
    const { session, email, password } = await signup();
    const { secret } = await enable2fa(session, password);
    const { s, r } = await login(email, password);
    await sql(
      "update auth_tokens set expires_at = now() - interval '1 second' where kind = 'login_2fa' and user_id = (select id from users where email = $1)",
      [email],
    );
    const late = await s.json('/auth/login/2fa', {
      method: 'POST',
      json: { challenge: r.body.challenge, code: await code(secret, Date.now() + 30_000) },
    });
    expect(late.status).toBe(401);
  });

  it('lets an owner require 2FA for the team only with their own on, and then it cannot be turned off', async () => {
    const { session, password } = await signup();
    const refused = await session.json('/account/security', { method: 'PATCH', json: { require2fa: true } });
    expect(refused.status).toBe(409);
    const { secret } = await enable2fa(session, password);
    const on = await session.json('/account/security', { method: 'PATCH', json: { require2fa: true } });
    expect(on.status).toBe(200);
    expect(on.body.account.require2fa).toBe(true);
    const off = await session.json('/auth/2fa/disable', {
      method: 'POST',
      json: { password, code: await code(secret, Date.now() + 30_000) },
    });
    expect(off.status).toBe(403);
    const offAgain = await session.json('/account/security', {
      method: 'PATCH',
      json: { require2fa: false },
    });
    expect(offAgain.body.account.require2fa).toBe(false);
  });

  it('locks a member without 2FA out of everything but its setup while the team requires it', async () => {
    const { session, password, user, account } = await signup();
    await sql('update accounts set require_2fa = true where id = $1', [account.id]);
    const blocked = await session.json('/databases');
    expect(blocked.status).toBe(403);
    expect(blocked.body.error.message).toMatch(/two-factor/);
    expect((await session.json('/auth/me')).status).toBe(200);
    await enable2fa(session, password);
    expect((await session.json('/databases')).status).toBe(200);
    expect(user.twoFactorEnabled).toBe(false);
  });
});

describe('TOTP seeds at rest', () => {
  const storedSeed = async (userId: string): Promise<string> =>
    (await sql('select totp_secret from users where id = $1', [userId]))[0].totp_secret;
  /** Opens a stored seed with the key the stack gave the worker (DATA_ENCRYPTION_KEYS). */
  const openWithServiceKey = async (stored: string, userId: string) =>
    (await open(await importKeyring(stackInfo().vars.DATA_ENCRYPTION_KEYS!), stored, `totp:${userId}`))
      .plaintext;
  /** A log-in with the password and a code of the step after the one that enabled 2FA. */
  async function loginWithCode(email: string, password: string, secret: string) {
    const { s, r } = await login(email, password);
    expect(r.body.twoFactorRequired).toBe(true);
    return s.json('/auth/login/2fa', {
      method: 'POST',
      json: { challenge: r.body.challenge, code: await code(secret, Date.now() + 30_000) },
    });
  }

  it("holds no plaintext: the column is sealed with the service's key, and log-in with a code works", async () => {
    const { session, email, password, user } = await signup();
    const setup = await session.json('/auth/2fa/setup', { method: 'POST', json: { password } });
    // sealed from the setup on, before 2FA is even in force
    const pending = await storedSeed(user.id);
    expect(pending).not.toContain(setup.body.secret);
    expect(pending).toMatch(/^sb1\.local-[0-9a-f]{8}\.[\w-]+\.[\w-]+$/);
    const enabled = await session.json('/auth/2fa/enable', {
      method: 'POST',
      json: { code: await code(setup.body.secret) },
    });
    expect(enabled.status).toBe(200);
    const stored = await storedSeed(user.id);
    expect(stored).toBe(pending);
    expect(stored.toUpperCase()).not.toContain(setup.body.secret.slice(0, 8));
    expect(await openWithServiceKey(stored, user.id)).toBe(setup.body.secret);
    const ok = await loginWithCode(email, password, setup.body.secret);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.user.email).toBe(email);
  });

  it("does not open in another user's row: a seed copied there gives no log-in", async () => {
    const a = await signup();
    const { secret } = await enable2fa(a.session, a.password);
    const b = await signup();
    await enable2fa(b.session, b.password);
    await sql('update users set totp_secret = $1 where id = $2', [await storedSeed(a.user.id), b.user.id]);
    const { s, r } = await login(b.email, b.password);
    const refused = await s.json('/auth/login/2fa', {
      method: 'POST',
      json: { challenge: r.body.challenge, code: await code(secret, Date.now() + 30_000) },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('validation_failed');
    expect(s.cookie).toBe('');
  });

  it('seals a seed stored before encryption when it is next used, and log-in keeps working', async () => {
    const { session, email, password, user } = await signup();
    const { secret } = await enable2fa(session, password);
    // a row as the service wrote it before seeds were sealed
    await sql('update users set totp_secret = $1 where id = $2', [secret, user.id]);
    const ok = await loginWithCode(email, password, secret);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const stored = await storedSeed(user.id);
    expect(stored).not.toContain(secret);
    expect(stored.startsWith('sb1.')).toBe(true);
    expect(await openWithServiceKey(stored, user.id)).toBe(secret);
  });

  it('seals the seeds of users who do not log in on the next cron run', async () => {
    const { session, email, password, user } = await signup();
    const { secret } = await enable2fa(session, password);
    await sql('update users set totp_secret = $1 where id = $2', [secret, user.id]);
    await runCron();
    const stored = await storedSeed(user.id);
    expect(stored.startsWith('sb1.')).toBe(true);
    expect(await openWithServiceKey(stored, user.id)).toBe(secret);
    expect((await loginWithCode(email, password, secret)).status).toBe(200);
  });
});

describe('audit log', () => {
  it('records logins, failures, 2FA, password and session changes with the user and IP, no secrets', async () => {
    const { session, email, password, account } = await signup();
    const ip = clientIp();
    await login(email, 'wrong password!', { 'cf-connecting-ip': ip });
    const { s } = await login(email, password, { 'cf-connecting-ip': ip });
    const { secret } = await enable2fa(session, password);
    const second = await login(email, password);
    await second.s.json('/auth/login/2fa', {
      method: 'POST',
      json: { challenge: second.r.body.challenge, code: '000000' },
    });
    await second.s.json('/auth/login/2fa', {
      method: 'POST',
      json: { challenge: second.r.body.challenge, code: await code(secret, Date.now() + 30_000) },
    });
    const list = await session.json('/auth/sessions');
    const other = list.body.items.find((i: any) => !i.current);
    await session.fetch(`/auth/sessions/${other.id}`, { method: 'DELETE' });
    await session.fetch('/auth/password', {
      method: 'POST',
      json: { currentPassword: password, newPassword: 'another long password' },
    });
    expect((await s.json('/auth/me')).status).toBe(401);
    const rows = await sql(
      'select action, actor_kind, actor_id, ip, details::text as details from audit_log where account_id = $1 order by at, id',
      [account.id],
    );
    const actions = rows.map((r) => r.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'account.created',
        'auth.login_failed',
        'auth.login',
        'auth.2fa_enabled',
        'session.revoked',
        'auth.password_changed',
      ]),
    );
    expect(
      actions.filter((a) => a === 'auth.login_failed'),
      JSON.stringify(rows),
    ).toHaveLength(2);
    const failed = rows.find((r) => r.action === 'auth.login_failed');
    const [user] = await sql('select id from users where email = $1', [email]);
    expect(failed).toMatchObject({ actor_kind: 'user', actor_id: user.id, ip });
    expect(rows.find((r) => r.details.includes('password+totp'))).toBeDefined();
    const all = JSON.stringify(rows);
    for (const secretText of [password, 'wrong password!', secret]) expect(all).not.toContain(secretText);
  });
});

describe('sessions', () => {
  it('lists the sessions with device, network and last seen, ends one, and logs out everywhere', async () => {
    const { email, password } = await signup();
    const chrome =
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
    const firefox = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';
    const a = (await login(email, password, { 'user-agent': chrome, 'cf-connecting-ip': '203.0.113.77' })).s;
    const b = (
      await login(email, password, { 'user-agent': firefox, 'cf-connecting-ip': '2001:db8:85a3:1:2::7' })
    ).s;
    const list = await a.json('/auth/sessions');
    expect(list.status).toBe(200);
    const mine = list.body.items.find((i: any) => i.current);
    expect(mine).toMatchObject({
      browser: 'Chrome',
      os: 'Linux',
      ipPrefix: '203.0.113.0/24',
      method: 'password',
    });
    const theirs = list.body.items.find((i: any) => i.browser === 'Firefox');
    expect(theirs).toMatchObject({ os: 'Windows', ipPrefix: '2001:db8:85a3::/48', current: false });
    expect(Date.parse(theirs.lastSeenAt)).toBeGreaterThan(0);
    // no full address is stored
    const stored = await sql(
      'select ip_prefix from sessions where user_id = (select id from users where email = $1)',
      [email],
    );
    expect(JSON.stringify(stored)).not.toContain('203.0.113.77');
    // another user's session id is not found
    const stranger = await signup();
    expect((await stranger.session.fetch(`/auth/sessions/${theirs.id}`, { method: 'DELETE' })).status).toBe(
      404,
    );
    expect((await b.json('/auth/me')).status).toBe(200);
    expect((await a.fetch(`/auth/sessions/${theirs.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await b.json('/auth/me')).status).toBe(401);
    expect((await a.json('/auth/me')).status).toBe(200);
    const c = (await login(email, password)).s;
    const all = await a.json('/auth/sessions/revoke-all', { method: 'POST' });
    expect(all.body.revoked).toBeGreaterThanOrEqual(3);
    expect((await a.json('/auth/me')).status).toBe(401);
    expect((await c.json('/auth/me')).status).toBe(401);
  });

  it('are about the logged-in user: API keys are refused', async () => {
    const { session } = await signup();
    const key = await session.json('/api-keys', { method: 'POST', json: { name: 'k', scope: 'full' } });
    const r = await fetch(`${session.url}/api/v1/auth/sessions`, {
      headers: { authorization: `Bearer ${key.body.secret}` },
    });
    expect(r.status).toBe(403);
  });
});
