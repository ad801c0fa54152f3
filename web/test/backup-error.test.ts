// A failed backup's cause in the browser (issue 9 §4): the agent reports a code beside its English
// text; a German account reads the cause and hint in German on the database page ("Letzter Fehler"
// and the error log), with the tool's own words below, untranslated, as "Ausgabe des Werkzeugs".
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWithDatabase, stackInfo } from '../../scripts/test/api.ts';
import { launchBrowser, openPage } from './browser.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const STDERR =
  'backup of "Shop" failed: pg_dump exited with code 1\nstderr: pg_dump: error: FATAL:  database "shop" does not exist';

describe('the cause of a failed backup on the database page', () => {
  it('is in German for a German account, with the tool output untranslated', async () => {
    const acct = await accountWithDatabase();
    await acct.session.json('/account', {
      method: 'PATCH',
      json: { language: 'de', timeZone: 'Europe/Berlin' },
    });
    const { backup } = await acct.client.startBackup({ databaseId: acct.database.id, trigger: 'schedule' });
    await acct.client.failBackup(backup.id, {
      error: STDERR,
      errorCode: 'database_missing',
      errorParams: { database: 'shop' },
    });

    const { page, context, errors } = await openPage(browser, { locale: 'en-GB' });
    await page.goto(`${stackInfo().url}/login?next=${encodeURIComponent(`/databases/${acct.database.id}`)}`);
    await page.locator('#login-email').fill(acct.email);
    await page.locator('#login-password').fill(acct.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`**/databases/${acct.database.id}`);

    const last = page.locator('#errors [role="alert"]');
    await expect(last.locator('.backup-error-sentence').textContent()).resolves.toBe(
      'Die Datenbank „shop“ existiert auf dem Server nicht.',
    );
    await expect(last.locator('.backup-error-hint').textContent()).resolves.toBe(
      'Prüfen Sie den Datenbanknamen in den Einstellungen oder legen Sie die Datenbank an.',
    );
    await expect(last.locator('summary').textContent()).resolves.toBe('Ausgabe des Werkzeugs');
    await expect(last.locator('pre').textContent()).resolves.toBe(STDERR);
    // the error log names the cause in its one-line summary
    await expect(page.locator('#errors .error-log .error-first').first().textContent()).resolves.toBe(
      'Die Datenbank „shop“ existiert auf dem Server nicht.',
    );
    expect(errors).toEqual([]);
    await context.close();
  });
});
