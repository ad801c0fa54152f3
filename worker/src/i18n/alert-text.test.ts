import { describe, expect, it } from 'vitest';
import { type AlertSource, alertText } from './alert-text.ts';

const DE = { language: 'de' as const, timeZone: 'Europe/Berlin' };
const EN = { language: 'en' as const, timeZone: 'UTC' };

const offline: AlertSource = {
  kind: 'offline',
  subjectType: 'agent',
  subjectName: 'vm',
  facts: { lastSeenAt: '2026-12-02T04:30:00.000Z', databases: ['shop', 'crm'] },
  title: 'Agent "vm" is offline',
  detail: 'stored English',
};

describe('alertText', () => {
  it('renders an offline agent in German with the account time zone and a German list', () => {
    expect(alertText(offline, DE)).toEqual({
      title: 'Agent „vm“ ist offline',
      detail:
        'Kein Lebenszeichen seit 02.12.2026, 05:30 MEZ (mehr als 5 Minuten). Die Backups von „shop“ und „crm“ ' +
        'können erst wieder laufen, wenn er zurück ist: Prüfen Sie den Dienst resistro-agent auf diesem Host.',
      subjectName: 'vm',
    });
    expect(alertText(offline, EN).detail).toBe(
      'No heartbeat since 02/12/2026, 04:30 UTC (more than 5 minutes). Backups of "shop" and "crm" cannot run ' +
        'until it is back: check the resistro-agent service on that host.',
    );
  });

  it('counts minutes with the right plural', () => {
    const missed = (graceMinutes: number): AlertSource => ({
      kind: 'missed',
      subjectType: 'database',
      subjectName: 'shop',
      facts: { scheduledFor: '2026-12-02T01:00:00.000Z', graceMinutes, lastBackupAt: null },
      title: '',
      detail: '',
    });
    expect(alertText(missed(1), DE).detail).toContain('nicht innerhalb von 1 Minute gestartet');
    expect(alertText(missed(30), DE).detail).toContain('nicht innerhalb von 30 Minuten gestartet');
    expect(alertText(missed(1), EN).detail).toContain('did not start within 1 minute.');
    expect(alertText(missed(60), EN).detail).toContain('did not start within 60 minutes.');
    expect(alertText(missed(30), DE).detail).toContain('Bisher wurde kein Backup gestartet.');
  });

  it('names the plan and the usage of a storage alert in the language', () => {
    const full: AlertSource = {
      kind: 'storage_full',
      subjectType: 'account',
      subjectName: 'Storage',
      facts: { usedBytes: 10_500_000_000, quotaBytes: 10_000_000_000, plan: 'starter' },
      title: '',
      detail: '',
    };
    const de = alertText(full, DE);
    expect(de.title).toBe('Der Speicher des Plans Starter ist aufgebraucht');
    expect(de.detail).toMatch(/^10,5 GB von 10 GB belegt \(105 %\)\. /);
    expect(de.subjectName).toBe('Speicher');
    expect(alertText(full, EN).detail).toMatch(/^10.5 GB of 10 GB used \(105 %\)\. /);
  });

  it('falls back to the stored English for an English account and to German for a German one when facts are missing', () => {
    const old = { ...offline, facts: {} };
    expect(alertText(old, EN)).toMatchObject({ title: 'Agent "vm" is offline', detail: 'stored English' });
    const de = alertText(old, DE);
    expect(de.title).toBe('Agent „vm“ ist offline');
    expect(de.detail).toMatch(/^Der Agent sendet seit mehr als 5 Minuten kein Lebenszeichen/);
  });

  it('says why backups fail in the account language when the agent sent a code, the tool text untranslated', () => {
    const failing = (facts: Record<string, unknown>): AlertSource => ({
      kind: 'failing',
      subjectType: 'database',
      subjectName: 'shop',
      facts: {
        consecutiveFailures: 3,
        lastError: 'pg_dump: error: password authentication failed',
        ...facts,
      },
      title: '',
      detail: '',
    });
    const coded = failing({ lastErrorCode: 'auth_failed', lastErrorParams: { user: 'backup' } });
    expect(alertText(coded, DE).detail).toBe(
      'Die letzten 3 Backups sind fehlgeschlagen. Letzter Fehler: Der Datenbankserver hat die Anmeldung von „backup“ abgelehnt. ' +
        'Prüfen Sie Benutzername und Passwort in den Einstellungen der Datenbank.\n' +
        'Ausgabe des Werkzeugs: pg_dump: error: password authentication failed',
    );
    expect(alertText(coded, EN).detail).toContain('The database server refused the login of "backup".');
    expect(alertText(coded, EN).detail).toContain(
      'Tool output: pg_dump: error: password authentication failed',
    );
    // an older agent (no code) or a code this version does not know: the agent's text as it was
    for (const facts of [{}, { lastErrorCode: 'from_the_future' }])
      expect(alertText(failing(facts), DE).detail).toBe(
        'Die letzten 3 Backups sind fehlgeschlagen. Letzter Fehler: pg_dump: error: password authentication failed',
      );
    // a tool failure without the tool's name still reads as a sentence
    expect(alertText(failing({ lastErrorCode: 'tool_failed' }), DE).detail).toContain(
      'weil das Sicherungswerkzeug einen Fehler gemeldet hat.',
    );
  });
});
