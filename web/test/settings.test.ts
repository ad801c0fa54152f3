// Settings in a real browser: alert e-mails, a webhook (its secret shown once), and the plan.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signup, stackInfo } from '../../scripts/test/api.ts';
import { launchBrowser, openPage } from './browser.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe('settings in the browser', () => {
  it('edits the alert e-mails, adds a webhook and changes the plan', async () => {
    const { email, password } = await signup({ plan: 'business' });
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${stackInfo().url}/login?next=%2Fsettings%23alerts`);
    await page.locator('#login-email').fill(email);
    await page.locator('#login-password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#alert-emails-title').waitFor();

    // Alert e-mails: the sign-up address is there; a wrong one is explained; a good one is saved.
    const emails = page.locator('.email-list .email-address');
    await expect(emails.allTextContents()).resolves.toEqual([email]);
    await page.locator('#alert-email-new').fill('ops at example');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByText('Enter a valid e-mail address, e.g. name@example.com.').waitFor();
    await page.locator('#alert-email-new').fill('Ops@Example.com');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.waitForFunction(() => document.querySelectorAll('.email-list li').length === 2);
    await page
      .locator('#alerts')
      .getByRole('button', { name: `Remove ${email}` })
      .click();
    await page.waitForFunction(() => document.querySelectorAll('.email-list li').length === 1);
    await page.reload();
    await page.locator('.email-list li').first().waitFor();
    await expect(page.locator('.email-list .email-address').allTextContents()).resolves.toEqual([
      'ops@example.com',
    ]);
    // a typed-in address is not confirmed yet: marked, and it gets its own link
    await expect(page.locator('.email-list li .badge-warn').count()).resolves.toBe(1);

    // A webhook: a URL that is not one is explained at the field before anything is sent.
    await page.locator('#channel-type').selectOption('webhook');
    await page.locator('#channel-name').fill('Ops pager');
    await page.locator('#channel-url').fill('hooks.example.test/resistro');
    await page.getByRole('button', { name: 'Add channel' }).click();
    await page.locator('#channel-url[aria-invalid="true"]').waitFor();
    await page.getByText('Enter a full URL starting with https://.').waitFor();
    await page.locator('#channel-url').fill('https://hooks.example.test/resistro/T0KEN');
    await page.getByRole('button', { name: 'Add channel' }).click();
    const channel = page.locator('.channel').filter({ hasText: 'Ops pager' });
    await channel.waitFor();
    await expect(page.locator('#webhooks .secret').textContent()).resolves.toMatch(/\S{16,}/);
    // The URL's path can hold a secret: the list shows only a hint of it.
    await expect(channel.textContent()).resolves.not.toContain('T0KEN');
    await channel.getByRole('checkbox').uncheck();
    await channel.getByText('Off').waitFor();
    await channel.getByRole('button', { name: 'Delete channel Ops pager' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await channel.waitFor({ state: 'detached' });

    // Settings → Subscription: paid through Paddle at sign-up, with its invoice.
    await expect(page.getByTestId('billing-state').textContent()).resolves.toBe('Active');
    await expect(page.getByTestId('invoices').locator('tbody tr').count()).resolves.toBe(1);

    // The plan: upgrade to Professional after seeing the prorated charge; it applies once Paddle confirms.
    await page
      .locator('.plan-card')
      .filter({ hasText: 'Professional' })
      .getByRole('button', { name: 'Upgrade' })
      .click();
    await expect(page.getByTestId('proration').textContent()).resolves.toMatch(
      /You are charged €\d+\.\d\d now/,
    );
    await page.getByRole('dialog').getByRole('button', { name: 'Change plan' }).click();
    await page.locator('.plan-card.current').filter({ hasText: 'Professional' }).waitFor();
    await expect(page.locator('.plan-chip').textContent()).resolves.toContain('Professional');
    await expect(page.locator('#usage').textContent()).resolves.toContain('90 days retention');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="invoices"] tbody tr').length === 2,
    );

    // A downgrade waits for the next billing period.
    await page
      .locator('.plan-card')
      .filter({ hasText: 'Business' })
      .getByRole('button', { name: 'Switch' })
      .click();
    await page.getByTestId('downgrade-date').waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Change plan' }).click();
    await expect(page.getByTestId('scheduled-plan').textContent()).resolves.toContain(
      'Switching to Business',
    );
    await expect(page.locator('.plan-chip').textContent()).resolves.toContain('Professional');

    expect(errors).toEqual([]);
    await context.close();
  });
});
