// Issue 20, "Done when", in a real browser with the real agent daemon, PostgreSQL, MariaDB, the
// control plane and the S3 server: restore yesterday's PostgreSQL backup into a new database and
// today's MariaDB backup over its changed original (typed name + password), both identical to
// their backups; cancel a third one midway (a gate proxy holds its stream) and find its new database
// dropped; all three in the history with the measured RTO; the German dialog.
import { join } from 'node:path';
import { sealToAgent } from '@resistro/contract';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GateProxy, startGateProxy } from '../../agent/test/gate-proxy.ts';
import {
  type CustomerPostgres,
  firstDifference,
  mariadbDump,
  startCustomerPostgres,
  testDir,
} from '../../agent/test/helpers.ts';
import { mariadbSeed, postgresSeed } from '../../agent/test/seeds.ts';
import { type MariadbServer, startMariadb } from '../../scripts/stack/mariadb.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import { createKey, signup, sql, stackInfo } from '../../scripts/test/api.ts';
import { type RunningAgent, startAgent } from './agent.ts';
import { launchBrowser, logIn, openPage, screenshot } from './browser.ts';

let browser: Browser;
let pgServer: CustomerPostgres;
let maria: MariadbServer;
let gate: GateProxy;
let agent: RunningAgent | undefined;
let acct: Awaited<ReturnType<typeof signup>>;
const work = testDir('web-restores');
const ids = { pg: '', gated: '', maria: '' };
const dumps = { pg: '', maria: '' };

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, tries = 600): Promise<T> {
  for (let i = 0; ; i++) {
    const value = await fn();
    if (value) return value;
    if (i > tries) throw new Error(`${what} did not happen\nagent output:\n${agent?.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function backUp(databaseId: string): Promise<string> {
  const r = await acct.session.json(`/databases/${databaseId}/backup-now`, { method: 'POST' });
  expect(r.status).toBe(202);
  return until('the backup', async () => {
    const { body } = await acct.session.json(`/backups?databaseId=${databaseId}`);
    const done = body.items.find((b: { status: string }) => b.status !== 'running');
    if (done && done.status !== 'succeeded') throw new Error(`backup failed: ${done.error}`);
    return done?.id as string | undefined;
  });
}

async function addDatabase(name: string, engine: string, port: number, user: string, password: string) {
  const agentRow = (await acct.session.json('/agents')).body.items[0];
  const r = await acct.session.json('/databases', {
    method: 'POST',
    json: {
      name,
      engine,
      host: '127.0.0.1',
      port,
      database: 'shop',
      user,
      credentials: { mode: 'sealed', sealedPassword: await sealToAgent(agentRow.publicKey, password) },
      schedule: { kind: 'daily', time: '03:00', timezone: 'UTC' },
      agentId: agentRow.id,
    },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.database.id as string;
}

const pgExists = async (name: string) =>
  (await pgServer.admin(`select 1 from pg_database where datname = '${name}'`)).rowCount === 1;

async function openDatabase(page: Page, id: string, name: string) {
  await page.goto(`${stackInfo().url}/databases/${id}`);
  await page.getByRole('heading', { name, level: 1 }).waitFor();
}

beforeAll(async () => {
  browser = await launchBrowser();
  pgServer = await startCustomerPostgres('web-restore-pg');
  await pgServer.createDatabase('shop');
  await pgServer.asOwner(postgresSeed(), 'shop');
  await pgServer.admin(`alter role ${pgServer.user} createdb`);
  dumps.pg = await pgServer.dump('shop');
  gate = await startGateProxy({ port: pgServer.port });
  maria = await startMariadb({ dir: join(work.dir, 'maria'), port: await freePort(), fast: true });
  await maria.createDatabase('shop');
  await maria.query(mariadbSeed(), 'shop');
  dumps.maria = await mariadbDump(maria, 'shop');

  acct = await signup({ plan: 'business' });
  const { url } = stackInfo();
  agent = startAgent({
    apiKey: await createKey(acct.session, 'agent'),
    endpoint: `${url}/api`,
    heartbeatSeconds: 1,
  });
  await until(
    'the agent registering',
    async () => (await acct.session.json('/agents')).body.items.length > 0,
  );
  ids.pg = await addDatabase('Shop PG', 'postgres', pgServer.port, pgServer.user, pgServer.password);
  ids.gated = await addDatabase('Shop PG (gate)', 'postgres', gate.port, pgServer.user, pgServer.password);
  ids.maria = await addDatabase('Shop Maria', 'mariadb', maria.port, maria.user, maria.password);
  // yesterday's PostgreSQL backup; today's MariaDB backup
  const pgBackup = await backUp(ids.pg);
  await sql("update backups set started_at = started_at - interval '1 day' where id = $1", [pgBackup]);
  await backUp(ids.gated);
  await backUp(ids.maria);
}, 300_000);

afterAll(async () => {
  await agent?.stop();
  await browser?.close();
  await gate?.close();
  await pgServer?.stop();
  await maria?.stop();
  work.remove();
});

describe('restore at the push of a button', () => {
  it('restores yesterday’s PostgreSQL backup into a new database, identical to it', async () => {
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${stackInfo().url}/login?next=${encodeURIComponent(`/databases/${ids.pg}`)}`);
    await logIn(page, acct.email, acct.password);
    await page.getByRole('heading', { name: 'Shop PG', level: 1 }).waitFor();
    await page.getByText('No restores yet', { exact: false }).first().waitFor();

    await page.getByRole('button', { name: /^Restore backup-shop-/ }).click();
    const dialog = page.getByTestId('restore-dialog');
    await dialog.getByRole('heading', { name: 'Restore Shop PG' }).waitFor();
    await dialog.getByText('A new database on the same server').waitFor();
    const nameInput = dialog.getByLabel('Name of the new database');
    const suggested = await nameInput.inputValue();
    expect(suggested).toBe(`shop_restored_${new Date().toISOString().slice(0, 10).replaceAll('-', '_')}`);
    await screenshot(page, 'desktop-en-restore-dialog');
    await dialog.getByRole('button', { name: 'Start restore' }).click();
    await dialog.waitFor({ state: 'hidden' });

    const row = page.getByTestId('restore-history').locator('tbody tr').first();
    await row.and(page.locator('[data-state="succeeded"]')).waitFor({ timeout: 120_000 });
    await row.locator('.badge', { hasText: 'Restored' }).waitFor();
    await row.getByText(`new database ${suggested}`).waitFor();
    await expect(row.getByTestId('restore-duration').textContent()).resolves.toMatch(/\d/);
    expect(firstDifference(await pgServer.dump(suggested), dumps.pg)).toBeUndefined();
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);

  it('replaces the changed MariaDB original with today’s backup after the typed name and password', async () => {
    await maria.query('DELETE FROM orders; CREATE TABLE stray (id INT);', 'shop');
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${stackInfo().url}/login?next=${encodeURIComponent(`/databases/${ids.maria}`)}`);
    await logIn(page, acct.email, acct.password);
    await page.getByRole('heading', { name: 'Shop Maria', level: 1 }).waitFor();
    await page.locator('.page-header').getByRole('button', { name: 'Restore' }).click();
    const dialog = page.getByTestId('restore-dialog');
    await dialog.getByText('The newest successful backup').waitFor();
    await dialog.getByText('The original database (replace)').click();
    // said before the user confirms: a failed replace leaves a MariaDB database empty
    await dialog
      .getByTestId('replace-warning')
      .getByText(/cannot roll back a replace/)
      .waitFor();
    const submit = dialog.getByRole('button', { name: 'Replace shop' });
    await expect(submit.isDisabled()).resolves.toBe(true);
    await dialog.getByLabel('Type shop to confirm').fill('Shop');
    await dialog.getByText('Type the database name exactly as shown.').waitFor();
    await dialog.getByLabel('Type shop to confirm').fill('shop');
    await dialog.getByLabel('Your password').fill('not my password');
    await submit.click();
    await dialog.getByText('is wrong').waitFor();
    await dialog.getByLabel('Your password').fill(acct.password);
    await screenshot(page, 'desktop-en-restore-replace');
    await submit.click();
    await dialog.waitFor({ state: 'hidden' });

    const row = page.getByTestId('restore-history').locator('tbody tr').first();
    await row.and(page.locator('[data-state="succeeded"]')).waitFor({ timeout: 120_000 });
    await row.getByText('shop (replaced)').waitFor();
    expect(firstDifference(await mariadbDump(maria, 'shop'), dumps.maria)).toBeUndefined();
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);

  it('cancels a restore midway: live progress, then cancelled, and its new database is gone', async () => {
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${stackInfo().url}/login?next=${encodeURIComponent(`/databases/${ids.gated}`)}`);
    await logIn(page, acct.email, acct.password);
    await page.getByRole('heading', { name: 'Shop PG (gate)', level: 1 }).waitFor();
    gate.armAfter(256 * 1024);
    await page.locator('.page-header').getByRole('button', { name: 'Restore' }).click();
    const dialog = page.getByTestId('restore-dialog');
    await dialog.getByLabel('Name of the new database').fill('shop_cancelled');
    await dialog.getByRole('button', { name: 'Start restore' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await gate.held();

    const row = page.getByTestId('restore-history').locator('tbody tr').first();
    const progress = row.getByTestId('restore-progress');
    await progress.getByText(/^(Restoring data|Building indexes): [\d.,]+ \w+ of [\d.,]+ \w+$/).waitFor();
    expect(await pgExists('shop_cancelled')).toBe(true);
    await screenshot(page, 'desktop-en-restore-progress');
    await row.getByRole('button', { name: 'Cancel restore' }).click();
    // The agent stops its psql sessions and cleans up; a session held by the gate keeps its locks
    // until the gate lets its closed connection through, as a real network would at once.
    await until('the agent cleaning up', async () =>
      /dropping everything it created|dropped the new database/.test(agent?.output() ?? ''),
    );
    gate.release();
    await row
      .and(page.locator('[data-state="cancelled"]'))
      .waitFor({ timeout: 60_000 })
      .catch(async (e) => {
        const { body } = await acct.session.json(`/restores?databaseId=${ids.gated}`);
        throw new Error(
          `${e}\n${JSON.stringify(body.items[0])}\nagent output:\n${agent?.output().slice(-6000)}`,
        );
      });
    await row.locator('.badge', { hasText: 'Cancelled' }).waitFor();
    expect(await pgExists('shop_cancelled')).toBe(false);

    // every restore is in the history of its database
    for (const [id, state] of [
      [ids.pg, 'succeeded'],
      [ids.maria, 'succeeded'],
      [ids.gated, 'cancelled'],
    ] as const) {
      const { body } = await acct.session.json(`/restores?databaseId=${id}`);
      expect(body.items.map((r: { state: string }) => r.state)).toEqual([state]);
    }
    await openDatabase(page, ids.pg, 'Shop PG');
    await page.getByTestId('restore-history').locator('tr[data-state="succeeded"]').waitFor();
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);

  it('offers the dialog in German', async () => {
    expect((await acct.session.json('/account', { method: 'PATCH', json: { language: 'de' } })).status).toBe(
      200,
    );
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${stackInfo().url}/login?next=${encodeURIComponent(`/databases/${ids.maria}`)}`);
    await logIn(page, acct.email, acct.password);
    await page.getByRole('heading', { name: 'Shop Maria', level: 1 }).waitFor();
    await page.getByTestId('restore-history').getByText('Wiederhergestellt').waitFor();
    await page.getByRole('columnheader', { name: 'Gemessene RTO' }).waitFor();
    await page.locator('.page-header').getByRole('button', { name: 'Wiederherstellen' }).click();
    const dialog = page.getByTestId('restore-dialog');
    await dialog.getByText('Eine neue Datenbank auf demselben Server').waitFor();
    await dialog.getByText('Die ursprüngliche Datenbank (ersetzen)').click();
    await dialog.getByText(/können ein Ersetzen nicht zurückrollen/).waitFor();
    await screenshot(page, 'desktop-de-restore-dialog');
    await dialog.getByRole('button', { name: 'Abbrechen' }).click();
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);
});
