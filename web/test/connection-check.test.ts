// "A wrong MariaDB privilege is reported in the form before any backup runs": in a real browser,
// with the real agent daemon and a real MariaDB. The customer adds a database whose account may
// not read routine bodies, sees the problem with the GRANT to run (in English, then in German),
// runs it, presses "test again", and sees the connection OK, all without a single backup.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MariadbServer, sqlString, startMariadb } from '../../scripts/stack/mariadb.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import { createKey, signup, stackInfo } from '../../scripts/test/api.ts';
import { type RunningAgent, startAgent } from './agent.ts';
import { launchBrowser, openPage, screenshot } from './browser.ts';

const DB_PASSWORD = `shop pw 'q' "d" 😀`;
const GRANT = "GRANT SELECT ON mysql.proc TO 'shopbackup'@'%';";

let browser: Browser;
let server: MariadbServer;
let agent: RunningAgent | undefined;
let dir: string;

beforeAll(async () => {
  browser = await launchBrowser();
  dir = mkdtempSync(join(tmpdir(), 'resistro-web-maria-'));
  server = await startMariadb({ dir: join(dir, 'data'), port: await freePort(), fast: true });
  await server.createDatabase('shop');
  await server.query(
    `CREATE TABLE orders (id INT PRIMARY KEY);
     CREATE FUNCTION add_tax(amount DECIMAL(10,2)) RETURNS DECIMAL(10,2) DETERMINISTIC RETURN amount * 1.19;
     CREATE USER 'shopbackup'@'%' IDENTIFIED BY ${sqlString(DB_PASSWORD)};
     GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES, EXECUTE ON shop.* TO 'shopbackup'@'%';`,
    'shop',
  );
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the connection check in the browser', () => {
  it('reports a missing MariaDB privilege with its GRANT before any backup, in English and German', async () => {
    const { url } = stackInfo();
    const acct = await signup({ plan: 'business' });
    const apiKey = await createKey(acct.session, 'agent');
    agent = startAgent({ apiKey, endpoint: `${url}/api`, heartbeatSeconds: 1 });
    // the agent registers with its first heartbeat
    for (let i = 0; (await acct.session.json('/agents')).body.items.length === 0; i++) {
      if (i > 300) throw new Error(`the agent did not register:\n${agent.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${url}/login?next=${encodeURIComponent('/databases/new')}`);
    await page.locator('#login-email').fill(acct.email);
    await page.locator('#login-password').fill(acct.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL('**/databases/new');
    await expect(page.getByLabel('Agent', { exact: true }).inputValue()).resolves.not.toBe('');

    await page.getByLabel('Database system').selectOption('mariadb');
    await page.getByLabel('Name', { exact: true }).fill('Shop');
    await page.getByLabel('Host name or IP address').fill('127.0.0.1');
    await page.getByLabel('Port').fill(String(server.port));
    await page.getByLabel('Database name').fill('shop');
    await page.getByLabel('User', { exact: true }).fill('shopbackup');
    await page.getByLabel('Password', { exact: true }).fill(DB_PASSWORD);
    await page.getByRole('button', { name: 'Add database' }).click();
    await page.waitForURL(/\/databases\/[0-9a-f-]{36}$/);
    const databaseId = page.url().split('/').pop()!;

    // The agent tests at its next heartbeat; the page follows by itself.
    const panel = page.getByTestId('connection-check');
    await panel
      .getByText('Problem found')
      .waitFor({ timeout: 60_000 })
      .catch((e) => {
        throw new Error(`${e}\nagent output:\n${agent?.output()}`);
      });
    await panel.getByText('The privilege SELECT ON mysql.proc is missing.').waitFor();
    await expect(panel.locator('pre', { hasText: GRANT }).count()).resolves.toBe(1);
    await expect(panel.getByText('Privilege SHOW CREATE ROUTINE').count()).resolves.toBe(1);
    await screenshot(page, 'desktop-en-connection-check-failed');
    const backups = await acct.session.json(`/backups?databaseId=${databaseId}`);
    expect(backups.body.items).toEqual([]); // found without running a backup

    // The same page on a German account.
    expect((await acct.session.json('/account', { method: 'PATCH', json: { language: 'de' } })).status).toBe(
      200,
    );
    await page.reload();
    await panel.getByText('Problem gefunden').waitFor();
    await panel.getByText('Das Recht SELECT ON mysql.proc fehlt.').waitFor();
    await panel.getByText(/Führen Sie als Administrator auf dem Datenbankserver aus/).waitFor();
    await screenshot(page, 'desktop-de-connection-check-failed');

    // The editing form shows it too, next to the fields that fix it.
    await page.goto(`${url}/databases/${databaseId}/edit`);
    await page.getByTestId('connection-check').getByText('Das Recht SELECT ON mysql.proc fehlt.').waitFor();

    // Run the GRANT as shown, test again: green.
    await server.query(GRANT);
    await page.goto(`${url}/databases/${databaseId}`);
    await panel.getByRole('button', { name: 'Erneut testen' }).click();
    await panel.getByText('Verbindung OK').waitFor({ timeout: 60_000 });
    await expect(panel.getByText('Alle Schritte bestanden: Ein Backup kann laufen.').count()).resolves.toBe(
      1,
    );
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);
});
