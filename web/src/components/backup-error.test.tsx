import { BACKUP_ERROR_CODES } from '@resistro/contract/backup-errors';
import { cleanup, render, screen } from '@solidjs/testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { de } from '../i18n/de.ts';
import { en } from '../i18n/en.ts';
import { setLocale } from '../i18n/index.ts';
import { BackupErrorText, describeBackupError } from './backup-error.tsx';

const STDERR =
  'pg_dump: error: connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication failed for user "backup"\nHint: Check the user name and password in the database settings.';

const authFailed = { error: STDERR, errorCode: 'auth_failed' as const, errorParams: { user: 'backup' } };

afterEach(() => {
  cleanup();
  setLocale('en');
});

describe('BackupErrorText', () => {
  it('says the cause and hint in German with the tool output below, untranslated', () => {
    setLocale('de');
    render(() => <BackupErrorText backup={authFailed} />);
    const box = screen.getByTestId('backup-error');
    expect(box.querySelector('.backup-error-sentence')?.textContent).toBe(
      'Der Datenbankserver hat die Anmeldung von „backup“ abgelehnt.',
    );
    expect(box.querySelector('.backup-error-hint')?.textContent).toBe(
      'Prüfen Sie Benutzername und Passwort in den Einstellungen der Datenbank.',
    );
    expect(box.querySelector('summary')?.textContent).toBe('Ausgabe des Werkzeugs');
    expect(box.querySelector('pre')?.textContent).toBe(STDERR);
  });

  it('says the same in English', () => {
    setLocale('en');
    render(() => <BackupErrorText backup={authFailed} />);
    const box = screen.getByTestId('backup-error');
    expect(box.querySelector('.backup-error-sentence')?.textContent).toBe(
      'The database server refused the login of "backup".',
    );
    expect(box.querySelector('summary')?.textContent).toBe('Tool output');
    expect(box.querySelector('pre')?.textContent).toBe(STDERR);
  });

  it("shows an older agent's text alone (no code, or one this dashboard does not know)", () => {
    setLocale('de');
    for (const backup of [{ error: STDERR }, { error: STDERR, errorCode: 'from_the_future' as never }]) {
      const { container, unmount } = render(() => <BackupErrorText backup={backup} />);
      expect(screen.queryByTestId('backup-error')).toBeNull();
      expect(container.querySelector('pre')?.textContent).toBe(STDERR);
      unmount();
    }
  });

  it('has a sentence and a hint for every code in both languages, with no placeholder left', () => {
    for (const code of BACKUP_ERROR_CODES) {
      expect(en[`backupError.code.${code}` as keyof typeof en]).toBeTruthy();
      expect(de[`backupError.hint.${code}` as keyof typeof de]).toBeTruthy();
      for (const lang of ['de', 'en'] as const) {
        setLocale(lang);
        // no parameters at all (a minimal report): defaults fill every placeholder
        const d = describeBackupError({ error: 'x', errorCode: code });
        expect(d?.sentence).not.toMatch(/\{\w+\}/);
        expect(d?.hint).not.toMatch(/\{\w+\}/);
      }
    }
    setLocale('de');
    expect(
      describeBackupError({ error: 'x', errorCode: 'tool_failed', errorParams: { tool: 'mariadb-dump' } })
        ?.sentence,
    ).toBe('Die Sicherung wurde abgebrochen, weil mariadb-dump einen Fehler gemeldet hat.');
  });
});
