// Each role in a real browser against the local stack: on every page, each control that changes
// something (marked with the route it calls, data-action) is usable exactly when the worker's
// route table lets that role call the route, and no page asks the API for what the role may not
// read (no 403 while browsing). A viewer sees the backups but no Restore, Back up now, Delete,
// settings change, API key or member change it could use.
import type { Role } from '@resistro/contract/roles';
import { findRoute, roleAllows } from '@resistro/contract/routes';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWithDatabase, stackInfo, uploadBackup } from '../../scripts/test/api.ts';
import { addMember, PASSWORD } from '../../worker/test/team-fixtures.ts';
import { launchBrowser, logIn, openPage } from './browser.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

type Control = { action: string; enabled: boolean; label: string; member: string | null };

/** Every data-action control on the page: enabled unless it or a fieldset around it is disabled. */
async function controls(page: Page): Promise<Control[]> {
  return page.locator('[data-action]').evaluateAll((els) =>
    els.map((el) => ({
      action: el.getAttribute('data-action') ?? '',
      enabled:
        el.tagName === 'A' ||
        (el.tagName === 'FIELDSET'
          ? !(el as HTMLFieldSetElement).disabled && !el.parentElement?.closest('fieldset:disabled')
          : !el.matches(':disabled')),
      label: (el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 40),
      member: el.closest('[data-member]')?.getAttribute('data-member') ?? null,
    })),
  );
}

const allowed = (action: string, who: { role: Role; canDownload: boolean }) => {
  const [method = '', path = ''] = action.split(' ');
  const route = findRoute(method, path);
  if (!route) throw new Error(`data-action ${action} names no API route`);
  return roleAllows(route, who);
};

describe('what each role is offered in the dashboard', () => {
  it('offers every role exactly the actions the worker accepts from it, on every page', async () => {
    const a = await accountWithDatabase();
    await uploadBackup(a.client, a.database.id, new Uint8Array(2048), { agentId: a.agent.id });
    const members: Array<{ role: Role; email: string; password: string; canDownload: boolean }> = [
      { role: 'owner', email: a.email, password: a.password, canDownload: true },
    ];
    for (const role of ['admin', 'operator', 'viewer'] as const) {
      const m = await addMember(a.session, role);
      members.push({ role, email: m.email, password: PASSWORD, canDownload: role !== 'viewer' });
    }
    const { url } = stackInfo();
    const pages = ['/', '/databases', `/databases/${a.database.id}`, '/backups', '/agents', '/settings'];
    const seen = new Set<string>();
    for (const who of members) {
      const { page, context, errors } = await openPage(browser);
      const refused: string[] = [];
      page.on('response', (r) => {
        if (r.status() === 403 && r.url().includes('/api/v1/'))
          refused.push(`${r.request().method()} ${r.url()}`);
      });
      await page.goto(`${url}/login`);
      await logIn(page, who.email, who.password);
      await page.waitForURL(`${url}/`);
      for (const path of pages) {
        await page.goto(`${url}${path}`);
        await page.locator('h1').first().waitFor();
        await page.locator('.loading').first().waitFor({ state: 'detached' });
        if (path === '/settings') await page.getByTestId('team').waitFor();
        if (path.startsWith('/databases/'))
          await page.locator('[data-action="DELETE /backups/{id}"]').first().waitFor();
        const found = await controls(page);
        expect(found.length, `${who.role} ${path}: controls`).toBeGreaterThan(0);
        for (const c of found) {
          seen.add(c.action);
          // the owner's own row: only an owner changes or removes an owner (the worker's rule too)
          const ownerRow = c.member === a.email && who.role !== 'owner';
          expect(c.enabled, `${who.role} on ${path}: ${c.action} (${c.label})`).toBe(
            !ownerRow && allowed(c.action, who),
          );
        }
      }
      // the pages asked the API only for what this role may read
      expect(refused, who.role).toEqual([]);
      expect(errors, who.role).toEqual([]);

      if (who.role === 'viewer') {
        await page.goto(`${url}/databases/${a.database.id}`);
        await page.locator('[data-action="DELETE /backups/{id}"]').first().waitFor();
        // no Restore on a backup row for a viewer, and the database's own Restore is disabled with why
        await expect(page.locator('[data-action="POST /restores"]:not(:disabled)').count()).resolves.toBe(0);
        const backupNow = page.locator('[data-action="POST /databases/{id}/backup-now"]');
        await expect(backupNow.isDisabled()).resolves.toBe(true);
        await expect(backupNow.getAttribute('title')).resolves.toBe(
          'Your role (Viewer) cannot do this; it needs Operator or higher.',
        );
        await page.goto(`${url}/settings`);
        await page.getByTestId('team').waitFor();
        // no subscription and no API keys section; the others say why they are read-only
        await expect(page.locator('#plan').count()).resolves.toBe(0);
        await expect(page.locator('#api-keys').count()).resolves.toBe(0);
        await expect(page.getByTestId('blocked-reason').first().textContent()).resolves.toContain(
          'Your role (Viewer) cannot do this',
        );
      }
      await context.close();
    }
    // the pages really carry the actions this test is about
    for (const action of [
      'POST /restores',
      'POST /databases/{id}/backup-now',
      'DELETE /backups/{id}',
      'DELETE /databases/{id}',
      'PATCH /account',
      'POST /api-keys',
      'POST /channels',
      'PATCH /members/{id}',
      'DELETE /agents/{id}',
    ]) {
      expect(seen, action).toContain(action);
    }
  });
});
