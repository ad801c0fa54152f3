// Teams in a real browser against the local stack and mail sink: the owner invites a colleague as
// viewer, the colleague accepts through the e-mail's link and can look but not delete or download;
// the audit log shows it all and exports it as CSV; removing the colleague logs them out.
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWithDatabase, stackInfo, uniqueEmail, uploadBackup } from '../../scripts/test/api.ts';
import { invitationToken } from '../../worker/test/team-fixtures.ts';
import { launchBrowser, logIn, openPage } from './browser.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe('teams in the browser', () => {
  it('invites a viewer who can see but not delete or download; the audit log records it; removal logs them out', async () => {
    const a = await accountWithDatabase();
    const { backup } = await uploadBackup(a.client, a.database.id, new Uint8Array(2048), {
      agentId: a.agent.id,
    });
    const { url } = stackInfo();
    const owner = await openPage(browser);
    await owner.page.goto(`${url}/login?next=%2Fsettings%23team`);
    await logIn(owner.page, a.email, a.password);
    const team = owner.page.getByTestId('team');
    await team.waitFor();

    // invite a colleague as viewer
    const colleague = uniqueEmail('colleague');
    await owner.page.locator('#invite-email').fill(colleague);
    await owner.page.locator('#invite-role').selectOption('viewer');
    await team.getByRole('button', { name: 'Invite', exact: true }).click();
    await team.locator(`[data-invitation="${colleague}"]`).waitFor();

    // the colleague opens the e-mail's link in their own browser and sets a password
    const token = await invitationToken(colleague);
    const guest = await openPage(browser);
    await guest.page.goto(`${url}/invitation#token=${token}`);
    await guest.page.getByText(`${a.email} invites you to their Resistro account as Viewer.`).waitFor();
    await guest.page.locator('#invite-password').fill('a long enough passphrase');
    await guest.page.getByRole('button', { name: 'Accept and log in' }).click();
    await guest.page.waitForURL(`${url}/`);

    // they see the backups, but download and delete are disabled with the reason
    await guest.page.goto(`${url}/backups`);
    const row = guest.page.locator('tr').filter({ hasText: 'Shop' }).first();
    await row.waitFor();
    const download = row.getByRole('button', { name: /Download/ });
    await expect(download.isDisabled()).resolves.toBe(true);
    await expect(download.getAttribute('title')).resolves.toContain('only when an admin allows it');
    const del = row.getByRole('button', { name: /Delete/ });
    await expect(del.isDisabled()).resolves.toBe(true);
    await expect(del.getAttribute('title')).resolves.toContain('Your role (Viewer) cannot do this');
    // no audit log in their navigation; the page itself says why
    await expect(guest.page.getByRole('link', { name: 'Audit log' }).count()).resolves.toBe(0);
    await guest.page.goto(`${url}/audit`);
    await guest.page.getByTestId('audit-blocked').waitFor();

    // the owner finds it all in the audit log and exports it as CSV
    await owner.page.goto(`${url}/audit`);
    await owner.page.locator('[data-action="member.joined"]').waitFor();
    await owner.page.locator('[data-action="member.invited"]').waitFor();
    await owner.page.locator('[data-action="backup.completed"]').waitFor();
    await owner.page.locator('#audit-action').selectOption('member.');
    await owner.page.locator('[data-action="backup.completed"]').waitFor({ state: 'detached' });
    const [file] = await Promise.all([
      owner.page.waitForEvent('download'),
      owner.page.getByTestId('audit-export-csv').click(),
    ]);
    const csv = readFileSync((await file.path())!, 'utf8');
    expect(csv.split('\r\n')[0]).toBe(
      'time,action,actor_kind,actor_id,actor,ip,object_kind,object_id,details',
    );
    expect(csv).toContain(`member.joined,user,`);
    expect(csv).toContain(colleague);
    expect(csv).not.toContain('backup.completed');

    // removing the colleague ends their session: their next step leads to the log-in page
    await owner.page.goto(`${url}/settings#team`);
    const member = owner.page.locator(`[data-member="${colleague}"]`);
    await member.waitFor();
    await member.getByRole('button', { name: `Remove ${colleague}` }).click();
    await owner.page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
    await member.waitFor({ state: 'detached' });
    await guest.page.goto(`${url}/backups/`);
    await guest.page.waitForURL(/\/login/);
    expect(backup.status).toBe('succeeded');

    expect(owner.errors).toEqual([]);
    expect(guest.errors).toEqual([]);
    await owner.context.close();
    await guest.context.close();
  });
});
