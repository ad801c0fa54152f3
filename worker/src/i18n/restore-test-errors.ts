// Why a restore test could not finish, in the account's language, from the agent's code (contract
// restore-tests.ts); the same sentences as the dashboard's (web/src/i18n, restoreTestError.*).
// Alerts and the monthly report say this; the agent's own text follows untranslated.
import type { RestoreTestErrorCode } from '@resistro/contract';
import type { Language } from './language.ts';

export const RESTORE_TEST_ERROR_TEXT: Record<Language, Record<RestoreTestErrorCode, string>> = {
  en: {
    disk_space: 'Not enough free disk space for the scratch copy',
    time_limit: 'The test took longer than its time limit',
    restore_failed: 'The restore itself failed',
    no_table_stats: 'The backup holds no per-table counts (made by an older agent)',
    download_failed: 'The backup could not be downloaded',
    file_damaged: 'The backup file is damaged',
    wrong_key: 'The backup was encrypted with another key',
    key_missing: 'The agent lacks the key of this backup',
    connection_failed: 'The agent could not reach the server for the scratch copy',
    permission_denied: 'The database user may not create the scratch database',
    cancelled: 'Cancelled',
    agent_stopped: 'The agent stopped reporting',
    internal: 'An internal error in the agent',
  },
  de: {
    disk_space: 'Zu wenig freier Speicherplatz für die Testkopie',
    time_limit: 'Der Test hat sein Zeitlimit überschritten',
    restore_failed: 'Die Wiederherstellung selbst ist fehlgeschlagen',
    no_table_stats: 'Das Backup enthält keine Zählungen pro Tabelle (von einem älteren Agenten erstellt)',
    download_failed: 'Das Backup konnte nicht heruntergeladen werden',
    file_damaged: 'Die Backup-Datei ist beschädigt',
    wrong_key: 'Das Backup wurde mit einem anderen Schlüssel verschlüsselt',
    key_missing: 'Dem Agenten fehlt der Schlüssel dieses Backups',
    connection_failed: 'Der Agent erreicht den Server für die Testkopie nicht',
    permission_denied: 'Der Datenbankbenutzer darf die Testdatenbank nicht anlegen',
    cancelled: 'Abgebrochen',
    agent_stopped: 'Der Agent hat sich nicht mehr gemeldet',
    internal: 'Ein interner Fehler im Agenten',
  },
};

export function restoreTestErrorText(language: Language, code: unknown): string | undefined {
  return typeof code === 'string' && code in RESTORE_TEST_ERROR_TEXT[language]
    ? RESTORE_TEST_ERROR_TEXT[language][code as RestoreTestErrorCode]
    : undefined;
}
