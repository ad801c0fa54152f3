// Issue 14 in a real browser with the real agent daemon, PostgreSQL, the control plane and the S3
// server: "Test now" restores the newest backup into a scratch database; a customer check that
// does not hold fails the test and is shown with its query; without it the test passes, and the
// last verified restore with its measured restore time appears on the database and in the list.
// A verdict naming a table that differs (reported by a second, scripted agent) reads in German.
import { sealToAgent } from '@resistro/contract';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CustomerPostgres, startCustomerPostgres } from '../../agent/test/helpers.ts';
import { postgresSeed } from '../../agent/test/seeds.ts';
import { createKey, keyClient, signup, stackInfo, uploadBackup } from '../../scripts/test/api.ts';
import { type RunningAgent, startAgent } from './agent.ts';
import { launchBrowser, logIn, openPage, screenshot } from './browser.ts';

let browser: Browser;
let pgServer: CustomerPostgres;
let agent: RunningAgent | undefined;
let acct: Awaited<ReturnType<typeof signup>>;
let shopId = '';

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, tries = 600): Promise<T> {
  for (let i = 0; ; i++) {
    const value = await fn();
    if (value) return value;
    if (i > tries) throw new Error(`${what} did not happen\nagent output:\n${agent?.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  browser = await launchBrowser();
  pgServer = await startCustomerPostgres('web-restore-tests-pg');
  await pgServer.createDatabase('shop');
  await pgServer.asOwner(postgresSeed(), 'shop');
  // the scratch database is created by the backup user
  await pgServer.admin(`alter role ${pgServer.user} createdb`);
  acct = await signup({ plan: 'business' });
  agent = startAgent({
    apiKey: await createKey(acct.session, 'agent'),
    endpoint: `${stackInfo().url}/api`,
    heartbeatSeconds: 1,
  });
  const agentRow = await until(
    'the agent registering',
    async () => (await acct.session.json('/agents')).body.items[0],
  );
  const r = await acct.session.json('/databases', {
    method: 'POST',
    json: {
      name: 'Shop',
      engine: 'postgres',
      host: '127.0.0.1',
      port: pgServer.port,
      database: 'shop',
      user: pgServer.user,
      credentials: {
        mode: 'sealed',
        sealedPassword: await sealToAgent(agentRow.publicKey, pgServer.password),
      },
      schedule: { kind: 'daily', time: '03:00', timezone: 'UTC' },
      agentId: agentRow.id,
    },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  shopId = r.body.database.id;
  expect((await acct.session.json(`/databases/${shopId}/backup-now`, { method: 'POST' })).status).toBe(202);
  await until('the backup', async () => {
    const { body } = await acct.session.json(`/backups?databaseId=${shopId}`);
    const done = body.items.find((b: { status: string }) => b.status !== 'running');
    if (done && done.status !== 'succeeded') throw new Error(`backup failed: ${done.error}`);
    return done?.id as string | undefined;
  });
}, 300_000);

afterAll(async () => {
  await agent?.stop();
  await browser?.close();
  await pgServer?.stop();
});

describe('restore tests in the dashboard', () => {
  it('a failing check is shown with its query; without it the test passes and the restore is verified', async () => {
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${stackInfo().url}/login?next=${encodeURIComponent(`/databases/${shopId}`)}`);
    await logIn(page, acct.email, acct.password);
    await page.getByRole('heading', { name: 'Shop', level: 1 }).waitFor();
    const section = page.getByTestId('restore-tests');
    await section.getByTestId('last-verified').getByText('Not verified yet').waitFor();

    await section.getByRole('button', { name: 'Test settings' }).click();
    const form = section.getByTestId('restore-test-settings');
    await form.getByText('Your plan allows a test every 24 hours at most.').waitFor();
    for (const [name, query, op, value] of [
      ['orders exist', 'SELECT count(*) FROM orders', '>', '0'],
      ['a million orders', 'SELECT count(*) FROM orders', '>=', '1000000'],
    ] as const) {
      await form.getByRole('button', { name: 'Add check' }).click();
      const row = form.getByTestId('check-row').last();
      await row.getByLabel('Name').fill(name);
      await row.getByLabel('Query').fill(query);
      await row.getByLabel('Expectation').selectOption(op);
      await row.getByLabel('Value').fill(value);
    }
    await form.getByRole('button', { name: 'Save test settings' }).click();
    await page.getByText('Restore test settings saved.').waitFor();

    await section.getByRole('button', { name: 'Test now' }).click();
    const first = section.getByTestId('restore-test-history').locator('tbody tr').first();
    await first.and(page.locator('[data-state="failed"]')).waitFor({ timeout: 120_000 });
    const failing = first.getByTestId('failing-check');
    await failing.getByText('Your check “a million orders” failed').waitFor();
    await failing.getByText('SELECT count(*) FROM orders').waitFor();
    await failing.getByText('expected >= 1000000, got 2000').waitFor();
    // every table matched what the backup recorded while dumping
    await first.getByText(/^\d+ tables match the backup\.$/).waitFor();
    await screenshot(page, 'desktop-en-restore-test-failed');

    await section.getByRole('button', { name: 'Test settings' }).click();
    await form.getByTestId('check-row').last().getByRole('button', { name: 'Remove check' }).click();
    await form.getByRole('button', { name: 'Save test settings' }).click();
    await page.getByText('Restore test settings saved.').last().waitFor();
    await section.getByRole('button', { name: 'Test now' }).click();
    const second = section.getByTestId('restore-test-history').locator('tbody tr').first();
    await second.and(page.locator('[data-state="passed"]')).waitFor({ timeout: 120_000 });
    await second.getByText('Your check “orders exist” passed').waitFor();
    await expect(second.getByTestId('restore-test-rto').textContent()).resolves.toMatch(/\d/);
    await section
      .getByTestId('last-verified')
      .getByText(/restore time \d/)
      .waitFor();
    await screenshot(page, 'desktop-en-restore-tests');

    await page.goto(`${stackInfo().url}/databases`);
    const cell = page.locator(`[data-database-id="${shopId}"]`).getByTestId('last-verified-restore');
    await cell.getByText(/restore time \d/).waitFor();

    // this month's report: both tests, the measured RTO, and what failed
    await page.getByRole('link', { name: 'Reports' }).click();
    await page.getByRole('heading', { name: 'Monthly restore report', level: 1 }).waitFor();
    await page.getByLabel('Month').selectOption(new Date().toISOString().slice(0, 7));
    const report = page.locator(`[data-testid="report-database"][data-database-id="${shopId}"]`);
    await report.getByTestId('report-tests').getByText('1 passed, 1 failed, 0 not finished').waitFor();
    await expect(report.getByTestId('report-rto').textContent()).resolves.toMatch(/\d/);
    await report.getByTestId('report-failures').getByText('check "a million orders" failed').waitFor();
    await screenshot(page, 'desktop-en-monthly-report');
    expect(errors).toEqual([]);
    await context.close();
  }, 300_000);

  it('names the table that differs, in German', async () => {
    // a second agent, scripted through the API, reports a verdict whose restored copy lost rows
    const key = await createKey(acct.session, 'agent', 'scripted agent');
    const client = keyClient(key);
    const { generateAgentKeyPair } = await import('@resistro/contract');
    const pair = await generateAgentKeyPair();
    const hb = await client.heartbeat({
      hostname: 'ledger.example.test',
      os: 'linux',
      version: '0.1.0',
      tools: [],
      publicKey: pair.publicKey,
    });
    const db = await acct.session.json('/databases', {
      method: 'POST',
      json: {
        name: 'Ledger',
        engine: 'postgres',
        host: '127.0.0.1',
        database: 'ledger',
        user: 'backup',
        credentials: { mode: 'local' },
        schedule: { kind: 'daily', time: '03:00', timezone: 'UTC' },
        agentId: hb.agent.id,
      },
    });
    expect(db.status, JSON.stringify(db.body)).toBe(201);
    const ledgerId = db.body.database.id as string;
    const { backup } = await uploadBackup(client, ledgerId, crypto.getRandomValues(new Uint8Array(2048)));
    const test = (
      await acct.session.json('/restore-tests', { method: 'POST', json: { databaseId: ledgerId } })
    ).body.restoreTest;
    await client.startRestoreTest(test.id);
    await client.reportRestoreTestResult(test.id, {
      status: 'failed',
      backupId: backup.id,
      restoreMs: 4200,
      totalMs: 5000,
      tables: {
        checked: 12,
        failed: 1,
        failures: [{ table: 'public.entries', reason: 'rows_differ', expectedRows: 5000, actualRows: 4990 }],
      },
      checks: [],
    });
    await acct.session.json('/account', { method: 'PATCH', json: { language: 'de' } });

    // logged in, the dashboard follows the account's language
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${stackInfo().url}/login?next=${encodeURIComponent(`/databases/${ledgerId}`)}`);
    await logIn(page, acct.email, acct.password);
    await page.getByRole('heading', { name: 'Ledger', level: 1 }).waitFor();
    const row = page.getByTestId('restore-test-history').locator('tbody tr').first();
    await row.getByText('Fehlgeschlagen').waitFor();
    await row.getByText('1 von 12 Tabellen weichen vom Backup ab:').waitFor();
    const table = row.getByTestId('failing-tables');
    await table.getByText('public.entries').waitFor();
    await table.getByText('Zeilenzahl weicht ab (Backup 5000, wiederhergestellt 4990)').waitFor();
    await page.getByTestId('restore-tests').getByText('Noch nicht geprüft').waitFor();
    await screenshot(page, 'desktop-de-restore-test-failed');
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);
});
