// The texts of continuous protection and point-in-time recovery (issue 13), in English and German.
// Apart from the main dictionaries so that they load with a database's page only.
import { locale, type Params } from './index.ts';

const en = {
  'pitr.title': 'Continuous protection',
  'pitr.intro':
    'The agent also keeps the server’s log (PostgreSQL: WAL, MariaDB/MySQL: binary log) as it is written, encrypted with your key, plus base backups. A restore then goes to any moment in the window, not only to the last dump.',
  'pitr.state.off': 'Off',
  'pitr.state.starting': 'Starting',
  'pitr.state.ok': 'Protected',
  'pitr.state.lagging': 'Behind RPO',
  'pitr.state.gap': 'Gap in the log',
  'pitr.state.stalled': 'Stalled',
  'pitr.stateHint.off': 'Only the scheduled dumps protect this database.',
  'pitr.stateHint.starting':
    'Waiting for the agent: the first base backup and the log after it are on their way (the agent picks this up within a minute).',
  'pitr.stateHint.ok': 'The log in storage is within the RPO target.',
  'pitr.stateHint.lagging': 'The log in storage is further behind the server than the RPO target.',
  'pitr.stateHint.gap':
    'A piece of the log is missing: no restore can cross it. A new base backup is taken at once; moments after it are restorable again.',
  'pitr.stateHint.stalled':
    'The agent has not moved the log on for a long time, or reports an error. Check that the agent runs.',
  'pitr.window': 'Restorable window',
  'pitr.windowNone': 'Not yet',
  'pitr.windowSub': 'from {start} to {end}',
  'pitr.lag': 'Lag',
  'pitr.lagText': '{lag} of {rpo} RPO target',
  'pitr.lagUnknown': 'No report from the agent yet',
  'pitr.lastReport': 'reported {when}',
  'pitr.baseBackup': 'Newest base backup',
  'pitr.baseBackupNone': 'None yet',
  'pitr.baseBackupDue': 'a new one is due',
  'pitr.logStored': 'Log in storage',
  'pitr.logStoredText': '{count} segments, {size}',
  'pitr.agentError': 'The agent reports: {message}',
  'pitr.slotFilling':
    'Replication slot {slot} holds back {size} of WAL on the server. If the agent stays stopped, the server’s disk fills.',
  'pitr.gapTitle': 'Gap after {after}',
  'pitr.gapTitleStart': 'Gap at the start of the log',
  'pitr.gapMissing': 'Missing: {names}',
  'pitr.gapRange': 'From {from} to {to}',
  'pitr.gapOpen': 'From {from} on',
  'pitr.timeline': 'Timeline',
  'pitr.timelineLabel': 'Restorable stretches, base backups and dumps from {start} to {end}',
  'pitr.legendRestorable': 'restorable',
  'pitr.legendBase': 'base backup',
  'pitr.legendDump': 'dump',
  'pitr.baseAt': 'Base backup {when}',
  'pitr.dumpAt': 'Dump {when}',
  'pitr.rangeText': 'Restorable from {start} to {end}',
  'pitr.holeText': 'Not restorable from {start} to {end}',
  'pitr.restoreTitle': 'Restore to…',
  'pitr.restoreHint':
    'Pick a moment: this writes the command to run on a machine with the agent installed and its settings (its env file). The moment is written with its time zone, {zone}.',
  'pitr.targetTime': 'A moment',
  'pitr.targetLatest': 'The newest point in storage',
  'pitr.moment': 'Moment ({zone})',
  'pitr.earliest': 'Earliest',
  'pitr.latest': 'Latest',
  'pitr.dataDir': 'New data directory',
  'pitr.dataDirHint':
    'Must be new or empty. The command writes the recovery settings; start the server on it as the postgres user (see the docs).',
  'pitr.host': 'Host',
  'pitr.port': 'Port',
  'pitr.database': 'New database',
  'pitr.databaseHint':
    'Create it empty first. The newest dump before the moment is restored into it, then the binary log replayed up to the moment; changes from that second on are not replayed.',
  'pitr.user': 'User',
  'pitr.command': 'Command',
  'pitr.refuseNothing':
    'Nothing is restorable yet: the first base backup and the log after it are still on their way.',
  'pitr.refuseBefore': 'That is before the earliest restorable moment, {earliest}. Choose a later moment.',
  'pitr.refuseAfter':
    'That is after the newest moment in storage, {latest}. Choose an earlier moment, or the newest point.',
  'pitr.refuseHole':
    'No restore can reach that moment: the log between {from} and {to} is missing. Choose a moment outside that stretch.',
  'pitr.refuseLatestGap':
    'The log in storage has a gap, so the newest point may lie beyond it. Choose a moment instead: Latest fills in the newest one a restore reaches.',
  'pitr.refuseInvalid': 'Enter a date and time.',
  'pitr.settings': 'Settings',
  'pitr.enabled': 'Continuous protection on',
  'pitr.rpo': 'RPO target (minutes)',
  'pitr.rpoHint': 'The most data a failure may lose; a lag above it alerts. At least 10 seconds.',
  'pitr.baseEvery': 'Base backup every (days)',
  'pitr.baseEveryHint': 'A new base backup (MariaDB/MySQL: a dump); one is also taken at once after a gap.',
  'pitr.windowDays': 'Window (days)',
  'pitr.windowDaysHint': 'How far back a restore can go: at most {max} days on your plan.',
  'pitr.method': 'How the agent gets the WAL',
  'pitr.methodStream': 'Streams it over a replication slot (RPO of seconds)',
  'pitr.methodArchive': "The server hands it over with archive_command = 'resistro wal-push %p'",
  'pitr.save': 'Save',
  'pitr.savedOn': 'Continuous protection is on; the agent starts within a minute.',
  'pitr.savedOff': 'Continuous protection is off. The log already stored stays until the window passes.',
  'pitr.saved': 'Settings saved.',
};

export type PitrTextKey = keyof typeof en;

const de: Record<PitrTextKey, string> = {
  'pitr.title': 'Kontinuierlicher Schutz',
  'pitr.intro':
    'Der Agent sichert zusätzlich das Log des Servers (PostgreSQL: WAL, MariaDB/MySQL: Binärlog), während es geschrieben wird, verschlüsselt mit Ihrem Schlüssel, dazu Basis-Backups. Eine Wiederherstellung erreicht dann jeden Zeitpunkt im Zeitraum, nicht nur den letzten Dump.',
  'pitr.state.off': 'Aus',
  'pitr.state.starting': 'Startet',
  'pitr.state.ok': 'Geschützt',
  'pitr.state.lagging': 'Über RPO',
  'pitr.state.gap': 'Lücke im Log',
  'pitr.state.stalled': 'Steht',
  'pitr.stateHint.off': 'Nur die geplanten Dumps schützen diese Datenbank.',
  'pitr.stateHint.starting':
    'Warten auf den Agenten: Das erste Basis-Backup und das Log danach sind unterwegs (der Agent übernimmt das innerhalb einer Minute).',
  'pitr.stateHint.ok': 'Das Log im Speicher liegt innerhalb des RPO-Ziels.',
  'pitr.stateHint.lagging': 'Das Log im Speicher liegt weiter hinter dem Server als das RPO-Ziel.',
  'pitr.stateHint.gap':
    'Ein Stück des Logs fehlt: Keine Wiederherstellung kommt darüber hinweg. Ein neues Basis-Backup wird sofort erstellt; Zeitpunkte danach sind wieder wiederherstellbar.',
  'pitr.stateHint.stalled':
    'Der Agent hat das Log lange nicht weitergebracht oder meldet einen Fehler. Prüfen Sie, ob der Agent läuft.',
  'pitr.window': 'Wiederherstellbarer Zeitraum',
  'pitr.windowNone': 'Noch nicht',
  'pitr.windowSub': 'von {start} bis {end}',
  'pitr.lag': 'Rückstand',
  'pitr.lagText': '{lag} von {rpo} RPO-Ziel',
  'pitr.lagUnknown': 'Noch keine Meldung vom Agenten',
  'pitr.lastReport': 'gemeldet {when}',
  'pitr.baseBackup': 'Neuestes Basis-Backup',
  'pitr.baseBackupNone': 'Noch keins',
  'pitr.baseBackupDue': 'ein neues ist fällig',
  'pitr.logStored': 'Log im Speicher',
  'pitr.logStoredText': '{count} Segmente, {size}',
  'pitr.agentError': 'Der Agent meldet: {message}',
  'pitr.slotFilling':
    'Der Replikations-Slot {slot} hält {size} WAL auf dem Server zurück. Bleibt der Agent gestoppt, läuft die Platte des Servers voll.',
  'pitr.gapTitle': 'Lücke nach {after}',
  'pitr.gapTitleStart': 'Lücke am Anfang des Logs',
  'pitr.gapMissing': 'Es fehlt: {names}',
  'pitr.gapRange': 'Von {from} bis {to}',
  'pitr.gapOpen': 'Ab {from}',
  'pitr.timeline': 'Zeitleiste',
  'pitr.timelineLabel': 'Wiederherstellbare Abschnitte, Basis-Backups und Dumps von {start} bis {end}',
  'pitr.legendRestorable': 'wiederherstellbar',
  'pitr.legendBase': 'Basis-Backup',
  'pitr.legendDump': 'Dump',
  'pitr.baseAt': 'Basis-Backup {when}',
  'pitr.dumpAt': 'Dump {when}',
  'pitr.rangeText': 'Wiederherstellbar von {start} bis {end}',
  'pitr.holeText': 'Nicht wiederherstellbar von {start} bis {end}',
  'pitr.restoreTitle': 'Wiederherstellen zu…',
  'pitr.restoreHint':
    'Wählen Sie einen Zeitpunkt: Daraus entsteht der Befehl für einen Rechner, auf dem der Agent mit seinen Einstellungen (seiner env-Datei) installiert ist. Der Zeitpunkt steht darin mit seiner Zeitzone, {zone}.',
  'pitr.targetTime': 'Ein Zeitpunkt',
  'pitr.targetLatest': 'Der neueste Stand im Speicher',
  'pitr.moment': 'Zeitpunkt ({zone})',
  'pitr.earliest': 'Frühester',
  'pitr.latest': 'Neuester',
  'pitr.dataDir': 'Neues Datenverzeichnis',
  'pitr.dataDirHint':
    'Muss neu oder leer sein. Der Befehl schreibt die Recovery-Einstellungen; starten Sie den Server darauf als Benutzer postgres (siehe Dokumentation).',
  'pitr.host': 'Host',
  'pitr.port': 'Port',
  'pitr.database': 'Neue Datenbank',
  'pitr.databaseHint':
    'Legen Sie sie vorher leer an. Der neueste Dump vor dem Zeitpunkt wird hineingespielt, dann das Binärlog bis zum Zeitpunkt nachgespielt; Änderungen ab dieser Sekunde nicht mehr.',
  'pitr.user': 'Benutzer',
  'pitr.command': 'Befehl',
  'pitr.refuseNothing':
    'Noch ist nichts wiederherstellbar: Das erste Basis-Backup und das Log danach sind noch unterwegs.',
  'pitr.refuseBefore':
    'Das liegt vor dem frühesten wiederherstellbaren Zeitpunkt, {earliest}. Wählen Sie einen späteren.',
  'pitr.refuseAfter':
    'Das liegt nach dem neuesten Stand im Speicher, {latest}. Wählen Sie einen früheren Zeitpunkt oder den neuesten Stand.',
  'pitr.refuseHole':
    'Diesen Zeitpunkt erreicht keine Wiederherstellung: Das Log zwischen {from} und {to} fehlt. Wählen Sie einen Zeitpunkt außerhalb dieses Abschnitts.',
  'pitr.refuseLatestGap':
    'Das Log im Speicher hat eine Lücke, der neueste Stand kann dahinter liegen. Wählen Sie stattdessen einen Zeitpunkt: Neuester setzt den neuesten ein, den eine Wiederherstellung erreicht.',
  'pitr.refuseInvalid': 'Geben Sie Datum und Uhrzeit ein.',
  'pitr.settings': 'Einstellungen',
  'pitr.enabled': 'Kontinuierlicher Schutz an',
  'pitr.rpo': 'RPO-Ziel (Minuten)',
  'pitr.rpoHint':
    'So viele Daten darf ein Ausfall höchstens kosten; ein größerer Rückstand löst einen Alarm aus. Mindestens 10 Sekunden.',
  'pitr.baseEvery': 'Basis-Backup alle (Tage)',
  'pitr.baseEveryHint':
    'Ein neues Basis-Backup (MariaDB/MySQL: ein Dump); nach einer Lücke wird sofort eins erstellt.',
  'pitr.windowDays': 'Zeitraum (Tage)',
  'pitr.windowDaysHint': 'Wie weit eine Wiederherstellung zurückreicht: höchstens {max} Tage in Ihrem Tarif.',
  'pitr.method': 'Wie der Agent das WAL erhält',
  'pitr.methodStream': 'Er streamt es über einen Replikations-Slot (RPO von Sekunden)',
  'pitr.methodArchive': "Der Server übergibt es mit archive_command = 'resistro wal-push %p'",
  'pitr.save': 'Speichern',
  'pitr.savedOn': 'Kontinuierlicher Schutz ist an; der Agent beginnt innerhalb einer Minute.',
  'pitr.savedOff':
    'Kontinuierlicher Schutz ist aus. Das bereits gespeicherte Log bleibt, bis der Zeitraum verstrichen ist.',
  'pitr.saved': 'Einstellungen gespeichert.',
};

export const PITR_TEXTS = { en, de };

/** The text for `key` in the dashboard's current language with {placeholders} filled in. */
export function pt(key: PitrTextKey, params?: Params): string {
  const text = PITR_TEXTS[locale()][key] ?? en[key];
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}
