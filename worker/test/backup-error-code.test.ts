// A failed backup's cause in the account's language (issue 9 §4): the agent reports a code and
// parameters beside its own text; the backup returns them, and the "failing" alert (list, e-mail)
// says the cause in German for a German account with the tool's text untranslated after it. An
// older agent's report (text only) keeps working; an unknown code is refused naming the field.
import { ApiClientError } from '@resistro/contract';
import { describe, expect, it } from 'vitest';
import { sql } from '../../scripts/test/api.ts';
import { newAccount, runCronAt, sinkMessages } from './cron-fixtures.ts';

const STDERR =
  'backup of "shop" failed: pg_dump exited with code 1\nstderr: pg_dump: error: FATAL:  password authentication failed for user "backup"';

async function failWithCode(acct: Awaited<ReturnType<typeof newAccount>>, databaseId: string) {
  const { backup } = await acct.client.startBackup({ databaseId, trigger: 'schedule' });
  return (
    await acct.client.failBackup(backup.id, {
      error: STDERR,
      errorCode: 'auth_failed',
      errorParams: { user: 'backup' },
      durationMs: 800,
    })
  ).backup;
}

describe('the cause of a failed backup in the account language', () => {
  it('returns the code on the backup and words the failing alert in German', async () => {
    const acct = await newAccount();
    const set = await acct.session.json('/account', { method: 'PATCH', json: { language: 'de' } });
    expect(set.status).toBe(200);
    const db = acct.databases[0]!;
    const failed = await failWithCode(acct, db.id);
    expect(failed).toMatchObject({
      status: 'failed',
      error: STDERR,
      errorCode: 'auth_failed',
      errorParams: { user: 'backup' },
    });
    // the dashboard's read of the backup carries the code too
    const got = await acct.session.json(`/backups/${failed.id}`);
    expect(got.body.backup).toMatchObject({ errorCode: 'auth_failed', errorParams: { user: 'backup' } });
    // a retried report (same text) answers the same backup, code and all
    const again = await acct.client.failBackup(failed.id, { error: STDERR, errorCode: 'auth_failed' });
    expect(again.backup).toMatchObject({ id: failed.id, errorCode: 'auth_failed' });

    await failWithCode(acct, db.id);
    await runCronAt(new Date());
    const list = await acct.session.json('/alerts');
    const failing = list.body.items.find((a: { kind: string }) => a.kind === 'failing');
    expect(failing.title).toBe(`Backups von „${db.name}“ schlagen fehl`);
    expect(failing.detail).toBe(
      'Die letzten 2 Backups sind fehlgeschlagen. Letzter Fehler: Der Datenbankserver hat die Anmeldung von „backup“ abgelehnt. ' +
        `Prüfen Sie Benutzername und Passwort in den Einstellungen der Datenbank.\nAusgabe des Werkzeugs: ${STDERR}`,
    );
    const mails = await sinkMessages({ kind: 'email', to: acct.email });
    const mail = mails.find((m) => m.email?.subject.includes('schlagen fehl'));
    expect(mail?.email?.text).toContain('Der Datenbankserver hat die Anmeldung von „backup“ abgelehnt.');
    expect(mail?.email?.text).toContain('password authentication failed for user "backup"');

    // The same open alert in English once the account switches.
    await acct.session.json('/account', { method: 'PATCH', json: { language: 'en' } });
    const after = await acct.session.json(`/alerts/${failing.id}`);
    expect(after.body.alert.detail).toContain('The database server refused the login of "backup".');
    expect(after.body.alert.detail).toContain(`Tool output: ${STDERR}`);
  });

  it("keeps an older agent's text-only report working: no code, the text as before", async () => {
    const acct = await newAccount();
    await acct.session.json('/account', { method: 'PATCH', json: { language: 'de' } });
    const db = acct.databases[0]!;
    for (let i = 0; i < 2; i++) {
      const { backup } = await acct.client.startBackup({ databaseId: db.id, trigger: 'schedule' });
      const failed = (await acct.client.failBackup(backup.id, { error: 'pg_dump: out of luck' })).backup;
      expect(failed.errorCode ?? null).toBeNull();
      expect(failed.errorParams ?? null).toBeNull();
    }
    await runCronAt(new Date());
    const list = await acct.session.json('/alerts');
    const failing = list.body.items.find((a: { kind: string }) => a.kind === 'failing');
    expect(failing.detail).toBe(
      'Die letzten 2 Backups sind fehlgeschlagen. Letzter Fehler: pg_dump: out of luck',
    );
  });

  it('refuses an unknown code or oversized parameters with 422 naming the field, leaving the backup running', async () => {
    const acct = await newAccount();
    const db = acct.databases[0]!;
    const { backup } = await acct.client.startBackup({ databaseId: db.id, trigger: 'schedule' });
    const refusal = (body: Parameters<typeof acct.client.failBackup>[1]) =>
      acct.client.failBackup(backup.id, body).then(
        () => undefined,
        (e: unknown) => e,
      );
    const unknown = await refusal({ error: 'x', errorCode: 'disk_on_fire' as never });
    expect(unknown).toBeInstanceOf(ApiClientError);
    expect(unknown).toMatchObject({ status: 422, fields: { errorCode: 'is not a known backup error code' } });
    const big = await refusal({
      error: 'x',
      errorCode: 'tool_failed',
      errorParams: { tool: 'p'.repeat(501) },
    });
    expect(big).toMatchObject({ status: 422, fields: { 'errorParams.tool': 'is too long' } });
    const [row] = await sql('select status, error_code from backups where id = $1', [backup.id]);
    expect(row).toEqual({ status: 'running', error_code: null });
  });
});
