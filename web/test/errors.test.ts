// What goes wrong, in a real browser against the local stack: every failure shows the server's
// own message, and nothing is lost.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWithDatabase, signup, sql, stackInfo, uniqueEmail } from '../../scripts/test/api.ts';
import { launchBrowser, logIn, openPage } from './browser.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** The text of the message that belongs to a control (through aria-describedby). */
async function fieldError(page: Page, selector: string): Promise<string | null> {
  return page.locator(selector).evaluate((el) => {
    const ids = (el.getAttribute('aria-describedby') ?? '').split(' ');
    const node = ids
      .map((id) => document.getElementById(id))
      .find((n) => n?.classList.contains('field-error'));
    return node?.textContent ?? null;
  });
}

describe('error paths in the browser', () => {
  it("refuses a wrong password with the server's message", async () => {
    const { email } = await signup();
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${stackInfo().url}/login`);
    await logIn(page, email, 'not the password at all');
    await expect(page.getByRole('alert').textContent()).resolves.toContain(
      'The e-mail address or the password is wrong',
    );
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('says that an e-mail address is already registered, at the field', async () => {
    const { email } = await signup();
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${stackInfo().url}/signup`);
    await page.getByLabel('E-mail address').fill(email.toUpperCase());
    await page.getByLabel('Password').fill('another good passphrase');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain(
      'An account with this e-mail address already exists',
    );
    await expect(fieldError(page, '#signup-email')).resolves.toBe('is already registered');
    await expect(page.locator('#signup-email').getAttribute('aria-invalid')).resolves.toBe('true');
    expect(errors).toEqual([]);
    await context.close();
  });

  it("marks each invalid database field, then shows the server's refusal over the plan limit", async () => {
    const acct = await accountWithDatabase({ plan: 'starter' });
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${stackInfo().url}/login?next=%2Fdatabases%2Fnew`);
    await logIn(page, acct.email, acct.password);
    await page.waitForURL('**/databases/new');

    await page.locator('#db-host').fill('bad host!');
    await page.locator('#db-port').fill('0');
    await page.getByLabel('Cron', { exact: true }).check();
    await page.locator('#db-cron').fill('every night');
    await page.locator('#db-retention').fill('8');
    await page.getByRole('button', { name: 'Add database' }).click();

    await expect(fieldError(page, '#db-name')).resolves.toBe('This field is required.');
    await expect(fieldError(page, '#db-host')).resolves.toMatch(/Enter a host name or IP address/);
    await expect(fieldError(page, '#db-port')).resolves.toBe('Enter a port between 1 and 65535.');
    await expect(fieldError(page, '#db-database')).resolves.toBe('This field is required.');
    await expect(fieldError(page, '#db-user')).resolves.toBe('This field is required.');
    await expect(fieldError(page, '#db-password')).resolves.toBe(
      'Enter the password; it is encrypted for the chosen agent.',
    );
    await expect(fieldError(page, '#db-cron')).resolves.toBe(
      'Enter a cron expression with 5 fields, e.g. "0 2 * * *".',
    );
    await expect(fieldError(page, '#db-retention')).resolves.toBe(
      'Enter a whole number of days from 1 to 7.',
    );
    // Keyboard users land on the first field to fix.
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('db-name');

    // The same page in German says the same in German.
    await page.getByLabel('Language').selectOption('de');
    // The German texts are their own chunk, fetched on the switch: the message changes once it is in.
    await expect
      .poll(() => fieldError(page, '#db-port'))
      .toBe('Geben Sie einen Port zwischen 1 und 65535 ein.');
    await page.getByLabel('Sprache').selectOption('en');

    await page.locator('#db-name').fill('Second');
    await page.locator('#db-host').fill('127.0.0.1');
    await page.locator('#db-port').fill('5432');
    await page.locator('#db-database').fill('second');
    await page.locator('#db-user').fill('backup');
    await page.locator('#db-password').fill('s3cret');
    await page.locator('#db-cron').fill('15 3 * * 1-5');
    await page.locator('#db-retention').fill('7');
    await expect(page.getByTestId('next-runs').locator('li').count()).resolves.toBe(5);
    await page.getByRole('button', { name: 'Add database' }).click();
    await expect(page.getByRole('alert').first().textContent()).resolves.toContain(
      'The Starter plan allows 1 database; upgrade to add more',
    );
    // Nothing typed is lost.
    await expect(page.locator('#db-name').inputValue()).resolves.toBe('Second');
    expect(new URL(page.url()).pathname).toBe('/databases/new');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('sends an expired session to the login page and then back to where the user was', async () => {
    const { email, password, user } = await signup();
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${stackInfo().url}/login?next=%2Fsettings`);
    await logIn(page, email, password);
    await page.waitForURL('**/settings');
    await page.locator('#keys-title').waitFor();
    // Every section has loaded; the next request is the one that meets the expired session.
    await page.getByText('No channels').waitFor();
    await page.waitForLoadState('networkidle');

    await sql(`update sessions set expires_at = now() - interval '1 minute' where user_id = $1`, [user.id]);
    await page.locator('.sidebar').getByRole('link', { name: 'Databases' }).click();
    await page.waitForURL((u) => u.pathname === '/login');
    const at = new URL(page.url());
    expect(at.searchParams.get('next')).toBe('/databases');
    await expect(page.getByText('Your session has expired.', { exact: false }).count()).resolves.toBe(1);

    await logIn(page, email, password);
    await page.waitForURL((u) => u.pathname === '/databases');
    await page.getByRole('heading', { name: 'Databases', level: 1 }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it("shows the server's conflict when a running backup is deleted, and keeps the backup", async () => {
    const acct = await accountWithDatabase();
    const { backup } = await acct.client.startBackup({
      databaseId: acct.database.id,
      trigger: 'manual',
      agentId: acct.agent.id,
    });
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${stackInfo().url}/login?next=%2Fbackups`);
    await logIn(page, acct.email, acct.password);
    const row = page.locator(`tr[data-backup-id="${backup.id}"]`);
    await row.waitFor();
    await expect(row.getAttribute('data-status')).resolves.toBe('running');
    // A running backup cannot be downloaded yet: no button for it.
    await expect(row.getByRole('button', { name: /^Download/ }).count()).resolves.toBe(0);

    await row.getByRole('button', { name: /^Delete/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await expect(dialog.getByRole('alert').textContent()).resolves.toContain('This backup is still running');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(row.count()).resolves.toBe(1);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('explains why a new account cannot use an e-mail address that is not one', async () => {
    const { page, context } = await openPage(browser, { locale: 'de-DE' });
    await page.goto(`${stackInfo().url}/signup`);
    await page.getByLabel('E-Mail-Adresse').fill(uniqueEmail().replace('@', ' at '));
    await page.getByLabel('Passwort').fill('kurz');
    await page.getByRole('button', { name: 'Konto erstellen' }).click();
    await expect(fieldError(page, '#signup-email')).resolves.toBe(
      'Geben Sie eine gültige E-Mail-Adresse ein, z. B. name@example.com.',
    );
    await expect(fieldError(page, '#signup-password')).resolves.toBe('Verwenden Sie mindestens 10 Zeichen.');
    await context.close();
  });
});
