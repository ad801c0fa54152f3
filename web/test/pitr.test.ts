// Issue 13's dashboard in a real browser, with the real agent daemon, a real PostgreSQL 15 cluster,
// the control plane and the S3 server: continuous protection turned on from the database's page;
// the agent takes the base backup and streams the WAL; the page shows the state, the restorable
// window on its timeline and the lag; "restore to…" refuses a moment before the window and writes
// the command for one inside it, and that command, run as shown, restores into a new directory.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { sealToAgent } from '@resistro/contract';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CustomerPostgres, startCustomerPostgres, testDir } from '../../agent/test/helpers.ts';
import { createKey, signup, stackInfo } from '../../scripts/test/api.ts';
import { CLI, type RunningAgent, startAgent } from './agent.ts';
import { launchBrowser, logIn, openPage, screenshot } from './browser.ts';

let browser: Browser;
let pgServer: CustomerPostgres;
let agent: RunningAgent | undefined;
let acct: Awaited<ReturnType<typeof signup>>;
let shopId = '';
const dirs: Array<{ remove(): void }> = [];

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, tries = 600): Promise<T> {
  for (let i = 0; ; i++) {
    const value = await fn();
    if (value) return value;
    if (i > tries) throw new Error(`${what} did not happen\nagent output:\n${agent?.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The words of a command as a POSIX shell splits them (double and single quotes, \\-newline). */
function shellWords(command: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|'((?:[^']|'\\'')*)'|(\\\n)|(\S+)/g;
  for (const m of command.matchAll(re)) {
    if (m[3]) continue;
    words.push(m[1] ?? m[2]?.replaceAll(`'\\''`, "'") ?? m[4]!);
  }
  return words;
}

function runAgentCli(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--no-warnings', CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  browser = await launchBrowser();
  pgServer = await startCustomerPostgres('web-pitr-pg');
  // the agent streams WAL and takes base backups over replication connections
  const hba = (await pgServer.admin("select setting from pg_settings where name = 'hba_file'")).rows[0]
    .setting;
  appendFileSync(hba, 'host replication postgres 127.0.0.1/32 trust\n');
  await pgServer.admin('select pg_reload_conf()');
  await pgServer.createDatabase('shop');
  await pgServer.asOwner('create table orders (id int primary key, note text not null)', 'shop');
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
      // the cluster trusts postgres from here (replication too); a password is sealed all the same
      user: 'postgres',
      credentials: { mode: 'sealed', sealedPassword: await sealToAgent(agentRow.publicKey, 'unused') },
      schedule: { kind: 'daily', time: '03:00', timezone: 'UTC' },
      agentId: agentRow.id,
    },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  shopId = r.body.database.id;
}, 300_000);

afterAll(async () => {
  await agent?.stop();
  await browser?.close();
  await pgServer?.stop();
  for (const d of dirs) d.remove();
});

describe('continuous protection in the dashboard', () => {
  it('is turned on from the page; the window, lag and a restore command that works appear', async () => {
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${stackInfo().url}/login?next=${encodeURIComponent(`/databases/${shopId}`)}`);
    await logIn(page, acct.email, acct.password);
    await page.getByRole('heading', { name: 'Shop', level: 1 }).waitFor();
    const card = page.getByTestId('pitr');
    await card.getByTestId('pitr-state').getByText('Off').waitFor();

    const form = card.getByTestId('pitr-settings');
    await form.getByLabel('Continuous protection on').check();
    // 0.2 minutes: the agent uploads the segment being written every few seconds
    await form.getByLabel('RPO target (minutes)').fill('0.2');
    await form.getByLabel('Window (days)').fill('14');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Continuous protection is on; the agent starts within a minute.').waitFor();
    expect((await acct.session.json(`/databases/${shopId}/pitr`)).body.settings).toMatchObject({
      enabled: true,
      rpoSeconds: 12,
      windowDays: 14,
      method: 'stream',
    });

    // the agent creates its slot, takes the base backup and streams: the page polls the state
    for (let i = 1; i <= 20; i++) await pgServer.asOwner(`insert into orders values (${i}, 'x')`, 'shop');
    const state = card.getByTestId('pitr-state');
    await until(
      'a restorable window on the page',
      async () => {
        const s = await state.getAttribute('data-state');
        if (s === 'gap' || s === 'stalled')
          throw new Error(`protection went ${s}:\n${await card.innerText()}`);
        return s === 'ok' || s === 'lagging';
      },
      900,
    );
    // more writes: the window grows past its first second as the agent uploads the WAL
    for (let i = 21; i <= 40; i++) await pgServer.asOwner(`insert into orders values (${i}, 'y')`, 'shop');
    const status = await until(
      'a window of a few seconds',
      async () => {
        const body = (await acct.session.json(`/databases/${shopId}/pitr`)).body;
        const w = body.window;
        return w && Date.parse(w.end) - Date.parse(w.start) >= 3000 && body.lagSeconds !== null
          ? body
          : undefined;
      },
      900,
    );
    expect(status.baseBackups).toHaveLength(1);
    await card
      .getByTestId('pitr-lag')
      .getByText(/ of 12 ?s RPO target$/)
      .waitFor({ timeout: 60_000 })
      .catch(async (e) => {
        throw new Error(`${(e as Error).message}\n${await card.innerText()}`);
      });
    // the window's stretch on the timeline, in words too
    await card
      .getByTestId('pitr-stretches')
      .getByText(/^Restorable from .+ to .+$/)
      .waitFor();
    expect(await card.getByTestId('pitr-timeline').locator('.pitr-track .pitr-mark-base').count()).toBe(1);

    const helper = card.getByTestId('pitr-restore');
    const moment = helper.getByLabel(/^Moment \(/);
    // a moment a day before the window: refused, no command to copy
    await helper.getByRole('button', { name: 'Earliest' }).click();
    const earliest = await moment.inputValue();
    const dayBefore = new Date(Date.parse(`${earliest}Z`) - 86400_000).toISOString().slice(0, 19);
    await moment.fill(dayBefore);
    await helper
      .getByTestId('pitr-refusal')
      .getByText(/^That is before the earliest restorable moment/)
      .waitFor();
    expect(await helper.getByTestId('pitr-command').count()).toBe(0);

    // the newest moment in storage: the command is shown with its copy button
    await helper.getByRole('button', { name: 'Latest' }).click();
    const dir = testDir('web-pitr-restored');
    dirs.push(dir);
    const dataDir = join(dir.dir, 'data');
    await helper.getByLabel('New data directory').fill(dataDir);
    const command = await helper.getByTestId('pitr-command').innerText();
    expect(command).toMatch(
      new RegExp(
        `^resistro restore --pitr --from ${shopId} --time "\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}[+-]\\d{2}:\\d{2}"`,
      ),
    );
    await helper.getByRole('button', { name: 'Copy' }).waitFor();
    await screenshot(page, 'desktop-en-pitr');
    expect(errors).toEqual([]);
    await context.close();

    // run exactly what the page shows, where the agent's settings are: it plans and writes the cluster
    const words = shellWords(command);
    expect(words[0]).toBe('resistro');
    const restore = await runAgentCli(words.slice(1), agent!.env);
    expect(restore.code, `${restore.stdout}\n${restore.stderr}`).toBe(0);
    expect(restore.stdout).toContain('Start it as the PostgreSQL user');
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
  }, 600_000);
});
