// The restore test alerts and metrics end to end, on a control plane of its own (the cron's clock
// matters): "restore test failed" opens with its reasons in the account's language, without table
// names, and resolves with a passing test; "no successful restore test for N days" fires for a test
// that never finished and clears; the Prometheus families follow the verdicts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, stackInfo } from '../../scripts/test/api.ts';
import { startIsolatedControlPlane } from '../../scripts/test/isolated.ts';
import { newAccount, openAlerts, runCronAt, sinkMessages, uploadBackup } from './cron-fixtures.ts';

type Account = Awaited<ReturnType<typeof newAccount>>;

let isolated: Awaited<ReturnType<typeof startIsolatedControlPlane>>;
beforeAll(async () => {
  isolated = await startIsolatedControlPlane('restore-tests');
}, 90_000);
afterAll(() => isolated?.stop());

async function scrape(token: string) {
  const res = await fetch(`${stackInfo().url}/api/v1/metrics`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return res.text();
}
function sample(text: string, name: string, databaseId: string): number | undefined {
  const line = text
    .split('\n')
    .find((x) => x.startsWith(`${name}{`) && x.includes(`database_id="${databaseId}"`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function setUp(checks: unknown[] = [], alertAfterDays = 14) {
  const acct = await newAccount();
  const db = acct.databases[0]!;
  const backup = await uploadBackup(acct.client, db.id, 2048);
  const r = await acct.session.json(`/databases/${db.id}/restore-tests/settings`, {
    method: 'PUT',
    json: {
      enabled: true,
      intervalHours: 168,
      target: { kind: 'scratch' },
      timeLimitMinutes: 60,
      alertAfterDays,
      checks,
    },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return { acct, db, backupId: backup.id as string };
}

async function testNow(acct: Account, databaseId: string) {
  const r = await acct.session.json('/restore-tests', { method: 'POST', json: { databaseId } });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return r.body.restoreTest as { id: string; checks: Array<{ id: string }> };
}

describe('restore test alerts and metrics', () => {
  it('"restore test failed" names the reasons, never a table, in the account’s language; a pass resolves it', async () => {
    const { acct, db, backupId } = await setUp([
      { name: 'ledger balances', sql: 'SELECT sum(amount) FROM ledger', expect: { op: '=', value: '0' } },
    ]);
    const token = (await acct.session.json('/metrics-token', { method: 'POST' })).body.secret as string;
    let m = await scrape(token);
    expect(sample(m, 'resistro_restore_test_success', db.id)).toBeUndefined();
    expect(sample(m, 'resistro_restore_test_last_success_timestamp', db.id)).toBe(0);

    const failing = await testNow(acct, db.id);
    await acct.client.startRestoreTest(failing.id);
    await acct.client.reportRestoreTestResult(failing.id, {
      status: 'failed',
      backupId,
      restoreMs: 1500,
      totalMs: 2000,
      tables: {
        checked: 8,
        failed: 1,
        failures: [{ table: 'public.patients_secret', reason: 'content_differs' }],
      },
      checks: [{ id: failing.checks[0]!.id, passed: false, actual: '12.5' }],
    });
    await runCronAt(new Date());
    const open = (await openAlerts(acct.accountId)).filter((a) => a.kind === 'restore_test_failed');
    expect(open).toHaveLength(1);
    expect(open[0]!.subject_id).toBe(db.id);
    const en = (await acct.session.json('/alerts?kind=restore_test_failed')).body.items[0];
    expect(en.severity).toBe('critical');
    expect(en.title).toBe(`Restore test of "${db.name}" failed`);
    expect(en.detail).toContain('1 table differs from the backup; your check "ledger balances" failed');
    const mails = (await sinkMessages({ kind: 'email', to: acct.email })).filter((x) =>
      x.email?.subject.includes('Restore test'),
    );
    expect(mails).toHaveLength(1);
    // the failing table's name stays in the dashboard: not in the alert, not in the e-mail
    expect(JSON.stringify([en, mails])).not.toContain('patients_secret');

    await acct.session.json('/account', { method: 'PATCH', json: { language: 'de' } });
    const de = (await acct.session.json('/alerts?kind=restore_test_failed')).body.items[0];
    expect(de.title).toBe(`Wiederherstellungstest von „${db.name}“ fehlgeschlagen`);
    expect(de.detail).toContain(
      '1 Tabelle weicht vom Backup ab; Ihre Prüfung „ledger balances“ ist fehlgeschlagen',
    );

    m = await scrape(token);
    expect(sample(m, 'resistro_restore_test_success', db.id)).toBe(0);
    expect(sample(m, 'resistro_restore_test_duration_seconds', db.id)).toBe(1.5);

    const passing = await testNow(acct, db.id);
    await acct.client.startRestoreTest(passing.id);
    const done = await acct.client.reportRestoreTestResult(passing.id, {
      status: 'passed',
      backupId,
      restoreMs: 1200,
      totalMs: 1600,
      tables: { checked: 8, failed: 0, failures: [] },
      checks: [{ id: passing.checks[0]!.id, passed: true, actual: '0' }],
    });
    await runCronAt(new Date());
    expect((await openAlerts(acct.accountId)).filter((a) => a.kind === 'restore_test_failed')).toEqual([]);
    m = await scrape(token);
    expect(sample(m, 'resistro_restore_test_success', db.id)).toBe(1);
    expect(sample(m, 'resistro_restore_test_duration_seconds', db.id)).toBe(1.2);
    expect(sample(m, 'resistro_restore_test_last_success_timestamp', db.id)).toBe(
      Math.floor(Date.parse(done.restoreTest.finishedAt!) / 1000),
    );
  });

  it('"no successful restore test for N days" fires for a test that never ran, and clears with a pass', async () => {
    const { acct, db, backupId } = await setUp([], 3);
    const stuck = await testNow(acct, db.id);
    await runCronAt(new Date());
    expect((await openAlerts(acct.accountId)).map((a) => a.kind)).not.toContain('restore_test_stale');
    // the agent never took it (switched off, or too old to run restore tests): four days pass
    await sql(`update restore_tests set requested_at = now() - interval '4 days' where id = $1`, [stuck.id]);
    await runCronAt(new Date());
    const open = (await openAlerts(acct.accountId)).filter((a) => a.kind === 'restore_test_stale');
    expect(open).toHaveLength(1);
    const alert = (await acct.session.json('/alerts?kind=restore_test_stale')).body.items[0];
    expect(alert).toMatchObject({
      severity: 'warning',
      title: `No successful restore test of "${db.name}" for 3 days`,
    });
    expect(alert.detail).toContain('No restore test has passed yet.');

    await acct.client.startRestoreTest(stuck.id);
    await acct.client.reportRestoreTestResult(stuck.id, {
      status: 'passed',
      backupId,
      restoreMs: 10,
      totalMs: 20,
      tables: { checked: 1, failed: 0, failures: [] },
      checks: [],
    });
    await runCronAt(new Date());
    expect((await openAlerts(acct.accountId)).map((a) => a.kind)).not.toContain('restore_test_stale');
    // tests switched off: no alert, however old the last pass
    await sql(`update restore_tests set finished_at = now() - interval '10 days' where id = $1`, [stuck.id]);
    await acct.session.json(`/databases/${db.id}/restore-tests/settings`, {
      method: 'PUT',
      json: {
        enabled: false,
        intervalHours: 168,
        target: { kind: 'scratch' },
        timeLimitMinutes: 60,
        alertAfterDays: 3,
        checks: [],
      },
    });
    await runCronAt(new Date());
    expect((await openAlerts(acct.accountId)).map((a) => a.kind)).not.toContain('restore_test_stale');
  });

  it('the monthly report lists every database with backups, tests, RTO and failures, and is e-mailed once on the 1st', async () => {
    const { acct, db, backupId } = await setUp([
      { name: 'ledger balances', sql: 'SELECT sum(amount) FROM ledger', expect: { op: '=', value: '0' } },
    ]);
    const failing = await testNow(acct, db.id);
    await acct.client.startRestoreTest(failing.id);
    await acct.client.reportRestoreTestResult(failing.id, {
      status: 'failed',
      backupId,
      restoreMs: 900,
      totalMs: 1000,
      tables: { checked: 4, failed: 2, failures: [{ table: 'public.a', reason: 'missing' }] },
      checks: [{ id: failing.checks[0]!.id, passed: false, actual: '3' }],
    });
    const passing = await testNow(acct, db.id);
    await acct.client.startRestoreTest(passing.id);
    await acct.client.reportRestoreTestResult(passing.id, {
      status: 'passed',
      backupId,
      restoreMs: 61_000,
      totalMs: 62_000,
      tables: { checked: 4, failed: 0, failures: [] },
      checks: [{ id: passing.checks[0]!.id, passed: true, actual: '0' }],
    });
    const now = new Date();
    const month = now.toISOString().slice(0, 7);
    const r = await acct.session.json(`/reports/monthly?month=${month}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.report).toMatchObject({ month, language: 'en' });
    expect(r.body.report.databases).toEqual([
      expect.objectContaining({
        id: db.id,
        name: db.name,
        backups: expect.objectContaining({ succeeded: 1, failed: 0, bytes: 2048 }),
        restoreTests: expect.objectContaining({
          passed: 1,
          failed: 1,
          error: 0,
          lastRestoreMs: 61_000,
          maxRestoreMs: 61_000,
        }),
        failures: [
          expect.objectContaining({
            kind: 'restore_test',
            text: '2 tables differ from the backup; check "ledger balances" failed',
          }),
        ],
      }),
    ]);
    expect((await acct.session.json('/reports/monthly?month=2026-13')).status).toBe(422);

    // the 1st of the next month, a few minutes past midnight: the report goes out, in German
    await acct.session.json('/account', { method: 'PATCH', json: { language: 'de' } });
    const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1, 0, 5));
    await runCronAt(first);
    await runCronAt(new Date(first.getTime() + 60_000));
    const mails = (await sinkMessages({ kind: 'email', to: acct.email })).filter((m) =>
      m.email?.subject.startsWith('Resistro: Wiederherstellungsbericht'),
    );
    expect(mails).toHaveLength(1);
    const mail = mails[0]!.email!;
    expect(mail.subject).toMatch(/^Resistro: Wiederherstellungsbericht \S+ \d{4}$/);
    expect(mail.text).toContain(`${db.name} (postgres)`);
    expect(mail.text).toContain(
      'Wiederherstellungstests: 1 bestanden, 1 fehlgeschlagen, 0 nicht abgeschlossen',
    );
    expect(mail.text).toContain('Gemessene RTO: 1 min');
    expect(mail.text).toContain('2 Tabellen weichen vom Backup ab; Prüfung „ledger balances“ fehlgeschlagen');
    expect(mail.text).toContain(`/reports?month=${month}`);
    expect(mail.text).not.toContain('public.a');
  });
});
