// Retention in a real browser (issue 18): the database page's tier form shows, before saving,
// exactly which existing backups the new rule would delete, saves only after that preview, and
// sets object lock per tier (in years) so that each locked backup shows its lock date; Settings
// takes a second storage location, checks it, shows it without its secret, and removes it. In
// German and English.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import { stackInfo } from '../../scripts/test/api.ts';
import { ageBackup, newAccount, runCronAt, uploadBackup } from '../../worker/test/cron-fixtures.ts';
import { launchBrowser, logIn, openPage } from './browser.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const DAY = 86400_000;

async function logInTo(page: Page, email: string, password: string, next: string) {
  await page.goto(`${stackInfo().url}/login?next=${encodeURIComponent(next)}`);
  await logIn(page, email, password);
}

describe('retention in the browser', () => {
  it('previews which backups 2 daily tiers delete, saves, and shows the lock date on the locked backup', async () => {
    const acct = await newAccount({ plan: 'enterprise' });
    const database = acct.databases[0]!;
    // three good backups on three days: 2 daily keep today's and yesterday's
    const old = await uploadBackup(acct.client, database.id, 1000);
    const yesterday = await uploadBackup(acct.client, database.id, 1000);
    const today = await uploadBackup(acct.client, database.id, 1000);
    await ageBackup(old.id, new Date(Date.now() - 3 * DAY));
    await ageBackup(yesterday.id, new Date(Date.now() - DAY));

    const { page, context, errors } = await openPage(browser);
    await logInTo(page, acct.email, acct.password, `/databases/${database.id}`);
    const card = page.locator('#retention');
    await card.getByRole('heading', { name: 'Retention and object lock' }).waitFor();
    await card.getByLabel('in tiers (grandfather-father-son)').check();
    await card.getByLabel('Daily (days)').fill('2');
    await card.getByLabel('Weekly (weeks)').fill('0');
    // Save waits for the preview
    await expect(card.getByRole('button', { name: 'Save rule' }).isDisabled()).resolves.toBe(true);
    await card.getByRole('button', { name: 'Preview' }).click();
    await card.getByText('These 1 existing backups would be deleted').waitFor();
    await expect(card.locator('.preview-list li').count()).resolves.toBe(1);
    await card.getByText('2 backups are kept.').waitFor();
    // a change makes the preview stale
    await card.getByLabel('Daily (days)').fill('4');
    await expect(card.getByRole('button', { name: 'Save rule' }).isDisabled()).resolves.toBe(true);
    await card.getByRole('button', { name: 'Preview' }).click();
    await card.getByText('No existing backup would be deleted; 3 are kept.').waitFor();
    await card.getByLabel('Daily (days)').fill('2');
    await card.getByLabel('Lock the first backup of each month for (years)').fill('10');
    await card.getByRole('button', { name: 'Preview' }).click();
    await card.getByText('These 1 existing backups would be deleted').waitFor();
    await card.getByRole('button', { name: 'Save rule' }).click();
    await page.getByText('Retention rule saved').waitFor();

    const rule = (await acct.session.json(`/databases/${database.id}/retention`)).body.rule;
    expect(rule).toMatchObject({
      mode: 'tiers',
      tiers: { daily: 2, weekly: 0, monthly: 0, yearly: 0 },
      objectLock: { monthly: 3650 },
    });
    await runCronAt(new Date());
    const left = (await acct.session.json(`/backups?databaseId=${database.id}`)).body.items.map(
      (b: { id: string }) => b.id,
    );
    expect(left.sort()).toEqual([yesterday.id, today.id].sort());

    // a backup locked by the rule's `all` (30 days from its start): its row shows the lock date
    await acct.session.json(`/databases/${database.id}/retention`, {
      method: 'PUT',
      json: { tiers: rule.tiers, objectLock: { all: 30 } },
    });
    const locked = await uploadBackup(acct.client, database.id, 1000);
    expect(locked.lockedUntil).not.toBeNull();
    await page.reload();
    const row = page.locator('tr', { has: page.getByText(/Locked until/) }).first();
    await row.waitFor();
    const until = new Date(locked.lockedUntil!);
    await row.getByText(String(until.getFullYear())).first().waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('sets, shows and removes a second storage location in German, never showing its secret', async () => {
    const acct = await newAccount({ plan: 'business' });
    await acct.session.json('/account', { method: 'PATCH', json: { language: 'de' } });
    const { page, context, errors } = await openPage(browser);
    await logInTo(page, acct.email, acct.password, '/settings#second-location');
    const section = page.locator('#second-location');
    await section.getByRole('heading', { name: 'Zweiter Speicherort' }).waitFor();
    const stack = inject('stack');
    await section.getByLabel('S3-Endpunkt').fill(stack.s3CopyUrl);
    await section.getByLabel('Region').fill('us-east-1');
    await section.getByLabel('Bucket', { exact: true }).fill('no-such-bucket');
    await section.getByLabel('Access Key ID').fill(S3_ACCESS_KEY_ID);
    await section.getByLabel('Secret Access Key').fill(S3_SECRET_ACCESS_KEY);
    await section.getByRole('button', { name: 'Prüfen und speichern' }).click();
    // a bucket that cannot be written to is refused with the field named
    await section.locator('#location-bucket-error').waitFor();
    await section.getByLabel('Bucket', { exact: true }).fill(stack.copyBucket);
    await section.getByLabel('Kopien').selectOption('monthly');
    await section.getByRole('button', { name: 'Prüfen und speichern' }).click();
    await page.getByText('Zweiter Speicherort gespeichert').waitFor();
    const shown = section.locator('dl');
    await shown.getByText('Das erste Backup jedes Monats').waitFor();
    await shown.getByText(/Durch den Agenten/).waitFor();
    await shown.getByText('S3RV…').waitFor();
    // SECURITY: the secret is not in the page once saved
    await expect(section.getByLabel('Secret Access Key').inputValue()).resolves.toBe('');

    await section.getByRole('button', { name: 'Kopieren beenden' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Kopieren beenden' }).click();
    await page.getByText('Kopien in den zweiten Speicherort beendet.').waitFor();
    expect((await acct.session.json('/storage-location')).body.location).toBeNull();
    expect(errors).toEqual([]);
    await context.close();
  });
});
