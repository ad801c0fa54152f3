// Each alert condition, end to end in the Workers runtime: the cron (with the test's clock) opens
// one alert and e-mails it, does not repeat it on the next run, and resolves it with a "resolved"
// e-mail once the condition clears.
import { PLANS } from '@resistro/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../../scripts/test/api.ts';
import { startIsolatedControlPlane } from '../../scripts/test/isolated.ts';
import {
  allAlerts,
  failedBackup,
  minutesFrom,
  newAccount,
  openAlerts,
  runCronAt,
  sinkMessages,
  uploadBackup,
} from './cron-fixtures.ts';

type Account = Awaited<ReturnType<typeof newAccount>>;

async function emailsTo(acct: Account, subjectPart: string) {
  return (await sinkMessages({ kind: 'email', to: acct.email })).filter((m) =>
    m.email?.subject.includes(subjectPart),
  );
}

/** Runs the cron three times around `clear`: open, not repeated, resolved; checks alert rows and e-mails. */
async function expectOneAlertLifecycle(
  acct: Account,
  kind: string,
  subjectId: string,
  titlePart: string,
  clear: () => Promise<void>,
) {
  const t0 = new Date();
  await runCronAt(t0);
  const open = (await openAlerts(acct.accountId)).filter((a) => a.kind === kind);
  expect(open).toHaveLength(1);
  expect(open[0]!.subject_id).toBe(subjectId);
  // (another test file's cron run, at its own "now", may have opened it a moment earlier)
  expect(open[0]!.opened_at.getTime()).toBeLessThanOrEqual(t0.getTime());
  const opened = await emailsTo(acct, titlePart);
  expect(opened).toHaveLength(1);
  expect(opened[0]!.email!.subject).not.toContain('Resolved');

  await runCronAt(minutesFrom(t0, 1));
  const again = (await openAlerts(acct.accountId)).filter((a) => a.kind === kind);
  expect(again.map((a) => a.id)).toEqual([open[0]!.id]);
  expect(await emailsTo(acct, titlePart)).toHaveLength(1);

  await clear();
  await runCronAt(minutesFrom(t0, 2));
  expect((await openAlerts(acct.accountId)).filter((a) => a.kind === kind)).toHaveLength(0);
  const all = (await allAlerts(acct.accountId)).filter((a) => a.kind === kind);
  expect(all).toHaveLength(1);
  expect(all[0]!.resolved_at).not.toBeNull();
  const resolved = (await emailsTo(acct, titlePart)).filter((m) =>
    m.email!.subject.startsWith('[Resistro] Resolved:'),
  );
  expect(resolved).toHaveLength(1);
  expect(resolved[0]!.email!.text).toContain('The condition has cleared');
}

describe('alert detection', () => {
  // The cron acts on every account of its control plane; other files' runs on the shared stack
  // would race these checks (rows they hold under SKIP LOCKED, their own clocks): a plane of our own.
  let isolated: Awaited<ReturnType<typeof startIsolatedControlPlane>>;
  beforeAll(async () => {
    isolated = await startIsolatedControlPlane('alerts');
  }, 90_000);
  afterAll(() => isolated?.stop());

  it('raises "offline" for an agent silent for 5 minutes, once, and resolves it on the next heartbeat', async () => {
    const acct = await newAccount();
    await sql("update agents set last_seen_at = now() - interval '6 minutes' where id = $1", [acct.agent.id]);
    await expectOneAlertLifecycle(acct, 'offline', acct.agent.id, 'is offline', async () => {
      await acct.heartbeat();
    });
    const [email] = await emailsTo(acct, 'is offline');
    expect(email!.email!.subject).toBe(`[Resistro] CRITICAL: Agent "${acct.hostname}" is offline`);
    expect(email!.email!.text).toContain(acct.databases[0]!.name);
  });

  it('does not call an agent offline while its silence is under 5 minutes', async () => {
    const acct = await newAccount();
    // (2.5 minutes: even the clock test's run two minutes ahead keeps it under 5)
    await sql("update agents set last_seen_at = now() - interval '150 seconds' where id = $1", [
      acct.agent.id,
    ]);
    await runCronAt(new Date());
    expect(await openAlerts(acct.accountId)).toHaveLength(0);
  });

  it('raises "missed" when a scheduled backup did not start within its grace window, and resolves it when one starts', async () => {
    const acct = await newAccount();
    const db = acct.databases[0]!;
    // The database exists for two days (daily 02:00 UTC): at least one run is past its hour of grace.
    await sql(
      "update databases set created_at = now() - interval '2 days', updated_at = now() - interval '2 days' where id = $1",
      [db.id],
    );
    await expectOneAlertLifecycle(acct, 'missed', db.id, 'started as scheduled', async () => {
      await uploadBackup(acct.client, db.id, 1000);
    });
  });

  it('does not expect a backup from a schedule that has not come round since the database was added', async () => {
    const acct = await newAccount();
    await runCronAt(new Date());
    expect((await openAlerts(acct.accountId)).filter((a) => a.kind === 'missed')).toHaveLength(0);
  });

  it('raises "failing" with the error after two failed backups in a row, and resolves it after a success', async () => {
    const acct = await newAccount();
    const db = acct.databases[0]!;
    await failedBackup(
      acct.client,
      db.id,
      'pg_dump: error: connection to server failed: FATAL: password authentication failed',
    );
    await runCronAt(new Date());
    expect((await openAlerts(acct.accountId)).filter((a) => a.kind === 'failing')).toHaveLength(0); // one failure is not yet "failing"
    await failedBackup(
      acct.client,
      db.id,
      'pg_dump: error: FATAL: password authentication failed for user "backup"',
    );
    await expectOneAlertLifecycle(acct, 'failing', db.id, 'are failing', async () => {
      await uploadBackup(acct.client, db.id, 1000);
    });
    const [email] = await emailsTo(acct, 'are failing');
    expect(email!.email!.text).toContain('password authentication failed for user "backup"');
  });

  it('raises "size drop" for a backup at most half the median of the previous ones, and resolves it when the size is back', async () => {
    const acct = await newAccount();
    const db = acct.databases[0]!;
    for (let i = 0; i < 3; i++) await uploadBackup(acct.client, db.id, 10_000);
    await uploadBackup(acct.client, db.id, 4_000);
    await expectOneAlertLifecycle(acct, 'size_drop', db.id, 'smaller than usual', async () => {
      await uploadBackup(acct.client, db.id, 10_000);
    });
    const [email] = await emailsTo(acct, 'smaller than usual');
    expect(email!.email!.subject).toBe(
      `[Resistro] Warning: Backup of "${db.name}" is 60 % smaller than usual`,
    );
  });

  it('raises "storage" alerts above 80 % and 100 % of the quota and resolves both when usage drops', async () => {
    const acct = await newAccount({ plan: 'starter' });
    const quota = PLANS.starter.storageBytes;
    await sql('update accounts set storage_used_bytes = $2 where id = $1', [
      acct.accountId,
      Math.round(quota * 0.85),
    ]);
    const t0 = new Date();
    await runCronAt(t0);
    expect((await openAlerts(acct.accountId)).map((a) => a.kind)).toEqual(['storage_high']);
    await runCronAt(minutesFrom(t0, 1));
    expect((await openAlerts(acct.accountId)).map((a) => a.kind)).toEqual(['storage_high']);
    expect(await emailsTo(acct, 'Storage over 80 %')).toHaveLength(1);

    await sql('update accounts set storage_used_bytes = $2 where id = $1', [acct.accountId, quota + 1]);
    await runCronAt(minutesFrom(t0, 2));
    expect((await openAlerts(acct.accountId)).map((a) => a.kind).sort()).toEqual([
      'storage_full',
      'storage_high',
    ]);
    expect(await emailsTo(acct, 'quota of the Starter plan is used up')).toHaveLength(1);

    await sql('update accounts set storage_used_bytes = 0 where id = $1', [acct.accountId]);
    await runCronAt(minutesFrom(t0, 3));
    expect(await openAlerts(acct.accountId)).toHaveLength(0);
    expect((await emailsTo(acct, 'Resolved')).length).toBe(2);
  });

  it('opens one alert and sends one e-mail when two cron runs overlap', async () => {
    const acct = await newAccount();
    await sql("update agents set last_seen_at = now() - interval '10 minutes' where id = $1", [
      acct.agent.id,
    ]);
    const t = new Date();
    await Promise.all([runCronAt(t), runCronAt(t)]);
    await runCronAt(minutesFrom(t, 1));
    expect((await allAlerts(acct.accountId)).filter((a) => a.kind === 'offline')).toHaveLength(1);
    expect(await emailsTo(acct, 'is offline')).toHaveLength(1);
    await acct.heartbeat();
    await Promise.all([runCronAt(minutesFrom(t, 2)), runCronAt(minutesFrom(t, 2))]);
    expect(
      (await emailsTo(acct, 'is offline')).filter((m) => m.email!.subject.includes('Resolved')),
    ).toHaveLength(1);
  });

  it('resolves the alerts of a paused database without waiting for a backup', async () => {
    const acct = await newAccount();
    const db = acct.databases[0]!;
    await failedBackup(acct.client, db.id, 'boom 1');
    await failedBackup(acct.client, db.id, 'boom 2');
    const t = new Date();
    await runCronAt(t);
    expect((await openAlerts(acct.accountId)).map((a) => a.kind)).toContain('failing');
    expect((await acct.session.json(`/databases/${db.id}/pause`, { method: 'POST' })).status).toBe(200);
    await runCronAt(minutesFrom(t, 1));
    expect((await openAlerts(acct.accountId)).filter((a) => a.kind === 'failing')).toHaveLength(0);
  });
});
