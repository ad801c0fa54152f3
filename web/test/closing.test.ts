// A cancelled account in a real browser: the banner with the purge date on every page, every
// write action disabled with the reason (the same rule the API refuses by), "download all" still
// working, and reopening from the settings.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWithDatabase, sql, stackInfo, uploadBackup } from '../../scripts/test/api.ts';
import { launchBrowser, logIn, openPage, screenshot } from './browser.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe('a cancelled account in the browser', () => {
  it('shows the banner with the purge date on every page, disables every write action with the reason, exports, and reopens', async () => {
    const a = await accountWithDatabase();
    await uploadBackup(a.client, a.database.id, randomBytes(4000));
    const cancel = await a.session.json('/account', { method: 'DELETE' });
    expect(cancel.status).toBe(202);
    // The paid period ends (the stand-in Paddle's subscription runs a month): read-only from now.
    await sql(
      `update account_closings set effective_at = now() - interval '1 minute', purge_at = now() + interval '30 days'
       where account_id = $1`,
      [a.account.id],
    );
    const purge = new Date(Date.now() + 30 * 86400_000);
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${stackInfo().url}/login?next=%2F`);
    await logIn(page, a.email, a.password);
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));

    const banner = page.getByTestId('cancelled-banner');
    for (const path of [
      '/',
      '/databases',
      `/databases/${a.database.id}`,
      '/backups',
      '/agents',
      '/settings',
    ]) {
      await page.goto(`${stackInfo().url}${path}`);
      await banner.waitFor();
      const text = (await banner.textContent()) ?? '';
      expect(text, path).toContain('cancelled');
      expect(text, path).toContain(purge.getUTCFullYear().toString());
    }

    // The database page: every action that changes something is disabled and says why.
    await page.goto(`${stackInfo().url}/databases/${a.database.id}`);
    await banner.waitFor();
    for (const name of ['Back up now', 'Pause', 'Edit', 'Delete']) {
      const button = page.getByRole('button', { name, exact: true });
      await expect(button.isDisabled(), name).resolves.toBe(true);
      await expect(button.getAttribute('title'), name).resolves.toContain('cancelled');
    }
    // ... while "download all" of this database works.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('export-database').click(),
    ]);
    const manifest = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    expect(manifest.backups).toBe(1);
    expect(manifest.items[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    await screenshot(page, 'closing-database-read-only');

    // Settings: a key for the export may still be made; the account can be reopened.
    await page.goto(`${stackInfo().url}/settings#account`);
    await page.getByTestId('closing-state').waitFor();
    await expect(page.getByRole('button', { name: 'Create key' }).isDisabled()).resolves.toBe(false);
    await page.getByTestId('reopen').click();
    await page.getByRole('dialog').getByRole('button', { name: 'Reopen account' }).click();
    await banner.waitFor({ state: 'detached' });
    await page.goto(`${stackInfo().url}/databases/${a.database.id}`);
    await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
    await expect(page.getByRole('button', { name: 'Pause', exact: true }).isDisabled()).resolves.toBe(false);
    expect(await banner.count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });
});
