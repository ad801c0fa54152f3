// A new customer's first hour, in a real browser against the local stack with a real agent:
// sign up → API key → the agent connects → add a PostgreSQL database → back up now → the backup
// succeeds → the download holds exactly the bytes in storage. Then every main page is
// photographed at desktop and phone width, in English and German.
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sealToAgent } from '@resistro/contract';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/stack/ports.ts';
import { type PostgresServer, startPostgres } from '../../scripts/stack/postgres.ts';
import { keyClient, stackInfo, uniqueEmail } from '../../scripts/test/api.ts';
import { type RunningAgent, startAgent } from './agent.ts';
import { DESKTOP, launchBrowser, openPage, PHONE, SCREENSHOT_DIR, screenshot } from './browser.ts';

const PASSWORD = 'correct horse battery staple';

let browser: Browser;
let postgres: PostgresServer;
let agent: RunningAgent | undefined;
let pgDir: string;
// What the journey creates, for the screenshot tour afterwards.
const made = { email: '', apiKey: '', databaseId: '', backupId: '' };

beforeAll(async () => {
  browser = await launchBrowser();
  pgDir = mkdtempSync(join(tmpdir(), 'resistro-web-pg-'));
  chmodSync(pgDir, 0o755); // PostgreSQL runs as its own user and must reach its data directory
  postgres = await startPostgres({ dir: join(pgDir, 'data'), port: await freePort(), fast: true });
  await postgres.createDatabase('shop');
  const client = new pg.Client({ connectionString: postgres.url('shop') });
  await client.connect();
  await client.query(
    `create table orders (id int primary key, customer text, total numeric(10,2), created_at timestamptz default now());
     insert into orders (id, customer, total) select g, 'customer ' || g, (g % 500) + 0.99 from generate_series(1, 20000) g;`,
  );
  await client.end();
});

afterAll(async () => {
  await agent?.stop();
  await browser?.close();
  await postgres?.stop();
  rmSync(pgDir, { recursive: true, force: true });
});

async function fillDatabaseForm(page: Page, v: { name: string; port: number; database: string }) {
  await page.getByLabel('Name', { exact: true }).fill(v.name);
  await page.getByLabel('Host name or IP address').fill('127.0.0.1');
  await page.getByLabel('Port').fill(String(v.port));
  await page.getByLabel('Database name').fill(v.database);
  await page.getByLabel('User', { exact: true }).fill('postgres');
  await page.getByLabel('Password', { exact: true }).fill('trust-auth-ignores-this');
  await page.getByLabel('Time', { exact: true }).fill('02:30');
  await page.getByLabel('Time zone').selectOption('Europe/Berlin');
  await page.getByLabel('Keep backups for (days)').fill('30');
}

describe('a new customer in the browser', () => {
  it('signs up, connects a real agent, backs up PostgreSQL and downloads the exact stored bytes', async () => {
    const { url } = stackInfo();
    const { page, context, errors } = await openPage(browser);
    made.email = uniqueEmail('journey');

    // Sign up on the Business plan and pay in Paddle's overlay (the local stand-in); once Paddle's
    // webhook confirms the payment, a new account starts on the onboarding page.
    await page.goto(`${url}/signup`);
    await page.getByLabel('E-mail address').fill(made.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel(/Business/).check();
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL('**/checkout?plan=business');
    const checkout = page.frameLocator('iframe[title="Paddle checkout"]');
    await expect(checkout.getByRole('heading').textContent()).resolves.toContain('business');
    await screenshot(page, 'desktop-en-checkout');
    await checkout.getByRole('button', { name: 'Pay now' }).click();
    await page.waitForURL('**/onboarding');
    await expect(page.getByTestId('cmd-install').textContent()).resolves.toBe(
      `curl ${url}/install-agent.sh | sudo sh`,
    );
    await expect(page.getByTestId('cmd-env').textContent()).resolves.toBe(
      `RESISTRO_API_KEY=your-api-key-here\nRESISTRO_ENDPOINT=${url}/api`,
    );
    await screenshot(page, 'desktop-en-onboarding');

    // Settings → API keys → create an agent key; the secret is on the page once.
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.locator('#key-name').fill('Production servers');
    await page.locator('#key-scope').selectOption('agent');
    await page.getByRole('button', { name: 'Create key' }).click();
    made.apiKey = (await page.getByTestId('api-key-secret').textContent())?.trim() ?? '';
    expect(made.apiKey).toMatch(/^rsk_[A-Za-z0-9_-]{16,}$/);
    await expect(
      page.locator('tr[data-key-id]').filter({ hasText: 'Production servers' }).count(),
    ).resolves.toBe(1);

    // Back to the onboarding page; the real agent starts and the page moves on by itself.
    await page.goto(`${url}/onboarding`);
    await page.getByText('Waiting for the agent to connect…').waitFor();
    agent = startAgent({ apiKey: made.apiKey, endpoint: `${url}/api` });
    await page
      .getByTestId('agent-connected')
      .waitFor({ timeout: 30_000 })
      .catch((e) => {
        throw new Error(`${e}\nagent output:\n${agent?.output()}`);
      });
    await page.waitForURL('**/databases/new', { timeout: 15_000 });

    // The agent is preselected; add the PostgreSQL database (password sealed in the browser).
    await expect(page.getByLabel('Agent', { exact: true }).inputValue()).resolves.not.toBe('');
    await expect(page.getByLabel('Port').inputValue()).resolves.toBe('5432');
    await fillDatabaseForm(page, { name: 'Shop', port: postgres.port, database: 'shop' });
    await expect(page.getByTestId('next-runs').locator('li').count()).resolves.toBe(5);
    await page.getByRole('button', { name: 'Add database' }).click();
    await page.waitForURL(/\/databases\/[0-9a-f-]{36}$/);
    made.databaseId = page.url().split('/').pop()!;

    // Back up now → the agent picks it up at its next heartbeat → succeeded, without a reload.
    await page.getByRole('button', { name: 'Back up now' }).click();
    const row = page.locator('tr[data-status="succeeded"]').first();
    await row.waitFor({ timeout: 60_000 }).catch((e) => {
      throw new Error(`${e}\nagent output:\n${agent?.output()}`);
    });
    made.backupId = (await row.getAttribute('data-backup-id')) ?? '';
    await expect(row.getByText('Succeeded').count()).resolves.toBe(1);
    await page.locator('.chart canvas').first().waitFor();

    // Backups page → Download: the file is named by the guide and holds the stored bytes.
    await page.getByRole('link', { name: 'Backups' }).first().click();
    const listed = page.locator(`tr[data-backup-id="${made.backupId}"]`);
    await listed.waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      listed.getByRole('button', { name: /Download/ }).click(),
    ]);
    const today = new Date().toISOString().slice(0, 10);
    expect(download.suggestedFilename()).toBe(`backup-shop-${today}.resistro`);
    const downloaded = readFileSync((await download.path())!);

    const api = keyClient(made.apiKey);
    const { backup } = await api.getBackup(made.backupId);
    const link = await api.downloadBackup(made.backupId);
    const stored = new Uint8Array(await (await fetch(link.url)).arrayBuffer());
    expect(downloaded.length).toBe(backup.sizeBytes);
    expect(Buffer.compare(downloaded, Buffer.from(stored))).toBe(0);
    expect(createHash('sha256').update(downloaded).digest('hex')).toBe(backup.sha256);
    // It is the encrypted format, not a plain dump.
    expect(downloaded.includes(Buffer.from('customer 1'))).toBe(false);

    expect(errors).toEqual([]);
    await context.close();
  }, 240_000);

  it('shows every main page at desktop and phone width, in English and German', async () => {
    expect(made.backupId, 'the journey above must have run').not.toBe('');
    const { url } = stackInfo();
    // A second database whose backups fail, so the error states are on the pictures too.
    const session = await loginApi(url, made.email);
    const { items: agents } = await session('GET', '/agents');
    const crm = await session('POST', '/databases', {
      name: 'CRM',
      engine: 'postgres',
      host: '127.0.0.1',
      port: postgres.port,
      database: 'crm_missing',
      user: 'postgres',
      credentials: { mode: 'sealed', sealedPassword: await sealToAgent(agents[0].publicKey, 'secret') },
      schedule: { kind: 'cron', expression: '0 */6 * * *', timezone: 'Europe/Berlin' },
      agentId: agents[0].id,
    });
    await session('POST', `/databases/${crm.database.id}/backup-now`);
    await session('POST', `/databases/${made.databaseId}/backup-now`);
    await waitUntil(async () => {
      const { items } = await session('GET', '/backups?limit=100');
      return (
        items.some(
          (b: { status: string; databaseId: string }) =>
            b.databaseId === crm.database.id && b.status === 'failed',
        ) && items.filter((b: { status: string }) => b.status === 'succeeded').length >= 2
      );
    }, 60_000);

    const pages: Array<[string, string]> = [
      ['start', '/'],
      ['databases', '/databases'],
      ['database-detail', `/databases/${made.databaseId}`],
      ['database-error', `/databases/${crm.database.id}#errors`],
      ['database-form', '/databases/new'],
      ['backups', '/backups'],
      ['agents', '/agents'],
      ['alerts', '/alerts?status=all'],
      ['settings', '/settings'],
      ['onboarding', '/onboarding'],
    ];
    for (const [device, viewport] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ] as const) {
      for (const lang of ['en', 'de'] as const) {
        const { page, context, errors } = await openPage(browser, {
          viewport,
          locale: lang === 'de' ? 'de-DE' : 'en-GB',
        });
        await page.goto(`${url}/login`);
        await screenshot(page, `${device}-${lang}-login`);
        await page.goto(`${url}/signup`);
        await screenshot(page, `${device}-${lang}-signup`);
        await page.goto(`${url}/login`);
        await page.locator('#login-email').fill(made.email);
        await page.locator('#login-password').fill(PASSWORD);
        await page.locator('form button[type=submit]').click();
        await page.waitForURL((u) => u.pathname === '/');
        for (const [name, path] of pages) {
          await page.goto(`${url}${path}`);
          await page.locator('main h1').first().waitFor();
          if (name === 'database-detail') await page.locator('.chart canvas').first().waitFor();
          await screenshot(page, `${device}-${lang}-${name}`);
        }
        if (device === 'phone' && lang === 'en') {
          await page.goto(`${url}/`);
          await page.getByRole('button', { name: 'Menu' }).click();
          await page.locator('.sidebar').getByRole('link', { name: 'Backups' }).waitFor();
          await page.waitForTimeout(400); // the drawer's slide-in
          await page.screenshot({ path: `${SCREENSHOT_DIR}phone-en-menu.png` });
        }
        expect(errors).toEqual([]);
        await context.close();
      }
    }
  }, 300_000);
});

/** A logged-in API session (cookie and Origin, like the browser) for setting the scene. */
async function loginApi(url: string, email: string) {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  return async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${url}/api/v1${path}`, {
      method,
      headers: { cookie, origin: url, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
}

async function waitUntil(check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
