// Alerts and the states around them, in a real browser against the local stack: the link in an
// alert e-mail opens that alert (through the log-in), which explains itself, lists the e-mail in
// its delivery log and can be acknowledged; a revoked agent key shows at once on the agent, on the
// database and in the revoke dialog; a cancelled account offers no write action and says why.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endPaidPeriod, sql, stackInfo } from '../../scripts/test/api.ts';
import { newAccount, runCronAt, sinkMessages } from '../../worker/test/cron-fixtures.ts';
import { launchBrowser, logIn, openPage, screenshot } from './browser.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe('alerts in the browser', () => {
  it("opens an alert from its e-mail's link, explains it, shows the e-mail sent and acknowledges it", async () => {
    const acct = await newAccount();
    // The agent falls silent: the next cron run opens an "offline" alert and e-mails the account.
    await sql("update agents set last_seen_at = now() - interval '10 minutes' where id = $1", [
      acct.agent.id,
    ]);
    await runCronAt(new Date());
    const [mail] = (await sinkMessages({ kind: 'email', to: acct.email })).filter((m) =>
      m.email?.subject.includes(acct.hostname),
    );
    expect(mail).toBeDefined();
    const link = mail!.email!.text.match(/https?:\/\/\S+\/alerts\/[0-9a-f-]{36}/)?.[0];
    expect(link).toBeDefined();
    const alertId = link!.slice(-36);
    expect(link!.startsWith(stackInfo().url)).toBe(true);

    const { page, context, errors } = await openPage(browser);
    await page.goto(link!);
    // Not logged in: the log-in page, which then goes on to the alert.
    await page.waitForURL('**/login?**');
    await logIn(page, acct.email, acct.password);
    await page.waitForURL(`**/alerts/${alertId}`);
    await expect(page.locator('h1').textContent()).resolves.toContain(acct.hostname);
    await expect(page.getByTestId('alert-detail').textContent()).resolves.toMatch(/heartbeat/i);
    await expect(page.getByTestId('alert-advice').textContent()).resolves.toContain(
      'systemctl status resistro-agent',
    );
    await expect(page.getByTestId('alert-subject').getAttribute('href')).resolves.toBe('/agents');
    // The delivery log lists the e-mail this page was opened from.
    const delivery = page.locator('tr[data-delivery-id]').filter({ hasText: acct.email });
    await delivery.waitFor();
    await expect(delivery.textContent()).resolves.toContain('Delivered');
    await expect(page.getByTestId('alert-history').textContent()).resolves.toContain('This alert');

    await screenshot(page, 'alert-detail-desktop-en');
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.getByTestId('acknowledged-at').waitFor();
    await expect(page.getByRole('button', { name: 'Acknowledge' }).count()).resolves.toBe(0);
    const [row] = await sql<{ acknowledged_at: Date | null }>(
      'select acknowledged_at from alerts where id = $1',
      [alertId],
    );
    expect(row!.acknowledged_at).not.toBeNull();

    // The list: the alert is there, acknowledged; filtering by another kind hides it.
    await page.getByRole('link', { name: 'Alerts', exact: true }).first().click();
    const listed = page.locator(`tr[data-alert-id="${alertId}"]`);
    await listed.waitFor();
    await expect(listed.textContent()).resolves.toContain('Acknowledged');
    await page.locator('#filter-kind').selectOption('size_drop');
    await page.getByText('No alerts match').waitFor();
    expect(new URL(page.url()).searchParams.get('kind')).toBe('size_drop');
    await page.locator('#filter-kind').selectOption('offline');
    await listed.waitFor();

    // In German, the same page speaks German.
    await page.goto(`${stackInfo().url}/alerts/${alertId}`);
    await page.getByLabel('Language').selectOption('de');
    await page.getByRole('heading', { name: 'Was zu tun ist' }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('states the dashboard shows at once', () => {
  it('shows a revoked agent key on the agent and the database, and names the agent when revoking', async () => {
    const acct = await newAccount();
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${stackInfo().url}/login?next=%2Fsettings%23api-keys`);
    await logIn(page, acct.email, acct.password);
    const keyRow = page.locator('tr[data-key-id]').filter({ hasText: 'agent key' });
    await keyRow.getByRole('button', { name: 'Revoke key agent key' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog.getByTestId('key-users').textContent()).resolves.toContain(acct.hostname);
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await keyRow.waitFor({ state: 'detached' });

    // No waiting five minutes for "offline": the agent's refusal shows now.
    await page.goto(`${stackInfo().url}/agents`);
    const agentRow = page.locator(`tr[data-agent-id="${acct.agent.id}"]`);
    await agentRow.locator('.badge', { hasText: 'Key revoked' }).waitFor();
    await page.goto(`${stackInfo().url}/databases`);
    const dbRow = page.locator(`tr[data-database-id="${acct.databases[0]!.id}"]`);
    await dbRow.locator('.badge', { hasText: 'Agent key revoked' }).waitFor();
    await expect(dbRow.textContent()).resolves.not.toContain('Active');
    await dbRow.getByRole('link').first().click();
    await expect(page.getByTestId('agent-down').textContent()).resolves.toContain('was revoked');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('onboarding sees an agent that connected before the page was opened', async () => {
    const acct = await newAccount(); // its agent sent its first heartbeat a moment ago
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${stackInfo().url}/login?next=%2Fonboarding`);
    await logIn(page, acct.email, acct.password);
    await expect(page.getByTestId('agent-connected').textContent()).resolves.toContain(acct.hostname);
    await page.getByText('It was already connected when this page opened.').waitFor();
    // the user came here on purpose: no redirect away from the page
    expect(new URL(page.url()).pathname).toBe('/onboarding');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('after cancellation offers no write action and says why', async () => {
    const acct = await newAccount();
    expect((await acct.session.json('/account', { method: 'DELETE' })).status).toBe(202);
    await endPaidPeriod(acct.session); // read-only once the paid period is over
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${stackInfo().url}/login?next=%2Fdatabases%2F${acct.databases[0]!.id}`);
    await logIn(page, acct.email, acct.password);
    await expect(page.getByTestId('cancelled-banner').textContent()).resolves.toContain('cancelled');
    // The databases keep their state (reopening restores exactly what was there); every write,
    // pausing included, is unavailable with the reason.
    for (const name of ['Back up now', 'Pause', 'Edit', 'Delete']) {
      const button = page.getByRole('button', { name, exact: true });
      await expect(button.isDisabled()).resolves.toBe(true);
      await expect(button.getAttribute('title')).resolves.toContain('cancelled');
    }
    await page.goto(`${stackInfo().url}/databases`);
    await expect(page.getByRole('button', { name: 'Add database' }).isDisabled()).resolves.toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });
});
