// Issue 16 "done when", identity part, in a real browser against the local stack and mail sink:
// sign up, confirm the address from the e-mail, turn on 2FA from the QR code's secret, log in
// with a code, forget the password and reset it (the old session ends), end a session.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signup, stackInfo, uniqueEmail, waitForMail } from '../../scripts/test/api.ts';
import { base32Decode, totp } from '../../worker/src/accounts/totp.ts';
import { launchBrowser, logIn, openPage, screenshot } from './browser.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const codeFor = (secret: string, offsetSteps = 0) =>
  totp(base32Decode(secret), Math.floor(Date.now() / 1000) + offsetSteps * 30);

describe('identity in the browser', () => {
  it('signs up, verifies from the mail, sets up 2FA, logs in with a code, resets the password', async () => {
    const url = stackInfo().url;
    const email = uniqueEmail('browser-id');
    const password = 'correct horse battery staple';
    const { page, context, errors } = await openPage(browser);

    // Sign up: the address is marked as not confirmed until the link is opened.
    await page.goto(`${url}/signup`);
    await page.locator('#signup-email').fill(email);
    await page.locator('#signup-password').fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByTestId('verify-banner').waitFor();
    const mail = await waitForMail(email, 'confirm your e-mail');
    await page.goto(mail.link!);
    await page.getByText(`${email} is confirmed.`).waitFor();
    // the token left the address bar
    expect(page.url()).not.toContain('token=');
    await page.goto(`${url}/settings#security`);
    await page.locator('#security-title').waitFor();
    await expect(page.getByTestId('verify-banner').count()).resolves.toBe(0);

    // 2FA: the QR code is an image drawn here (a data: URL, no outside service), with the key.
    await page.getByRole('button', { name: 'Set up two-factor authentication' }).click();
    await page.locator('#twofa-password').fill(password);
    await page.getByRole('button', { name: 'Set up two-factor authentication' }).click();
    const qr = page.getByAltText('QR code for your authenticator app');
    await qr.waitFor();
    await expect(qr.getAttribute('src')).resolves.toMatch(/^data:image\/svg\+xml/);
    const secret = (await page.getByTestId('totp-secret').textContent())!;
    await page.locator('#twofa-code').fill(await codeFor(secret));
    await page.getByRole('button', { name: 'Turn on' }).click();
    const recovery = page.getByTestId('recovery-codes');
    await recovery.waitFor();
    await expect(recovery.locator('li').count()).resolves.toBe(10);
    const recoveryCodes = await recovery.locator('li').allTextContents();
    await screenshot(page, 'identity-recovery-codes');
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await expect(page.getByTestId('2fa-state').textContent()).resolves.toContain('On.');

    // Log out and in again: the password alone is not enough.
    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await page.locator('#login-email').waitFor();
    await logIn(page, email, password);
    await page.locator('#login-code').waitFor();
    await page.locator('#login-code').fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByText('The code is wrong or was already used').waitFor();
    await page.locator('#login-code').fill(await codeFor(secret, 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));

    // The sessions list shows this browser; a second one (another context) can be ended here.
    const other = await openPage(browser);
    await other.page.goto(`${url}/login`);
    await logIn(other.page, email, password);
    // a code works once, and the newest step was used above: this browser takes a recovery code
    await other.page.locator('#login-code').fill(recoveryCodes[0]!);
    await other.page.getByRole('button', { name: 'Verify' }).click();
    await other.page.waitForURL((u) => !u.pathname.startsWith('/login'));
    await page.goto(`${url}/settings#security`);
    await page.locator('.sessions-table tbody tr').nth(1).waitFor();
    await expect(page.locator('.sessions-table tbody tr').count()).resolves.toBe(2);
    await expect(page.locator('.sessions-table').textContent()).resolves.toContain('this session');
    await screenshot(page, 'identity-security-settings');
    await page
      .locator('.sessions-table tbody tr')
      .getByRole('button', { name: /End the session/ })
      .click();
    await page.getByText('Session ended.').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('.sessions-table tbody tr').length === 1);
    await expect(page.locator('.sessions-table tbody tr').textContent()).resolves.toContain('this session');
    await other.page.goto(`${url}/settings`);
    await other.page.locator('#login-email').waitFor();
    expect(other.errors).toEqual([]);
    await other.context.close();

    // Forgot the password: the answer does not say whether the address exists; the link resets
    // it and ends the session this browser still holds.
    const reset = await openPage(browser);
    await reset.page.goto(`${url}/login`);
    await reset.page.getByRole('link', { name: 'Forgot your password?' }).click();
    await reset.page.locator('#forgot-email').fill(email);
    await reset.page.getByRole('button', { name: 'Send link' }).click();
    await reset.page.getByText(`If an account uses ${email}, a link is on its way.`).waitFor();
    const resetMail = await waitForMail(email, 'reset your password');
    await reset.page.goto(resetMail.link!);
    await reset.page.locator('#reset-password').fill('a completely new passphrase');
    await reset.page.getByRole('button', { name: 'Set password' }).click();
    await reset.page.getByText('Your password is changed.').waitFor();
    expect(reset.errors).toEqual([]);
    await reset.context.close();
    await page.goto(`${url}/settings`);
    await page.locator('#login-email').waitFor();
    await logIn(page, email, 'a completely new passphrase');
    await page.locator('#login-code').fill(recoveryCodes[1]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.locator('#security-title').waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('logs a member of an Enterprise account in through the local OIDC provider', async () => {
    const url = stackInfo().url;
    const oidc = inject('stack').oidc;
    const domain = `sso-${process.pid}-${Date.now()}.test`;
    const owner = await signup({ plan: 'enterprise' });
    const r = await owner.session.json('/account/sso', {
      method: 'PATCH',
      json: {
        issuer: oidc.issuer,
        clientId: oidc.clientId,
        clientSecret: oidc.clientSecret,
        domains: [domain],
        enabled: true,
      },
    });
    expect(r.status).toBe(200);
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${url}/login`);
    await page.locator('#login-email').fill(`dana@${domain}`);
    await page.getByRole('button', { name: 'Use single sign-on (SSO)' }).click();
    // the provider's own page, with the address handed over as login_hint
    await page.locator('#oidc-email').waitFor();
    await expect(page.locator('#oidc-email').inputValue()).resolves.toBe(`dana@${domain}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${url}/`);
    await page.locator('.topbar-user').waitFor();
    await expect(page.locator('.topbar-user').textContent()).resolves.toBe(`dana@${domain}`);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows the security settings in German', async () => {
    const url = stackInfo().url;
    const email = uniqueEmail('browser-de');
    const { page, context, errors } = await openPage(browser, { locale: 'de-DE' });
    await page.goto(`${url}/signup`);
    await page.locator('#signup-email').fill(email);
    await page.locator('#signup-password').fill('correct horse battery staple');
    await page.locator('form button[type="submit"]').click();
    await page.getByTestId('verify-banner').waitFor();
    await expect(page.getByTestId('verify-banner').textContent()).resolves.toContain('Bitte bestätigen Sie');
    await page.goto(`${url}/settings#security`);
    await page.getByRole('heading', { name: 'Sicherheit' }).waitFor();
    await page.getByRole('button', { name: 'Zwei-Faktor-Anmeldung einrichten' }).waitFor();
    await page.getByRole('button', { name: 'Überall abmelden' }).waitFor();
    await screenshot(page, 'identity-security-settings-de');
    expect(errors).toEqual([]);
    await context.close();
  });
});
