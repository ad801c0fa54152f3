// Restore tests (issue 14) against the real worker: settings with the plan's bounds, "test now",
// the agent's side (heartbeat, start, progress, verdict), verdicts that contradict themselves
// refused, cancelling, the schedule from the cron, a silent agent, the summary per database.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWithDatabase, runCron, sql, uploadBackup } from '../../scripts/test/api.ts';
import { startIsolatedControlPlane } from '../../scripts/test/isolated.ts';
import { addMember } from './team-fixtures.ts';

type Acct = Awaited<ReturnType<typeof accountWithDatabase>> & { backupId: string };

async function withBackup(plan?: string): Promise<Acct> {
  const acct = await accountWithDatabase(plan ? { plan } : {});
  const { backup } = await uploadBackup(acct.client, acct.database.id, randomBytes(4096));
  return { ...acct, backupId: backup.id };
}

const heartbeat = (a: Acct) =>
  a.client.heartbeat({
    hostname: 'db1.example.test',
    os: 'linux',
    version: '0.1.0',
    tools: [],
    publicKey: a.pair.publicKey,
  });

const SETTINGS = {
  enabled: true,
  intervalHours: 24,
  target: { kind: 'scratch' },
  timeLimitMinutes: 30,
  alertAfterDays: 10,
  checks: [
    {
      name: 'has organizations',
      sql: 'SELECT count(*) FROM organizations',
      expect: { op: '>', value: '0' },
    },
    { name: 'ledger balances', sql: 'select sum(amount) from ledger;', expect: { op: '=', value: '0' } },
  ],
};

// A control plane of its own: the schedule test runs the cron days ahead, which on the shared
// stack would end other files' running backups and restores as overdue.
let isolated: Awaited<ReturnType<typeof startIsolatedControlPlane>>;
let a: Acct;
beforeAll(async () => {
  isolated = await startIsolatedControlPlane('restore-tests-api');
  a = await withBackup();
}, 90_000);
afterAll(() => isolated?.stop());

describe('restore test settings', () => {
  it('start on the defaults: weekly, a scratch database on its own server, no checks', async () => {
    const fresh = await accountWithDatabase();
    const r = await fresh.session.json(`/databases/${fresh.database.id}/restore-tests/settings`);
    expect(r.status).toBe(200);
    expect(r.body.settings).toMatchObject({
      enabled: true,
      intervalHours: 168,
      minIntervalHours: 24,
      target: { kind: 'scratch', databaseId: null },
      checks: [],
      saved: false,
    });
    // the first weekly test is due a week after the database was added
    expect(Date.parse(r.body.settings.nextDueAt) - Date.parse(fresh.database.createdAt)).toBe(168 * 3600_000);
  });

  it('are saved with ids for the checks, and refuse what the plan or the engine does not allow', async () => {
    const put = (json: unknown) =>
      a.session.json(`/databases/${a.database.id}/restore-tests/settings`, { method: 'PUT', json });
    let r = await put({ ...SETTINGS, intervalHours: 12 });
    expect(r.status).toBe(422);
    expect(r.body.error.fields.intervalHours).toBe('must be at least 24 on your plan');
    r = await put({
      ...SETTINGS,
      checks: [{ name: 'wipe', sql: 'DELETE FROM organizations', expect: { op: '=', value: '0' } }],
    });
    expect(r.status).toBe(422);
    expect(r.body.error.fields['checks.0.sql']).toMatch(/one SELECT/);
    r = await put({
      ...SETTINGS,
      checks: [{ name: 'two', sql: 'select 1; drop table x', expect: { op: '=', value: '1' } }],
    });
    expect(r.body.error.fields['checks.0.sql']).toMatch(/one SELECT/);
    r = await put({ ...SETTINGS, checks: [SETTINGS.checks[0], SETTINGS.checks[0]] });
    expect(r.body.error.fields['checks.1.name']).toBe('is used by another check');
    r = await put({ ...SETTINGS, target: { kind: 'database', databaseId: a.database.id } });
    expect(r.body.error.fields['target.databaseId']).toBe('is the tested database itself');

    r = await put(SETTINGS);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.settings).toMatchObject({ intervalHours: 24, timeLimitMinutes: 30, saved: true });
    const ids = r.body.settings.checks.map((c: { id: string }) => c.id);
    expect(ids).toHaveLength(2);
    expect(r.body.settings.checks[1]).toMatchObject({ sql: 'select sum(amount) from ledger;' });
    // an edit keeps the id it is given
    r = await put({ ...SETTINGS, checks: [{ ...SETTINGS.checks[0], id: ids[0] }] });
    expect(r.body.settings.checks.map((c: { id: string }) => c.id)).toEqual([ids[0]]);
    r = await put(SETTINGS);
    expect(r.status).toBe(200);
  });

  it('are changed by an operator, not a viewer; the change is in the audit log', async () => {
    const viewer = await addMember(a.session, 'viewer');
    const r = await viewer.session.json(`/databases/${a.database.id}/restore-tests/settings`, {
      method: 'PUT',
      json: SETTINGS,
    });
    expect(r.status).toBe(403);
    expect((await viewer.session.json(`/databases/${a.database.id}/restore-tests/settings`)).status).toBe(
      200,
    );
    const audit = (await a.session.json('/audit?action=restore_test.settings_changed')).body.items;
    expect(audit[0]).toMatchObject({ object: { kind: 'database', id: a.database.id } });
    expect(audit[0].details.checks).toEqual(['has organizations', 'ledger balances']);
  });
});

describe('restore tests', () => {
  it('test now: the agent restores, finds a table that differs, and the verdict names it', async () => {
    await a.session.json(`/databases/${a.database.id}/restore-tests/settings`, {
      method: 'PUT',
      json: SETTINGS,
    });
    const r = await a.session.json('/restore-tests', { method: 'POST', json: { databaseId: a.database.id } });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const test = r.body.restoreTest;
    expect(test).toMatchObject({
      databaseId: a.database.id,
      backupId: a.backupId,
      trigger: 'manual',
      requestedBy: a.email,
      state: 'pending',
      target: { kind: 'scratch', databaseId: null },
      timeLimitSeconds: 1800,
    });
    expect(test.target.database).toMatch(/^resistro_verify_[0-9a-f]{12}$/);
    // one at a time per database
    expect(
      (await a.session.json('/restore-tests', { method: 'POST', json: { databaseId: a.database.id } }))
        .status,
    ).toBe(409);

    const hb = await heartbeat(a);
    const job = hb.restoreTestRequests.find((j) => j.id === test.id);
    expect(job).toMatchObject({
      databaseId: a.database.id,
      backupId: a.backupId,
      sizeBytes: 4096,
      engine: 'postgres',
      target: { kind: 'scratch' },
      connectionDatabaseId: a.database.id,
      scratchDatabase: test.target.database,
      timeLimitSeconds: 1800,
    });
    expect(job?.checks.map((c) => c.name)).toEqual(['has organizations', 'ledger balances']);

    expect((await a.client.startRestoreTest(test.id)).restoreTest.state).toBe('running');
    await expect(a.client.startRestoreTest(test.id)).rejects.toMatchObject({ code: 'conflict' });
    expect((await heartbeat(a)).restoreTestRequests.map((j) => j.id)).not.toContain(test.id);
    expect(await a.client.reportRestoreTestProgress(test.id, { phase: 'verify' })).toEqual({
      cancelRequested: false,
    });

    const checks = job!.checks.map((c) => ({ id: c.id, passed: true, actual: '0' }));
    const base = { backupId: a.backupId, restoreMs: 1500, totalMs: 2100, checks };
    const failure = {
      table: 'public.orders',
      reason: 'rows_differ' as const,
      expectedRows: 120,
      actualRows: 119,
    };
    // a verdict that contradicts itself is refused: a failing table never ends as passed
    await expect(
      a.client.reportRestoreTestResult(test.id, {
        ...base,
        status: 'passed',
        tables: { checked: 12, failed: 1, failures: [failure] },
      }),
    ).rejects.toMatchObject({ status: 422, fields: { status: expect.any(String) } });
    await expect(
      a.client.reportRestoreTestResult(test.id, {
        ...base,
        status: 'failed',
        tables: { checked: 12, failed: 0, failures: [] },
      }),
    ).rejects.toMatchObject({ status: 422 });
    await expect(
      a.client.reportRestoreTestResult(test.id, {
        ...base,
        backupId: test.id,
        status: 'failed',
        tables: { checked: 12, failed: 1, failures: [failure] },
      }),
    ).rejects.toMatchObject({ status: 422, fields: { backupId: expect.any(String) } });

    const done = await a.client.reportRestoreTestResult(test.id, {
      ...base,
      status: 'failed',
      tables: { checked: 12, failed: 1, failures: [failure] },
    });
    expect(done.restoreTest).toMatchObject({
      state: 'failed',
      restoreMs: 1500,
      totalMs: 2100,
      tables: { checked: 12, failed: 1, failures: [failure] },
    });
    await expect(
      a.client.reportRestoreTestResult(test.id, {
        ...base,
        status: 'passed',
        tables: { checked: 12, failed: 0, failures: [] },
      }),
    ).rejects.toMatchObject({ code: 'conflict' });

    const history = (await a.session.json(`/restore-tests?databaseId=${a.database.id}`)).body.items;
    expect(history[0]).toMatchObject({ id: test.id, state: 'failed' });
    const audit = (await a.session.json('/audit?action=restore_test.finished')).body.items;
    expect(audit[0]).toMatchObject({
      object: { kind: 'restore_test', id: test.id },
      details: { state: 'failed', tablesFailed: 1 },
    });
    expect(JSON.stringify(audit[0])).not.toContain('public.orders');
  });

  it('a customer check that fails is reported with its query; a passing test gives the last verified restore', async () => {
    let r = await a.session.json('/restore-tests', { method: 'POST', json: { databaseId: a.database.id } });
    const failing = r.body.restoreTest;
    await a.client.startRestoreTest(failing.id);
    const [orgs, ledger] = failing.checks;
    await a.client.reportRestoreTestResult(failing.id, {
      status: 'failed',
      backupId: a.backupId,
      restoreMs: 900,
      totalMs: 1000,
      tables: { checked: 12, failed: 0, failures: [] },
      checks: [
        { id: orgs.id, passed: true, actual: '42' },
        { id: ledger.id, passed: false, actual: '-17.50' },
      ],
    });
    const got = (await a.session.json(`/restore-tests/${failing.id}`)).body.restoreTest;
    expect(got.state).toBe('failed');
    expect(got.checks[1]).toMatchObject({
      name: 'ledger balances',
      sql: 'select sum(amount) from ledger;',
      expect: { op: '=', value: '0' },
      passed: false,
      actual: '-17.50',
    });

    r = await a.session.json('/restore-tests', {
      method: 'POST',
      json: { databaseId: a.database.id, backupId: a.backupId },
    });
    const passing = r.body.restoreTest;
    await a.client.startRestoreTest(passing.id);
    // a passed verdict must hold every check
    await expect(
      a.client.reportRestoreTestResult(passing.id, {
        status: 'passed',
        backupId: a.backupId,
        restoreMs: 800,
        totalMs: 950,
        tables: { checked: 12, failed: 0, failures: [] },
        checks: [{ id: orgs.id, passed: true, actual: '42' }],
      }),
    ).rejects.toMatchObject({ status: 422, fields: { checks: expect.any(String) } });
    await a.client.reportRestoreTestResult(passing.id, {
      status: 'passed',
      backupId: a.backupId,
      restoreMs: 800,
      totalMs: 950,
      tables: { checked: 12, failed: 0, failures: [] },
      checks: [
        { id: orgs.id, passed: true, actual: '42' },
        { id: ledger.id, passed: true, actual: '0' },
      ],
    });
    const summary = (await a.session.json('/restore-tests/latest')).body.items;
    expect(summary).toEqual([
      expect.objectContaining({
        databaseId: a.database.id,
        latest: expect.objectContaining({ id: passing.id, state: 'passed' }),
        lastPassedRestoreMs: 800,
      }),
    ]);
    expect(summary[0].lastPassedAt).toBe(summary[0].latest.finishedAt);
  });

  it('an error keeps its code, message and hint; a test of another database’s backup is refused', async () => {
    const r = await a.session.json('/restore-tests', { method: 'POST', json: { databaseId: a.database.id } });
    const t = r.body.restoreTest;
    await a.client.startRestoreTest(t.id);
    const done = await a.client.reportRestoreTestResult(t.id, {
      status: 'error',
      backupId: a.backupId,
      totalMs: 20,
      tables: { checked: 0, failed: 0, failures: [] },
      checks: [],
      error: {
        code: 'disk_space',
        message: 'need 9.1 GB free in /var/lib/postgresql, have 2.0 GB',
        hint: 'Free space or restore-test onto another server',
      },
    });
    expect(done.restoreTest).toMatchObject({
      state: 'error',
      errorCode: 'disk_space',
      error: 'need 9.1 GB free in /var/lib/postgresql, have 2.0 GB',
      errorHint: 'Free space or restore-test onto another server',
    });
    const other = await withBackup();
    const refused = await a.session.json('/restore-tests', {
      method: 'POST',
      json: { databaseId: a.database.id, backupId: other.backupId },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.fields.backupId).toBeDefined();
  });

  it('cancels a waiting test at once and a running one through the agent’s next report', async () => {
    let r = await a.session.json('/restore-tests', { method: 'POST', json: { databaseId: a.database.id } });
    const waiting = r.body.restoreTest;
    r = await a.session.json(`/restore-tests/${waiting.id}/cancel`, { method: 'POST' });
    expect(r.body.restoreTest).toMatchObject({ state: 'cancelled', cancelRequested: true });
    expect((await heartbeat(a)).restoreTestRequests.map((j) => j.id)).not.toContain(waiting.id);

    r = await a.session.json('/restore-tests', { method: 'POST', json: { databaseId: a.database.id } });
    const running = r.body.restoreTest;
    await a.client.startRestoreTest(running.id);
    r = await a.session.json(`/restore-tests/${running.id}/cancel`, { method: 'POST' });
    expect(r.body.restoreTest).toMatchObject({ state: 'running', cancelRequested: true });
    expect(await a.client.reportRestoreTestProgress(running.id, { phase: 'cleanup' })).toEqual({
      cancelRequested: true,
    });
    const done = await a.client.reportRestoreTestResult(running.id, {
      status: 'cancelled',
      backupId: a.backupId,
      totalMs: 300,
      tables: { checked: 0, failed: 0, failures: [] },
      checks: [],
    });
    expect(done.restoreTest).toMatchObject({ state: 'cancelled', errorCode: 'cancelled' });
    r = await a.session.json(`/restore-tests/${running.id}/cancel`, { method: 'POST' });
    expect(r.status).toBe(409);
  });

  it('refuses "test now" without a successful backup, and from a viewer', async () => {
    const fresh = await accountWithDatabase();
    let r = await fresh.session.json('/restore-tests', {
      method: 'POST',
      json: { databaseId: fresh.database.id },
    });
    expect(r.status).toBe(409);
    const viewer = await addMember(a.session, 'viewer', { tag: 'rt-viewer' });
    r = await viewer.session.json('/restore-tests', { method: 'POST', json: { databaseId: a.database.id } });
    expect(r.status).toBe(403);
  });
});

describe('the schedule', () => {
  it('queues a test one interval after the database was added, then one interval after the last', async () => {
    const s = await withBackup();
    const due = async (at: Date) => {
      await runCron(at);
      return (await s.session.json(`/restore-tests?databaseId=${s.database.id}`)).body.items;
    };
    const now = new Date();
    expect(await due(now)).toEqual([]);
    // the database was added eight days ago: its weekly test is due
    await sql(`update databases set created_at = now() - interval '8 days' where id = $1`, [s.database.id]);
    let items = await due(now);
    expect(items).toEqual([
      expect.objectContaining({ trigger: 'schedule', state: 'pending', requestedBy: null }),
    ]);
    // while it waits no second one is queued
    expect(await due(new Date(now.getTime() + 8 * 86400_000))).toHaveLength(1);
    await s.client.startRestoreTest(items[0].id);
    await s.client.reportRestoreTestResult(items[0].id, {
      status: 'passed',
      backupId: s.backupId,
      restoreMs: 10,
      totalMs: 12,
      tables: { checked: 1, failed: 0, failures: [] },
      checks: [],
    });
    expect(await due(new Date(now.getTime() + 86400_000))).toHaveLength(1);
    const settings = (await s.session.json(`/databases/${s.database.id}/restore-tests/settings`)).body
      .settings;
    expect(Date.parse(settings.nextDueAt)).toBe(Date.parse(items[0].requestedAt) + 168 * 3600_000);
    items = await due(new Date(now.getTime() + 7 * 86400_000 + 60_000));
    expect(items.map((t: { trigger: string }) => t.trigger)).toEqual(['schedule', 'schedule']);
  });

  it('queues nothing for a database whose tests are off', async () => {
    const s = await withBackup();
    await sql(`update databases set created_at = now() - interval '30 days' where id = $1`, [s.database.id]);
    const r = await s.session.json(`/databases/${s.database.id}/restore-tests/settings`, {
      method: 'PUT',
      json: { ...SETTINGS, enabled: false, checks: [] },
    });
    expect(r.body.settings.nextDueAt).toBeNull();
    await runCron(new Date());
    expect((await s.session.json(`/restore-tests?databaseId=${s.database.id}`)).body.items).toEqual([]);
  });

  it('gives up a running test whose agent went silent for 10 minutes', async () => {
    const s = await withBackup();
    const t = (
      await s.session.json('/restore-tests', { method: 'POST', json: { databaseId: s.database.id } })
    ).body.restoreTest;
    await s.client.startRestoreTest(t.id);
    // Silence is made here, not by running the shared stack's cron 11 minutes ahead: that would
    // give up every other test file's running restores and restore tests too.
    await sql("update restore_tests set progress_at = now() - interval '11 minutes' where id = $1", [t.id]);
    await runCron(new Date());
    const got = (await s.session.json(`/restore-tests/${t.id}`)).body.restoreTest;
    expect(got).toMatchObject({ state: 'error', errorCode: 'agent_stopped' });
  });
});
