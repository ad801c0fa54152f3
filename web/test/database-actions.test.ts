// The database detail page's actions, and the dashboard used with the keyboard alone.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWithDatabase, stackInfo } from '../../scripts/test/api.ts';
import { launchBrowser, logIn, openPage } from './browser.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

async function logInTo(page: Page, email: string, password: string, next: string) {
  await page.goto(`${stackInfo().url}/login?next=${encodeURIComponent(next)}`);
  await logIn(page, email, password);
}

describe('database actions in the browser', () => {
  it('pauses, resumes and, after confirmation, deletes a database', async () => {
    const acct = await accountWithDatabase();
    const { page, context, errors } = await openPage(browser);
    await logInTo(page, acct.email, acct.password, `/databases/${acct.database.id}`);
    await page.getByRole('heading', { name: 'Shop', level: 1 }).waitFor();
    const header = page.locator('.page-header');
    await header.getByText('Active').waitFor();

    await page.getByRole('button', { name: 'Pause' }).click();
    await header.getByText('Paused').waitFor();
    await page.getByText('This database is paused').waitFor();
    await expect(page.getByRole('button', { name: 'Back up now' }).isDisabled()).resolves.toBe(true);
    await expect(page.getByText(/No run scheduled/).count()).resolves.toBe(1);

    await page.getByRole('button', { name: 'Resume' }).click();
    await header.getByText('Active').waitFor();
    await expect(page.getByRole('button', { name: 'Back up now' }).isDisabled()).resolves.toBe(false);

    // Delete asks first; Cancel keeps everything.
    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Delete Shop?').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(new URL(page.url()).pathname).toBe(`/databases/${acct.database.id}`);

    await page.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete database' }).click();
    await page.waitForURL((u) => u.pathname === '/databases');
    await page.getByText('No databases yet').waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('works with the keyboard alone: log in, skip to the content, open and close a dialog', async () => {
    const acct = await accountWithDatabase();
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${stackInfo().url}/login`);
    await page.locator('#login-email').waitFor();
    // Tab order: language, e-mail, password, the button; Enter submits.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('login-email');
    await page.keyboard.type(acct.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(acct.password);
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname === '/');
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();

    // The first Tab reaches the skip link; it moves focus past the navigation.
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Skip to content');
    await page.keyboard.press('Enter');
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('main');

    // Navigate to the database with the keyboard and open the delete dialog; Escape closes it.
    await page.goto(`${stackInfo().url}/databases/${acct.database.id}`);
    const del = page.getByRole('button', { name: 'Delete' });
    await del.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    // Focus is inside the modal dialog.
    await expect(page.evaluate(() => Boolean(document.activeElement?.closest('dialog')))).resolves.toBe(true);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(errors).toEqual([]);
    await context.close();
  });
});
