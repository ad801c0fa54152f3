// One language per account, in a real browser: the dashboard, the server's messages and the dates
// follow the account's language and time zone once logged in, whatever the browser prefers;
// before log-in the page's language decides.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWithDatabase, stackInfo, uniqueEmail } from '../../scripts/test/api.ts';
import { launchBrowser, openPage } from './browser.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

async function me(page: Page) {
  return page.evaluate(async () => (await fetch('/api/v1/auth/me')).json());
}

describe('the account language in the browser', () => {
  it('signs up in German from a German browser, and the server answers in German', async () => {
    const { page, context, errors } = await openPage(browser, { locale: 'de-DE' });
    await page.goto(`${stackInfo().url}/login`);
    await page.locator('#login-email').fill(uniqueEmail('nobody'));
    await page.locator('#login-password').fill('not the password at all');
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain(
      'E-Mail-Adresse oder Passwort ist falsch',
    );

    await page.goto(`${stackInfo().url}/signup`);
    await page.locator('#signup-email').fill(uniqueEmail('de'));
    await page.locator('#signup-password').fill('eine lange Passphrase');
    await page.getByRole('button', { name: 'Konto erstellen' }).click();
    // Sign-up leads to the plan's checkout (plans are paid); the account exists from here on.
    await page.waitForURL('**/checkout?plan=*');
    const { account } = await me(page);
    expect(account).toMatchObject({ language: 'de', timeZone: 'Europe/Berlin' });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows a German account in German in an English browser, plan limit included, until Settings switch it', async () => {
    const acct = await accountWithDatabase({ plan: 'starter' });
    const set = await acct.session.json('/account', {
      method: 'PATCH',
      json: { language: 'de', timeZone: 'Europe/Berlin' },
    });
    expect(set.status).toBe(200);
    const { page, context, errors } = await openPage(browser, { locale: 'en-GB' });
    await page.goto(`${stackInfo().url}/login?next=%2Fdatabases%2Fnew`);
    await page.locator('#login-email').fill(acct.email);
    await page.locator('#login-password').fill(acct.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL('**/databases/new');
    // the account's language: its texts are fetched once the log-in says which (a chunk of its own)
    await page.locator('html[lang="de"]').waitFor({ state: 'attached' });

    await page.locator('#db-name').fill('Zweite');
    await page.locator('#db-host').fill('127.0.0.1');
    await page.locator('#db-port').fill('5432');
    await page.locator('#db-database').fill('zweite');
    await page.locator('#db-user').fill('backup');
    await page.locator('#db-password').fill('s3cret');
    await page.getByRole('button', { name: 'Datenbank hinzufügen' }).click();
    await expect(page.getByRole('alert').first().textContent()).resolves.toContain(
      'Der Plan Starter erlaubt 1 Datenbank; wechseln Sie in einen größeren Plan, um weitere hinzuzufügen',
    );
    const body = (await page.locator('main').textContent()) ?? '';
    expect(body).not.toMatch(/\(en\)|\(s\)/);

    await page.goto(`${stackInfo().url}/settings#language`);
    await page.getByRole('heading', { name: 'Sprache und Zeitzone' }).waitFor();
    await page.locator('#account-language').selectOption('en');
    // Settings has several forms with a "Speichern" button (SSO, second storage location…): this one's.
    await page.locator('section#language').getByRole('button', { name: 'Speichern' }).click();
    await page.getByRole('heading', { name: 'Language and time zone' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Language and time zone' }).waitFor();
    expect((await me(page)).account.language).toBe('en');
    expect(errors).toEqual([]);
    await context.close();
  });
});
