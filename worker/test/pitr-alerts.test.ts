// Continuous protection's "what to do" alerts from the agent's status reports, against the real
// worker and its cron on the shared stack: a replication slot about to fill what the server can
// keep (its max_slot_wal_keep_size, its WAL disk, or a wal_status saying it drops WAL), in English
// and German, with its Prometheus gauge; and (MariaDB) a lag that has used half of the server's
// binlog retention. Each resolves when the next report says it recovered.
import { describe, expect, it } from 'vitest';
import { accountWithDatabase, runCron, sql, stackInfo } from '../../scripts/test/api.ts';

const MB = 1000 * 1000; // the alert text counts in decimal units
type Acct = Awaited<ReturnType<typeof accountWithDatabase>>;

async function protectedAccount(engine: 'postgres' | 'mariadb') {
  const a = await accountWithDatabase();
  if (engine !== 'postgres')
    await sql('update databases set engine = $2 where id = $1', [a.database.id, engine]);
  const on = await a.session.json(`/databases/${a.database.id}/pitr`, {
    method: 'PUT',
    json: { enabled: true, rpoSeconds: 60 },
  });
  expect(on.status, JSON.stringify(on.body)).toBe(200);
  return a;
}

async function openAlerts(a: Acct) {
  const r = await a.session.json(`/alerts?subjectId=${a.database.id}&status=open`);
  expect(r.status).toBe(200);
  return r.body.items as { kind: string; title: string; detail: string; severity: string }[];
}

/** The cron's alert scan walks every protected server; one round reaches ours. */
async function alertOf(a: Acct, kind: string) {
  await runCron(new Date());
  return (await openAlerts(a)).find((x) => x.kind === kind);
}

async function metrics(a: Acct) {
  const token = (await a.session.json('/metrics-token', { method: 'POST' })).body.secret;
  const res = await fetch(`${stackInfo().url}/api/v1/metrics`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return res.text();
}

describe('continuous protection alerts from the agent status', () => {
  it('alerts on a replication slot about to fill, says what to do in both languages, and resolves', async () => {
    const a = await protectedAccount('postgres');
    const slot = 'resistro_0123456789abcdef01234567';
    // 700 MB of a 1 GB max_slot_wal_keep_size: not yet 80 %…
    await a.client.reportPitrStatus(a.database.id, {
      lagSeconds: 1,
      slot: { name: slot, active: false, retainedBytes: 700 * MB, maxRetainedBytes: 1000 * MB },
    });
    expect(await alertOf(a, 'pitr_slot')).toBeUndefined();
    // …now it is, and the metric shows the slot against its limit
    await a.client.reportPitrStatus(a.database.id, {
      lagSeconds: 1,
      slot: {
        name: slot,
        active: false,
        retainedBytes: 900 * MB,
        maxRetainedBytes: 1000 * MB,
        safeWalBytes: 100 * MB,
        walStatus: 'extended',
      },
    });
    const alert = await alertOf(a, 'pitr_slot');
    expect(alert?.severity).toBe('critical');
    expect(alert?.detail).toContain(`${slot} holds 900 MB`);
    expect(alert?.detail).toContain('90 %');
    expect(alert?.detail).toContain(`SELECT pg_drop_replication_slot('${slot}')`);
    expect(alert?.detail).toContain('replication connection');
    const text = await metrics(a);
    const labels = `[^}]*database_id="${a.database.id}"[^}]*`;
    expect(text).toMatch(new RegExp(`resistro_wal_slot_retained_bytes\\{${labels}\\} ${900 * MB}\\n`));
    expect(text).toMatch(new RegExp(`resistro_wal_slot_limit_bytes\\{${labels}\\} ${1000 * MB}\\n`));

    // a German account reads it in German
    const de = await a.session.json('/account', { method: 'PATCH', json: { language: 'de' } });
    expect(de.status).toBe(200);
    const german = (await openAlerts(a)).find((x) => x.kind === 'pitr_slot');
    expect(german?.title).toContain('Replikations-Slot');
    expect(german?.detail).toContain(`SELECT pg_drop_replication_slot('${slot}')`);
    expect(german?.detail).toContain('Replikationsverbindung');

    // the agent streams again: the slot shrinks and the alert resolves
    await a.client.reportPitrStatus(a.database.id, {
      lagSeconds: 1,
      slot: {
        name: slot,
        active: true,
        retainedBytes: MB,
        maxRetainedBytes: 1000 * MB,
        walStatus: 'reserved',
      },
    });
    expect(await alertOf(a, 'pitr_slot')).toBeUndefined();
  });

  it('alerts when the server is about to drop or has dropped WAL the slot needs, whatever its size', async () => {
    const a = await protectedAccount('postgres');
    const slot = 'resistro_fedcba9876543210fedcba98';
    await a.client.reportPitrStatus(a.database.id, {
      lagSeconds: 1,
      slot: { name: slot, active: false, retainedBytes: 0, walStatus: 'lost' },
    });
    const lost = await alertOf(a, 'pitr_slot');
    expect(lost?.detail).toContain('wal_status lost');
    expect(lost?.detail).toContain('the log has a gap');
    // the disk is the limit when it is the smaller: 90 MB kept, 10 MB free
    await a.client.reportPitrStatus(a.database.id, {
      lagSeconds: 1,
      slot: {
        name: slot,
        active: false,
        retainedBytes: 90 * MB,
        diskFreeBytes: 10 * MB,
        walStatus: 'reserved',
      },
    });
    const disk = await alertOf(a, 'pitr_slot');
    expect(disk?.detail).toContain('90 %');
    expect(disk?.detail).not.toContain('wal_status lost');
  });

  it('checks the MariaDB binlog retention against the lag', async () => {
    const a = await protectedAccount('mariadb');
    // two hours of retention, 30 minutes behind: fine
    await a.client.reportPitrStatus(a.database.id, { lagSeconds: 1800, logRetentionSeconds: 7200 });
    expect(await alertOf(a, 'pitr_retention')).toBeUndefined();
    const [row] = await sql<{ log_retention_seconds: number }>(
      'select log_retention_seconds from pitr_settings where database_id = $1',
      [a.database.id],
    );
    expect(row?.log_retention_seconds).toBe(7200);
    // an hour behind: half the retention is used up
    await a.client.reportPitrStatus(a.database.id, { lagSeconds: 3600, logRetentionSeconds: 7200 });
    const alert = await alertOf(a, 'pitr_retention');
    expect(alert?.severity).toBe('critical');
    expect(alert?.detail).toContain('deletes binlogs after 7200 s');
    expect(alert?.detail).toContain('binlog_expire_logs_seconds');
    const de = await a.session.json('/account', { method: 'PATCH', json: { language: 'de' } });
    expect(de.status).toBe(200);
    const german = (await openAlerts(a)).find((x) => x.kind === 'pitr_retention');
    expect(german?.detail).toContain('löscht Binlogs nach 7200 s');
    // a server that keeps its binlogs forever (0) never runs out
    await a.client.reportPitrStatus(a.database.id, { lagSeconds: 3600, logRetentionSeconds: 0 });
    expect(await alertOf(a, 'pitr_retention')).toBeUndefined();
  });

  it('refuses a status report with a retention out of range', async () => {
    const a = await protectedAccount('mariadb');
    await expect(
      a.client.reportPitrStatus(a.database.id, { lagSeconds: 0, logRetentionSeconds: -1 }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
  });
});
