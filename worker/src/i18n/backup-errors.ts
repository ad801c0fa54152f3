// A failed backup's cause in the account's language, from the code the agent sent (contract
// backup-errors.ts); the same sentences as the dashboard's (web/src/i18n, backupError.*). Alerts
// say this sentence and hint; the agent's own text (often a tool's stderr) follows untranslated.
// Without a code (an older agent), callers show the agent's text alone.
import { BACKUP_ERROR_CODES, type BackupErrorCode } from '@resistro/contract';
import type { Language } from './language.ts';

type Params = { tool: string; host: string; port: string; user: string; database: string };
type Text = (x: Params) => { sentence: string; hint: string };

const TEXTS: Record<Language, Record<BackupErrorCode, Text>> = {
  de: {
    connection_failed: (x) => ({
      sentence: `Der Agent erreicht den Datenbankserver ${x.host}:${x.port} nicht.`,
      hint: 'Prüfen Sie, ob der Datenbankserver läuft und ob seine Listen-Adresse und die Firewall den Rechner des Agents zulassen.',
    }),
    auth_failed: (x) => ({
      sentence: `Der Datenbankserver hat die Anmeldung von „${x.user}“ abgelehnt.`,
      hint: 'Prüfen Sie Benutzername und Passwort in den Einstellungen der Datenbank.',
    }),
    database_missing: (x) => ({
      sentence: `Die Datenbank „${x.database}“ existiert auf dem Server nicht.`,
      hint: 'Prüfen Sie den Datenbanknamen in den Einstellungen oder legen Sie die Datenbank an.',
    }),
    permission_denied: () => ({
      sentence: 'Dem Datenbankbenutzer fehlt ein Recht, das die Sicherung braucht.',
      hint: 'Vergeben Sie die in der Dokumentation für Ihr Datenbanksystem genannten Rechte und testen Sie dann die Verbindung.',
    }),
    tool_missing: (x) => ({
      sentence: `Der Agent findet ${x.tool} auf dem Server nicht.`,
      hint: 'Installieren Sie die Client-Werkzeuge des Datenbanksystems auf dem Rechner des Agents.',
    }),
    tool_too_old: (x) => ({
      sentence: `Das installierte ${x.tool} ist älter als der Datenbankserver.`,
      hint: 'Installieren Sie Client-Werkzeuge, die mindestens so neu sind wie der Datenbankserver.',
    }),
    tool_failed: (x) => ({
      sentence: `Die Sicherung wurde abgebrochen, weil ${x.tool} einen Fehler gemeldet hat.`,
      hint: 'Die Ausgabe des Werkzeugs nennt die Ursache.',
    }),
    tool_killed: (x) => ({
      sentence: `Die Sicherung wurde abgebrochen, weil ${x.tool} beendet wurde.`,
      hint: 'Prüfen Sie, ob dem Rechner der Arbeitsspeicher ausging oder jemand den Prozess beendet hat.',
    }),
    input_failed: () => ({
      sentence: 'Die Daten der Sicherung konnten nicht gelesen werden.',
      hint: 'Die Ausgabe des Werkzeugs nennt die Ursache.',
    }),
    disk_full: () => ({
      sentence: 'Auf dem Rechner des Agents ist kein Speicherplatz mehr frei.',
      hint: 'Geben Sie Speicherplatz frei; das nächste Backup läuft dann wie geplant.',
    }),
    agent_stopped: () => ({
      sentence: 'Der Agent wurde während der Sicherung beendet; nichts davon wurde behalten.',
      hint: 'Die Sicherung läuft zum nächsten geplanten Zeitpunkt erneut, oder starten Sie sie mit „Jetzt sichern“.',
    }),
    spool_full: () => ({
      sentence:
        'Der Agent konnte das Backup offline nicht hochladen und hat es aus seinem vollen Zwischenspeicher entfernt, um Platz für ein neueres zu schaffen.',
      hint: 'Prüfen Sie die Internetverbindung des Agents oder geben Sie dem Zwischenspeicher mehr Platz.',
    }),
    upload_refused: () => ({
      sentence: 'Die Prüfung des hochgeladenen Backups ist fehlgeschlagen; es wurde nicht behalten.',
      hint: 'Das nächste Backup lädt eine neue Kopie hoch; wenn sich das wiederholt, wenden Sie sich an den Support.',
    }),
    internal: () => ({
      sentence: 'Im Agent ist ein interner Fehler aufgetreten.',
      hint: 'Aktualisieren Sie den Agent mit „resistro update“; wenn sich das wiederholt, wenden Sie sich mit der Ausgabe des Werkzeugs an den Support.',
    }),
  },
  en: {
    connection_failed: (x) => ({
      sentence: `The agent cannot reach the database server ${x.host}:${x.port}.`,
      hint: "Check that the database server is running and that its listen address and firewall admit the agent's machine.",
    }),
    auth_failed: (x) => ({
      sentence: `The database server refused the login of "${x.user}".`,
      hint: 'Check the user name and password in the database settings.',
    }),
    database_missing: (x) => ({
      sentence: `The database "${x.database}" does not exist on the server.`,
      hint: 'Check the database name in the settings, or create the database.',
    }),
    permission_denied: () => ({
      sentence: 'The database user lacks a privilege the backup needs.',
      hint: 'Grant the privileges listed in the documentation for your database system, then test the connection.',
    }),
    tool_missing: (x) => ({
      sentence: `The agent cannot find ${x.tool} on the server.`,
      hint: "Install the database system's client tools on the agent's machine.",
    }),
    tool_too_old: (x) => ({
      sentence: `The installed ${x.tool} is older than the database server.`,
      hint: 'Install client tools at least as new as the database server.',
    }),
    tool_failed: (x) => ({
      sentence: `The backup stopped because ${x.tool} reported an error.`,
      hint: 'The tool output names the cause.',
    }),
    tool_killed: (x) => ({
      sentence: `The backup stopped because ${x.tool} was killed.`,
      hint: 'Check whether the machine ran out of memory or someone stopped the process.',
    }),
    input_failed: () => ({
      sentence: 'The data of the backup could not be read.',
      hint: 'The tool output names the cause.',
    }),
    disk_full: () => ({
      sentence: "The agent's machine has no disk space left.",
      hint: 'Free some disk space; the next backup then runs as scheduled.',
    }),
    agent_stopped: () => ({
      sentence: 'The agent was stopped during the backup; nothing from it was kept.',
      hint: 'The backup runs again at its next scheduled time, or start one with "Back up now".',
    }),
    spool_full: () => ({
      sentence:
        'The agent could not upload the backup while offline and dropped it from its full spool to make room for a newer one.',
      hint: 'Check the connection from the agent to the internet, or give the spool more room.',
    }),
    upload_refused: () => ({
      sentence: 'The check of the uploaded backup failed, so it was not kept.',
      hint: 'The next backup uploads a new copy; if this repeats, contact support.',
    }),
    internal: () => ({
      sentence: 'The agent hit an internal error.',
      hint: 'Update the agent with "resistro update"; if this repeats, contact support with the tool output.',
    }),
  },
};

const DEFAULT_TOOL: Record<Language, string> = { de: 'das Sicherungswerkzeug', en: 'the dump tool' };

/** The sentence and hint for a code, or undefined for none or one this version does not know. */
export function backupErrorText(
  language: Language,
  code: unknown,
  params: unknown,
): { sentence: string; hint: string } | undefined {
  if (typeof code !== 'string' || !(BACKUP_ERROR_CODES as readonly string[]).includes(code)) return undefined;
  const given: Record<string, string> = {};
  if (params && typeof params === 'object')
    for (const [k, v] of Object.entries(params)) if (typeof v === 'string') given[k] = v;
  const x: Params = {
    tool: given.tool ?? DEFAULT_TOOL[language],
    host: given.host ?? '?',
    port: given.port ?? '?',
    user: given.user ?? '?',
    database: given.database ?? '?',
  };
  return TEXTS[language][code as BackupErrorCode](x);
}
