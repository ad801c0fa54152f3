// The backups page with 10,000 backups: keyset pages from the API keep every page as quick as the
// first, only one page is ever in the DOM, and the filters narrow the list on the server.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWithDatabase, sql, stackInfo } from '../../scripts/test/api.ts';
import { launchBrowser, openPage } from './browser.ts';

const COUNT = 10_000;
let browser: Browser;
let acct: Awaited<ReturnType<typeof accountWithDatabase>>;

beforeAll(async () => {
  browser = await launchBrowser();
  acct = await accountWithDatabase();
  // One backup an hour going back 10,000 hours; every tenth failed.
  await sql(
    `insert into backups (account_id, database_id, database_name, status, trigger, object_key, part_size, size_bytes,
                          sha256, key_id, error, started_at, finished_at, duration_ms, deadline_at)
     select $1::uuid, $2::uuid, 'shop',
            case when g % 10 = 0 then 'failed' else 'succeeded' end, 'schedule',
            'accounts/' || $1::text || '/scale/' || g, 8388608,
            case when g % 10 = 0 then null else 5000000 + g end,
            case when g % 10 = 0 then null else md5(g::text) || md5(g::text) end,
            case when g % 10 = 0 then null else 'a1b2c3d4e5f60718' end,
            case when g % 10 = 0 then 'pg_dump: connection refused' else null end,
            now() - make_interval(hours => g), now() - make_interval(hours => g) + interval '2 minutes', 120000 + g,
            now() - make_interval(hours => g) + interval '6 hours'
     from generate_series(1, ${COUNT}) g`,
    [acct.account.id, acct.database.id],
  );
});

afterAll(async () => {
  await browser?.close();
});

describe('backups page at 10,000 backups', () => {
  it('pages through them by cursor, one page in the DOM at a time', async () => {
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${stackInfo().url}/login?next=%2Fbackups`);
    await page.locator('#login-email').fill(acct.email);
    await page.locator('#login-password').fill(acct.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    const range = page.locator('.pager [aria-live]');
    await expect(range.textContent()).resolves.toBe('Backups 1–25');

    // Each page turn asks the server for one keyset page (cursor + limit), never an offset, so the
    // cost of page 20 equals that of page 1 (the query plan is checked in worker/test/backups).
    const requests: URL[] = [];
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.pathname === '/api/v1/backups') requests.push(url);
    });
    const timings: number[] = [];
    for (let n = 1; n <= 20; n++) {
      const started = performance.now();
      await page.getByRole('button', { name: 'Older' }).click();
      await page.waitForFunction(
        (want) => document.querySelector('.pager [aria-live]')?.textContent === want,
        `Backups ${n * 25 + 1}–${n * 25 + 25}`,
      );
      timings.push(performance.now() - started);
    }
    await expect(page.locator('tbody tr').count()).resolves.toBe(25);
    expect(requests.length).toBeGreaterThanOrEqual(20);
    for (const url of requests) {
      expect(url.searchParams.get('cursor')).toMatch(/^[A-Za-z0-9+/]+$/);
      expect(url.searchParams.get('limit')).toBe('25');
      expect(url.searchParams.has('offset')).toBe(false);
    }
    // Figures for the reader, not a pass/fail criterion: the machines are shared and noisy.
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(
      `page turns at ${COUNT} backups: median of pages 2–6 ${median(timings.slice(0, 5)).toFixed(0)} ms, of pages 17–21 ${median(timings.slice(-5)).toFixed(0)} ms`,
    );

    // Back to newer pages without losing the place.
    await page.getByRole('button', { name: 'Newer' }).click();
    await page.waitForFunction(
      () => document.querySelector('.pager [aria-live]')?.textContent === 'Backups 476–500',
    );

    // Filters go to the server and start again at the newest match.
    await page.getByLabel('Status', { exact: true }).selectOption('failed');
    await page.waitForFunction(
      () => document.querySelectorAll('tbody tr[data-status="failed"]').length === 25,
    );
    await expect(range.textContent()).resolves.toBe('Backups 1–25');
    await expect(page.locator('tbody tr:not([data-status="failed"])').count()).resolves.toBe(0);
    expect(new URL(page.url()).searchParams.get('status')).toBe('failed');

    // One calendar day (in the browser's time zone) holds at most 24 hourly backups.
    const day = new Date(Date.now() - 10 * 86400_000).toLocaleDateString('sv-SE', {
      timeZone: 'Europe/Berlin',
    });
    await page.getByLabel('Status', { exact: true }).selectOption('');
    await page.getByLabel('From', { exact: true }).fill(day);
    await page.getByLabel('To', { exact: true }).fill(day);
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 24);
    await expect(page.getByRole('button', { name: 'Older' }).isDisabled()).resolves.toBe(true);

    // An impossible range is explained instead of sent.
    const before = new Date(Date.now() - 20 * 86400_000).toLocaleDateString('sv-SE', {
      timeZone: 'Europe/Berlin',
    });
    await page.getByLabel('To', { exact: true }).fill(before);
    await expect(page.getByText('The end date is before the start date.').count()).resolves.toBe(1);
    expect(errors).toEqual([]);
    await context.close();
  });
});
