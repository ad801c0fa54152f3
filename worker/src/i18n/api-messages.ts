// API error texts in every language, keyed by the English text the code throws. Code anywhere in
// the worker keeps writing `new ApiError(code, 'English text')`; the error handler looks the text
// up here at the boundary and answers in the caller's language. Templates name their variable
// parts `{like_this}`; a text nobody translated yet still reaches a German caller in German (the
// generic text of its code), never in English. api-messages.test.ts walks the contract's schemas
// and the worker's sources so a new text cannot go untranslated unnoticed.
import type { ErrorCode } from '@resistro/contract';
import type { Language } from './language.ts';
import { plural } from './plural.ts';

type Params = Record<string, string>;
type Render = string | ((p: Params) => string);
/** `de` always; `en` only where the thrown English needs fixing (plurals). */
type Entry = { de: Render; en?: Render };

const WHAT_DE: Record<string, string> = {
  backup: 'Backup',
  account: 'Konto',
  agent: 'Agent',
  channel: 'Kanal',
  'API key': 'API-Schlüssel',
  database: 'Datenbank',
  alert: 'Alarm',
  user: 'Benutzer',
  'metrics token': 'Metrik-Token',
  transaction: 'Zahlung',
  delivery: 'Zustellung',
  restore: 'Wiederherstellung',
  'restore test': 'Wiederherstellungstest',
  member: 'Mitglied',
  invitation: 'Einladung',
  session: 'Sitzung',
  segment: 'Segment',
  pack: 'Paket',
};

const ROLE_DE: Record<string, string> = {
  owner: 'Inhaber',
  admin: 'Admin',
  operator: 'Operator',
  viewer: 'Betrachter',
};

const STATUS_DE: Record<string, string> = {
  running: 'läuft noch',
  succeeded: 'erfolgreich',
  failed: 'fehlgeschlagen',
};

const databasesDe = (n: string) =>
  plural('de', Number(n), { one: '{n} Datenbank', other: '{n} Datenbanken' });
const databasesEn = (n: string) => plural('en', Number(n), { one: '{n} database', other: '{n} databases' });
/** 2026-12-31 → 31.12.2026 */
const dateDe = (iso: string) => iso.split('-').reverse().join('.');
const daysDe = (n: string) => plural('de', Number(n), { one: '{n} Tag', other: '{n} Tage' });

/** The `message` of an error, by its English text or template. */
export const MESSAGES: Record<string, Entry> = {
  // identity (issue 16): verification, reset, 2FA, sessions, SSO
  'This link is invalid, was already used or has expired': {
    de: 'Dieser Link ist ungültig, wurde schon benutzt oder ist abgelaufen',
  },
  'The current password is wrong': { de: 'Das aktuelle Passwort ist falsch' },
  'No single sign-on is set up for this e-mail domain': {
    de: 'Für diese E-Mail-Domain ist kein Single Sign-on eingerichtet',
  },
  'Single sign-on is part of the Enterprise plan': { de: 'Single Sign-on gehört zum Enterprise-Tarif' },
  'The client secret is required': { de: 'Das Client-Secret ist erforderlich' },
  'The identity provider answered with an unusable address': {
    de: 'Der Identitätsanbieter hat eine unbrauchbare Adresse geliefert',
  },
  'The identity provider cannot be reached or has no OpenID configuration': {
    de: 'Der Identitätsanbieter ist nicht erreichbar oder hat keine OpenID-Konfiguration',
  },
  'The identity provider must use https': { de: 'Der Identitätsanbieter muss https verwenden' },
  'This e-mail address belongs to another Resistro account': {
    de: 'Diese E-Mail-Adresse gehört zu einem anderen Resistro-Konto',
  },
  'Your identity provider did not confirm an address in a domain of this account': {
    de: 'Ihr Identitätsanbieter hat keine Adresse in einer Domain dieses Kontos bestätigt',
  },
  'The single sign-on did not succeed; start it again from the log-in page': {
    de: 'Die Anmeldung per Single Sign-on ist nicht gelungen; starten Sie sie erneut auf der Anmeldeseite',
  },
  'This is already your e-mail address': { de: 'Das ist bereits Ihre E-Mail-Adresse' },
  'The e-mail address is already verified': { de: 'Die E-Mail-Adresse ist bereits bestätigt' },
  'Too many password reset requests; wait 15 minutes and try again': {
    de: 'Zu viele Anfragen zum Zurücksetzen des Passworts; warten Sie 15 Minuten und versuchen Sie es erneut',
  },
  'Too many wrong codes; wait 15 minutes and try again': {
    de: 'Zu viele falsche Codes; warten Sie 15 Minuten und versuchen Sie es erneut',
  },
  'The code is wrong or was already used': { de: 'Der Code ist falsch oder wurde schon benutzt' },
  'Two-factor authentication is already on': { de: 'Die Zwei-Faktor-Anmeldung ist bereits aktiv' },
  'Two-factor authentication is already on; turn it off first': {
    de: 'Die Zwei-Faktor-Anmeldung ist bereits aktiv; schalten Sie sie zuerst aus',
  },
  'Two-factor authentication is not on': { de: 'Die Zwei-Faktor-Anmeldung ist nicht aktiv' },
  'Start the two-factor setup first (POST /auth/2fa/setup)': {
    de: 'Starten Sie zuerst die Einrichtung der Zwei-Faktor-Anmeldung (POST /auth/2fa/setup)',
  },
  'Only a logged-in user can do this; API keys cannot': {
    de: 'Das kann nur ein angemeldeter Benutzer, kein API-Schlüssel',
  },
  'Only a logged-in user with two-factor authentication can require it': {
    de: 'Nur ein angemeldeter Benutzer mit Zwei-Faktor-Anmeldung kann sie verlangen',
  },
  'Turn on two-factor authentication for yourself first': {
    de: 'Schalten Sie zuerst Ihre eigene Zwei-Faktor-Anmeldung ein',
  },
  'The log-in has expired; enter your e-mail address and password again': {
    de: 'Die Anmeldung ist abgelaufen; geben Sie E-Mail-Adresse und Passwort erneut ein',
  },
  'Your team requires two-factor authentication: set it up in Settings → Security first': {
    de: 'Ihr Team verlangt die Zwei-Faktor-Anmeldung: richten Sie sie zuerst unter Einstellungen → Sicherheit ein',
  },
  'Your team requires two-factor authentication; it cannot be turned off': {
    de: 'Ihr Team verlangt die Zwei-Faktor-Anmeldung; sie kann nicht ausgeschaltet werden',
  },
  // request shape
  'The request body is larger than 1 MiB': { de: 'Der Anfrage-Body ist größer als 1 MiB' },
  'The request body must be JSON (Content-Type: application/json)': {
    de: 'Der Anfrage-Body muss JSON sein (Content-Type: application/json)',
  },
  'The request body is not valid JSON': { de: 'Der Anfrage-Body ist kein gültiges JSON' },
  'The request could not be read': { de: 'Die Anfrage konnte nicht gelesen werden' },
  'No such route': { de: 'Diese Adresse gibt es nicht' },
  'Internal error; it has been logged': { de: 'Interner Fehler; er wurde protokolliert' },
  '{what} not found': { de: (p) => `${WHAT_DE[p.what!] ?? 'Eintrag'} nicht gefunden` },
  // log-in and access
  'Log in or send an API key': { de: 'Melden Sie sich an oder senden Sie einen API-Schlüssel' },
  'The Authorization header must be "Bearer rsk_..."': {
    de: 'Der Authorization-Header muss „Bearer rsk_…“ lauten',
  },
  'The API key is unknown or revoked': { de: 'Der API-Schlüssel ist unbekannt oder widerrufen' },
  'Only an owner may change the plan': { de: 'Nur ein Inhaber darf den Tarif ändern' },
  // members and invitations
  'An account always keeps at least one owner: make another member owner first': {
    de: 'Ein Konto behält immer mindestens einen Inhaber: machen Sie zuerst ein anderes Mitglied zum Inhaber',
  },
  'Only an owner may give or take the owner role': {
    de: 'Nur ein Inhaber darf die Rolle Inhaber vergeben oder entziehen',
  },
  'Only an owner may remove an owner': { de: 'Nur ein Inhaber darf einen Inhaber entfernen' },
  'Only an owner may invite an owner': { de: 'Nur ein Inhaber darf einen Inhaber einladen' },
  'This e-mail address already has a Resistro account': {
    de: 'Für diese E-Mail-Adresse gibt es schon ein Resistro-Konto',
  },
  'This address is already a member': { de: 'Diese Adresse ist schon Mitglied' },
  'This invitation is used, withdrawn or unknown': {
    de: 'Diese Einladung wurde schon verwendet, zurückgezogen oder ist unbekannt',
  },
  'This invitation has expired; ask for a new one': {
    de: 'Diese Einladung ist abgelaufen; bitten Sie um eine neue',
  },
  'An agent key needs the operator role or higher': {
    de: 'Ein Agent-Schlüssel erfordert die Rolle Operator oder höher',
  },
  'Only an admin may revoke an API key another member created': {
    de: 'Nur ein Admin darf einen API-Schlüssel widerrufen, den ein anderes Mitglied erstellt hat',
  },
  'Your role (viewer) may not download backups unless an admin grants it': {
    de: 'Ihre Rolle (Betrachter) darf Backups nur herunterladen, wenn ein Admin es erlaubt',
  },
  'Your role ({role}) does not allow this; it needs {need}': {
    de: (p) =>
      `Ihre Rolle (${ROLE_DE[p.role!] ?? p.role}) erlaubt das nicht; nötig ist ${ROLE_DE[p.need!] ?? p.need}`,
  },
  "This API key's scope ({scope}) does not allow this": {
    de: (p) => `Der Bereich dieses API-Schlüssels (${p.scope}) erlaubt das nicht`,
  },
  'Cross-site request refused: the Origin header does not match this service': {
    de: 'Seitenübergreifende Anfrage abgelehnt: Der Origin-Header passt nicht zu diesem Dienst',
  },
  'Only a logged-in user has a profile; use GET /api/v1/account with an API key': {
    de: 'Nur angemeldete Benutzer haben ein Profil; verwenden Sie mit einem API-Schlüssel GET /api/v1/account',
  },
  'Send the metrics token as "Authorization: Bearer rsm_..."': {
    de: 'Senden Sie das Metrik-Token als „Authorization: Bearer rsm_…“',
  },
  'The metrics token is unknown or was rotated': { de: 'Das Metrik-Token ist unbekannt oder wurde erneuert' },
  'An account with this e-mail address already exists': {
    de: 'Zu dieser E-Mail-Adresse gibt es schon ein Konto',
  },
  'Too many failed log-in attempts; wait 15 minutes and try again': {
    de: 'Zu viele fehlgeschlagene Anmeldeversuche; warten Sie 15 Minuten und versuchen Sie es erneut',
  },
  'The e-mail address or the password is wrong': { de: 'E-Mail-Adresse oder Passwort ist falsch' },
  // account and plan
  // closing (cancellation, deletion on request)
  'This account is cancelled and read-only; its backups can be downloaded until {date}, then everything is deleted':
    {
      de: (p) =>
        `Dieses Konto ist gekündigt und nur noch lesbar; seine Backups können bis ${dateDe(p.date!)} heruntergeladen werden, danach wird alles gelöscht`,
    },
  'This account is being deleted as requested and is read-only; its backups can be downloaded until {date}, then everything is deleted':
    {
      de: (p) =>
        `Dieses Konto wird auf Ihren Wunsch gelöscht und ist nur noch lesbar; seine Backups können bis ${dateDe(p.date!)} heruntergeladen werden, danach wird alles gelöscht`,
    },
  'Only a logged-in user can delete the account (it asks for the password)': {
    de: 'Nur ein angemeldeter Benutzer kann das Konto löschen (dafür wird das Passwort abgefragt)',
  },
  'host, port and transport belong to syslog channels; this channel is of another type': {
    de: 'host, port und transport gehören zu Syslog-Kanälen; dieser Kanal ist von anderer Art',
  },
  'routingKey belongs to PagerDuty channels; this channel is of another type': {
    de: 'routingKey gehört zu PagerDuty-Kanälen; dieser Kanal ist von anderer Art',
  },
  'SQLite, Redis and directory backups are restored with resistro restore where the agent runs': {
    de: 'SQLite-, Redis- und Verzeichnis-Backups stellen Sie mit resistro restore auf dem Rechner des Agents wieder her',
  },
  'This account is neither cancelled nor being deleted': {
    de: 'Dieses Konto ist weder gekündigt noch zur Löschung vorgemerkt',
  },
  'The 30 days are over; this account is being deleted': {
    de: 'Die 30 Tage sind vorbei; dieses Konto wird gelöscht',
  },
  'The {plan} plan allows {n} database(s); upgrade to add more': {
    de: (p) =>
      `Der Plan ${p.plan} erlaubt ${databasesDe(p.n!)}; wechseln Sie in einen größeren Plan, um weitere hinzuzufügen`,
    en: (p) => `The ${p.plan} plan allows ${databasesEn(p.n!)}; upgrade to add more`,
  },
  'The {plan} plan allows {n} database(s); delete some first': {
    de: (p) => `Der Plan ${p.plan} erlaubt ${databasesDe(p.n!)}; löschen Sie zuerst Datenbanken`,
    en: (p) => `The ${p.plan} plan allows ${databasesEn(p.n!)}; delete some first`,
  },
  'The {plan} plan keeps backups at most {n} days': {
    de: (p) => `Der Plan ${p.plan} bewahrt Backups höchstens ${daysDe(p.n!)} auf`,
  },
  'The {plan} plan keeps backups at most {n} days; shorten the retention of your databases first': {
    de: (p) =>
      `Der Plan ${p.plan} bewahrt Backups höchstens ${daysDe(p.n!)} auf; verkürzen Sie zuerst die Aufbewahrung Ihrer Datenbanken`,
  },
  'The storage quota of the {plan} plan is used up; delete backups or upgrade': {
    de: (p) =>
      `Der Speicher des Plans ${p.plan} ist aufgebraucht; löschen Sie Backups oder wechseln Sie in einen größeren Plan`,
  },
  // billing (Paddle)
  'Billing is not enabled on this service': { de: 'Auf diesem Dienst ist keine Abrechnung eingerichtet' },
  'Paddle could not complete this; try again': {
    de: 'Paddle konnte das nicht abschließen; versuchen Sie es erneut',
  },
  'This account already has a subscription; change its plan instead': {
    de: 'Dieses Konto hat bereits ein Abonnement; wechseln Sie stattdessen den Plan',
  },
  'This account has no subscription yet; complete the checkout first': {
    de: 'Dieses Konto hat noch kein Abonnement; schließen Sie zuerst die Bezahlung ab',
  },
  'The plan can change once the subscription is paid and active': {
    de: 'Der Plan kann gewechselt werden, sobald das Abonnement bezahlt und aktiv ist',
  },
  'The account is on this plan already': { de: 'Das Konto hat diesen Plan bereits' },
  'The {plan} plan does not fit this account yet; change what the preview lists first': {
    de: (p) =>
      `Der Plan ${p.plan} passt noch nicht zu diesem Konto; ändern Sie zuerst, was die Vorschau nennt`,
  },
  'This payment has no invoice yet': { de: 'Für diese Zahlung gibt es noch keine Rechnung' },
  'The Paddle-Signature header is missing, stale or does not match': {
    de: 'Der Paddle-Signature-Header fehlt, ist veraltet oder passt nicht',
  },
  'Invalid input: not a Paddle event': { de: 'Ungültige Eingabe: kein Paddle-Ereignis' },
  'Invalid input: not a Paddle subscription': { de: 'Ungültige Eingabe: kein Paddle-Abonnement' },
  'Invalid input: not a Paddle transaction': { de: 'Ungültige Eingabe: keine Paddle-Transaktion' },
  'The subscription is paused; new backups are stopped until it is resumed': {
    de: 'Das Abonnement ist pausiert; neue Backups sind angehalten, bis es fortgesetzt wird',
  },
  'No payment has arrived since sign-up; new backups are stopped until the subscription is paid': {
    de: 'Seit der Registrierung ist keine Zahlung eingegangen; neue Backups sind angehalten, bis das Abonnement bezahlt ist',
  },
  'A payment failed and the grace period has ended; new backups are stopped until the payment method is updated':
    {
      de: 'Eine Zahlung ist fehlgeschlagen und die Kulanzfrist ist abgelaufen; neue Backups sind angehalten, bis die Zahlungsmethode aktualisiert ist',
    },
  'An account can have at most {n} channels; delete one first': {
    de: (p) => `Ein Konto kann höchstens ${p.n} Kanäle haben; löschen Sie zuerst einen`,
  },
  // databases, agents, backups
  'This agent still runs databases; move or delete them first': {
    de: 'Dieser Agent sichert noch Datenbanken; verschieben oder löschen Sie sie zuerst',
  },
  'This database is paused; resume it first': {
    de: 'Diese Datenbank ist pausiert; setzen Sie sie zuerst fort',
  },
  'This database is run by another agent': { de: 'Diese Datenbank wird von einem anderen Agent gesichert' },
  'A newer connection check was requested; this result is outdated': {
    de: 'Eine neuere Verbindungsprüfung wurde angefordert; dieses Ergebnis ist veraltet',
  },
  'This backup is {status}, not running': {
    de: (p) => `Dieses Backup ist ${STATUS_DE[p.status!] ?? p.status}, es läuft nicht mehr`,
  },
  'This backup request is unknown or already taken': {
    de: 'Diese Backup-Anforderung ist unbekannt oder wurde schon übernommen',
  },
  'This backup was completed or failed meanwhile': {
    de: 'Dieses Backup wurde inzwischen abgeschlossen oder ist fehlgeschlagen',
  },
  'This backup is still running': { de: 'Dieses Backup läuft noch' },
  'Only a successful backup can be downloaded; this one is {status}': {
    de: (p) =>
      `Nur ein erfolgreiches Backup kann heruntergeladen werden; dieses ist ${STATUS_DE[p.status!] ?? p.status}`,
  },
  '{error}; the backup was marked failed': {
    de: (p) => `${MESSAGE_DE_OR_SELF(p.error!)}; das Backup wurde als fehlgeschlagen markiert`,
  },
  // deduplicated storage (issue 17)
  'The stored pack has {stored} bytes, the agent announced {announced}; upload it again': {
    de: (p) =>
      `Das gespeicherte Paket hat ${p.stored} Bytes, der Agent hat ${p.announced} angekündigt; laden Sie es erneut hoch`,
  },
  '{n} of these chunks are not stored in this account; upload their packs first': {
    de: (p) =>
      `${p.n} dieser Blöcke sind in diesem Konto nicht gespeichert; laden Sie zuerst ihre Pakete hoch`,
  },
  'This backup has {recorded} chunk references recorded, not {expected}; send the rest first': {
    de: (p) =>
      `Für dieses Backup sind ${p.recorded} Blockverweise gespeichert, nicht ${p.expected}; senden Sie zuerst den Rest`,
  },
  'This backup is one file, not deduplicated; download it instead': {
    de: 'Dieses Backup ist eine einzelne Datei, nicht dedupliziert; laden Sie es stattdessen herunter',
  },
  'Chunks of this backup are missing from the index': {
    de: 'Blöcke dieses Backups fehlen im Index',
  },
  'This download link is invalid or expired; ask for a new one': {
    de: 'Dieser Download-Link ist ungültig oder abgelaufen; fordern Sie einen neuen an',
  },
  // a second storage location (issue 18)
  "The backup's file is missing from storage": {
    de: 'Die Datei des Backups fehlt im Object Storage',
  },
  'No second storage location is set': { de: 'Es ist kein zweiter Speicherort eingerichtet' },
  'The second storage location cannot be used: its secret does not open': {
    de: 'Der zweite Speicherort kann nicht verwendet werden: sein Secret lässt sich nicht entschlüsseln',
  },
  'The bucket could not be written to with these credentials; check the endpoint, region, bucket and keys': {
    de: 'Mit diesen Zugangsdaten konnte nicht in den Bucket geschrieben werden; prüfen Sie Endpunkt, Region, Bucket und Schlüssel',
  },
  'A second storage location needs the Business plan or higher; the {plan} plan has none': {
    de: (p) => `Ein zweiter Speicherort braucht den Plan Business oder höher; der Plan ${p.plan} hat keinen`,
  },
  'This service has no data key (DATA_ENCRYPTION_KEYS); a second storage location cannot be stored': {
    de: 'Dieser Dienst hat keinen Datenschlüssel (DATA_ENCRYPTION_KEYS); ein zweiter Speicherort kann nicht gespeichert werden',
  },
  'The copy read back does not match the SHA-256 recorded at backup': {
    de: 'Die zurückgelesene Kopie stimmt nicht mit der beim Backup gespeicherten SHA-256 überein',
  },
  'The copy of a pack read back does not match the pack': {
    de: 'Die zurückgelesene Kopie eines Packs stimmt nicht mit dem Pack überein',
  },
  'The rewritten pack has {size} bytes, not {expected}': {
    de: (p) => `Das neu geschriebene Pack hat ${p.size} Bytes statt ${p.expected}`,
  },
  "This backup's copy is {status}, not waiting for a transfer": {
    de: (p) => `Die Kopie dieses Backups ist ${p.status} und wartet auf keine Übertragung`,
  },
  'The second storage location was removed or changed; nothing to copy to': {
    de: 'Der zweite Speicherort wurde entfernt oder geändert; es gibt kein Ziel für die Kopie',
  },
  'This copy has no transfer running; start it first': {
    de: 'Für diese Kopie läuft keine Übertragung; starten Sie sie zuerst',
  },
  'Object storage refused the server-side copy ({code})': {
    de: (p) => `Der Object Storage hat die serverseitige Kopie abgelehnt (${p.code})`,
  },
  // object storage
  'Object storage did not delete the backup; try again': {
    de: 'Der Object Storage hat das Backup nicht gelöscht; versuchen Sie es erneut',
  },
  'Object storage unreachable during {what}': {
    de: (p) => `Der Object Storage war nicht erreichbar (${p.what})`,
  },
  'Object storage failed to {what} ({status})': {
    de: (p) => `Der Object Storage hat einen Fehler gemeldet (${p.what}, ${p.status})`,
  },
  'Object storage refused the upload ({status})': {
    de: (p) => `Der Object Storage hat den Upload abgelehnt (${p.status})`,
  },
  'Object storage failed to complete the upload ({code})': {
    de: (p) => `Der Object Storage konnte den Upload nicht abschließen (${p.code})`,
  },
  'Object storage refused the object ({code})': {
    de: (p) => `Der Object Storage hat das Objekt abgelehnt (${p.code})`,
  },
  'Object storage refused the parts ({code}); upload them again': {
    de: (p) => `Der Object Storage hat die Teile abgelehnt (${p.code}); laden Sie sie erneut hoch`,
  },
  'Object storage failed to abort the upload ({status})': {
    de: (p) => `Der Object Storage konnte den Upload nicht abbrechen (${p.status})`,
  },
  'Object storage failed to report the object ({status})': {
    de: (p) => `Der Object Storage konnte das Objekt nicht melden (${p.status})`,
  },
  'Object storage failed to delete ({status})': {
    de: (p) => `Der Object Storage konnte nicht löschen (${p.status})`,
  },
  // restore tests (issue 14)
  'Restore tests run for PostgreSQL, MySQL and MariaDB databases; test SQLite, Redis and directory backups with resistro verify':
    {
      de: 'Wiederherstellungstests laufen für PostgreSQL-, MySQL- und MariaDB-Datenbanken; prüfen Sie SQLite-, Redis- und Verzeichnis-Backups mit resistro verify',
    },
  'This database has no agent': { de: 'Diese Datenbank hat keinen Agent' },
  'No such backup of this database': { de: 'Dieses Backup gibt es bei dieser Datenbank nicht' },
  'Only a successful backup can be tested': { de: 'Nur ein erfolgreiches Backup kann getestet werden' },
  'A restore test of this database is already under way': {
    de: 'Für diese Datenbank läuft bereits ein Wiederherstellungstest',
  },
  'This restore test is already over': { de: 'Dieser Wiederherstellungstest ist schon beendet' },
  'This restore test is no longer waiting': { de: 'Dieser Wiederherstellungstest wartet nicht mehr' },
  'This restore test is not running': { de: 'Dieser Wiederherstellungstest läuft nicht' },
  'Your plan runs restore tests at most every {n} hours': {
    de: (p) => `Ihr Plan führt Wiederherstellungstests höchstens alle ${p.n} Stunden aus`,
  },
  'Give each check its own name': { de: 'Geben Sie jeder Prüfung einen eigenen Namen' },
  'Choose scratch to test on the database’s own server': {
    de: 'Wählen Sie „scratch“, um auf dem eigenen Server der Datenbank zu testen',
  },
  'The verdict is of another backup': { de: 'Das Ergebnis gehört zu einem anderen Backup' },
  'No such check in this test': { de: 'Diese Prüfung gehört nicht zu diesem Test' },
  'More failing tables listed than counted': { de: 'Mehr fehlerhafte Tabellen aufgeführt als gezählt' },
  'More failing tables than checked': { de: 'Mehr fehlerhafte Tabellen als geprüfte' },
  'A test with failures cannot pass': { de: 'Ein Test mit Fehlern kann nicht bestehen' },
  'A passed test reports every check': { de: 'Ein bestandener Test meldet jede Prüfung' },
  'A passed test reports its restore time': {
    de: 'Ein bestandener Test meldet seine Wiederherstellungszeit',
  },
  'A failed test names what failed': { de: 'Ein fehlgeschlagener Test nennt, was fehlschlug' },
  'A test that could not finish says why': { de: 'Ein Test, der nicht abgeschlossen wurde, nennt den Grund' },
  // restores (issue 20)
  'No such backup': { de: 'Dieses Backup gibt es nicht' },
  'Give either backupId or databaseId': { de: 'Geben Sie entweder backupId oder databaseId an' },
  'No such database': { de: 'Diese Datenbank gibt es nicht' },
  'Only a successful backup can be restored': {
    de: 'Nur ein erfolgreiches Backup kann wiederhergestellt werden',
  },
  'This database has no successful backup yet': { de: 'Diese Datenbank hat noch kein erfolgreiches Backup' },
  'Enter your password to replace the original database': {
    de: 'Geben Sie Ihr Passwort ein, um die ursprüngliche Datenbank zu ersetzen',
  },
  'The password is wrong': { de: 'Das Passwort ist falsch' },
  'The database of this backup was deleted; download the backup and restore it with resistro restore': {
    de: 'Die Datenbank dieses Backups wurde gelöscht; laden Sie das Backup herunter und stellen Sie es mit resistro restore wieder her',
  },
  'The database of this backup has no agent': { de: 'Die Datenbank dieses Backups hat keinen Agent' },
  'A new database needs a name of its own': { de: 'Eine neue Datenbank braucht einen eigenen Namen' },
  'Choose the original database as the target to replace it': {
    de: 'Wählen Sie die ursprüngliche Datenbank als Ziel, um sie zu ersetzen',
  },
  'The target database must run on the same agent': {
    de: 'Die Zieldatenbank muss auf demselben Agent laufen',
  },
  'The target database must be the same kind of server': {
    de: 'Die Zieldatenbank muss auf derselben Art von Server liegen',
  },
  'Type the name of the database to confirm the replace': {
    de: 'Tippen Sie den Namen der Datenbank ein, um das Ersetzen zu bestätigen',
  },
  'A restore into this database is already under way': {
    de: 'In diese Datenbank läuft bereits eine Wiederherstellung',
  },
  'This restore is already over': { de: 'Diese Wiederherstellung ist bereits beendet' },
  'This restore is no longer waiting': { de: 'Diese Wiederherstellung wartet nicht mehr' },
  'This restore is not running': { de: 'Diese Wiederherstellung läuft nicht' },
  'A failed restore needs its errorCode': {
    de: 'Eine fehlgeschlagene Wiederherstellung braucht ihren errorCode',
  },
  // retention (issue 18)
  'This backup is locked until {date}; storage refuses to delete it before then': {
    de: (p) => `Dieses Backup ist bis ${p.date} gesperrt; der Speicher verweigert das Löschen vorher`,
  },
  'The backup is locked; storage refuses to delete it before its date': {
    de: 'Das Backup ist gesperrt; der Speicher verweigert das Löschen vor seinem Datum',
  },
  'This account has as many open invitations as it may have; withdraw some or wait until they expire': {
    de: 'Dieses Konto hat so viele offene Einladungen, wie es haben darf; ziehen Sie einige zurück oder warten Sie, bis sie ablaufen',
  },
  'Single sign-on is not set up on this service (DATA_ENCRYPTION_KEYS)': {
    de: 'Single Sign-on ist auf diesem Dienst nicht eingerichtet (DATA_ENCRYPTION_KEYS)',
  },
  'Two-factor authentication is not set up on this service (DATA_ENCRYPTION_KEYS)': {
    de: 'Die Zwei-Faktor-Anmeldung ist auf diesem Dienst nicht eingerichtet (DATA_ENCRYPTION_KEYS)',
  },
  'Signed exports are not set up on this service (AUDIT_SIGNING_KEY)': {
    de: 'Signierte Exporte sind auf diesem Dienst nicht eingerichtet (AUDIT_SIGNING_KEY)',
  },
  "This service's storage was not created with object lock; backups cannot be locked": {
    de: 'Der Speicher dieses Dienstes wurde nicht mit Object Lock angelegt; Backups können nicht gesperrt werden',
  },
  // point-in-time recovery (issue 13)
  'Continuous protection is off for this database; turn it on first': {
    de: 'Der kontinuierliche Schutz ist für diese Datenbank aus; schalten Sie ihn zuerst ein',
  },
  'Your plan keeps backups for at most {days} days': {
    de: (p) => `Ihr Tarif bewahrt Backups höchstens ${daysDe(p.days!)} auf`,
  },
  'Segment {name} is not in storage with the size given; upload it again': {
    de: (p) =>
      `Segment ${p.name} liegt nicht mit der angegebenen Größe im Speicher; laden Sie es erneut hoch`,
  },
  'Segment {name} is registered already with other content': {
    de: (p) => `Segment ${p.name} ist bereits mit anderem Inhalt registriert`,
  },
  'Only a successful backup can be a base backup; this one is {status}': {
    de: (p) =>
      `Nur ein erfolgreiches Backup kann ein Basis-Backup sein; dieses ist ${STATUS_DE[p.status!] ?? p.status}`,
  },
  'The log has a gap before the target: segment {names} is missing; choose a point before {position}': {
    de: (p) =>
      `Das Log hat vor dem Ziel eine Lücke: Segment ${p.names} fehlt; wählen Sie einen Zeitpunkt vor ${p.position}`,
  },
  'There is no base backup yet; the agent takes one once protection is on': {
    de: 'Es gibt noch kein Basis-Backup; der Agent erstellt eines, sobald der Schutz eingeschaltet ist',
  },
  'The target lies outside the restorable window {start} – {end}': {
    de: (p) => `Das Ziel liegt außerhalb des wiederherstellbaren Zeitraums ${p.start} – ${p.end}`,
  },
  'Nothing is restorable yet: the first base backup has no log after it': {
    de: 'Noch ist nichts wiederherstellbar: nach dem ersten Basis-Backup gibt es noch kein Log',
  },
};

/** What a field is wrong about: the contract's valibot messages and the worker's own. */
export const FIELD_MESSAGES: Record<string, Entry> = {
  // a second storage location's transfers (issue 18)
  'must be base64': { de: 'muss Base64 sein' },
  'could not be written to with these credentials': {
    de: 'konnte mit diesen Zugangsdaten nicht beschrieben werden',
  },
  'must not be the primary bucket': { de: 'darf nicht der primäre Bucket sein' },
  'at most 10000 parts': { de: 'höchstens 10000 Teile' },
  'must be a SHA-256 in hex': { de: 'muss eine SHA-256 in Hex sein' },
  // point-in-time recovery (issue 13)
  'must be at least 10 seconds': { de: 'muss mindestens 10 Sekunden sein' },
  'may contain only letters, digits, dot, underscore and hyphen': {
    de: 'darf nur Buchstaben, Ziffern, Punkt, Unterstrich und Bindestrich enthalten',
  },
  'must be 64 lower-case hex digits': { de: 'muss aus 64 kleingeschriebenen Hex-Ziffern bestehen' },
  'must be the base64 of 16 bytes': { de: 'muss das Base64 von 16 Bytes sein' },
  'must be greater than startOffset': { de: 'muss größer als startOffset sein' },
  'must not be less than startOffset': { de: 'darf nicht kleiner als startOffset sein' },
  'must have at most 100 segments': { de: 'darf höchstens 100 Segmente haben' },
  'must be true': { de: 'muss true sein' },
  'give exactly one of time, offset, latest': { de: 'geben Sie genau eines von time, offset, latest an' },
  'is required by this storage': { de: 'ist für diesen Speicher nötig' },
  'lists a segment twice': { de: 'nennt ein Segment zweimal' },
  'needs PostgreSQL, MariaDB or MySQL': { de: 'braucht PostgreSQL, MariaDB oder MySQL' },
  'must be at most {days} days on your plan': {
    de: (p) => `darf in Ihrem Tarif höchstens ${daysDe(p.days!)} sein`,
  },
  // restore tests (issue 14)
  'must be at least {n} on your plan': { de: (p) => `muss in Ihrem Plan mindestens ${p.n} sein` },
  'is the tested database itself': { de: 'ist die getestete Datenbank selbst' },
  'is used by another check': { de: 'wird schon von einer anderen Prüfung verwendet' },
  'no such backup of this database': { de: 'dieses Backup gibt es bei dieser Datenbank nicht' },
  'is not the backup of this test': { de: 'ist nicht das Backup dieses Tests' },
  'is not a check of this test': { de: 'ist keine Prüfung dieses Tests' },
  'is less than the failures listed': { de: 'ist kleiner als die Zahl der aufgeführten Fehler' },
  'is more than tables.checked': { de: 'ist größer als tables.checked' },
  'is passed but a table or check failed': {
    de: 'ist passed, aber eine Tabelle oder Prüfung ist fehlgeschlagen',
  },
  'must hold a result for every check': { de: 'muss für jede Prüfung ein Ergebnis enthalten' },
  'is required for a passed test': { de: 'ist für einen bestandenen Test nötig' },
  'is failed but no table or check failed': {
    de: 'ist failed, aber keine Tabelle und keine Prüfung ist fehlgeschlagen',
  },
  'is required for status error': { de: 'ist für den Status error nötig' },
  'must be one SELECT (or WITH … SELECT) statement returning one value': {
    de: 'muss eine einzige SELECT-Abfrage (oder WITH … SELECT) sein, die einen Wert liefert',
  },
  'must be a list': { de: 'muss eine Liste sein' },
  'must hold at most {n} checks': { de: (p) => `darf höchstens ${p.n} Prüfungen enthalten` },
  'must hold at most {n} tables': { de: (p) => `darf höchstens ${p.n} Tabellen enthalten` },
  'must hold at most {n} results': { de: (p) => `darf höchstens ${p.n} Ergebnisse enthalten` },
  'is not a known restore test error code': {
    de: 'ist kein bekannter Fehlercode eines Wiederherstellungstests',
  },
  'must be YYYY-MM': { de: 'muss die Form JJJJ-MM haben' },
  'must be scratch or database': { de: 'muss scratch oder database sein' },
  // deduplicated storage (issue 17)
  'must be a chunk id (43 base64url characters)': { de: 'muss eine Block-ID sein (43 base64url-Zeichen)' },
  'at most 1000 ids per request': { de: 'höchstens 1000 IDs pro Anfrage' },
  'at most 5000 ids per request': { de: 'höchstens 5000 IDs pro Anfrage' },
  'must lie inside the pack, in order, without overlapping': {
    de: 'müssen der Reihe nach im Paket liegen, ohne sich zu überlappen',
  },
  'is available for PostgreSQL, MySQL and MariaDB databases only': {
    de: 'gibt es nur für PostgreSQL-, MySQL- und MariaDB-Datenbanken',
  },
  // restores (issue 20)
  'no such backup': { de: 'dieses Backup gibt es nicht' },
  'no such database': { de: 'diese Datenbank gibt es nicht' },
  'is required to replace the original database': {
    de: 'ist nötig, um die ursprüngliche Datenbank zu ersetzen',
  },
  'is the name of the original database': { de: 'ist der Name der ursprünglichen Datenbank' },
  'is the original database': { de: 'ist die ursprüngliche Datenbank' },
  'runs on another agent': { de: 'läuft auf einem anderen Agent' },
  'is another kind of server': { de: 'liegt auf einer anderen Art von Server' },
  'does not match the database name': { de: 'stimmt nicht mit dem Datenbanknamen überein' },
  'is required for a failed restore': { de: 'ist für eine fehlgeschlagene Wiederherstellung nötig' },
  'must start with a letter or _ and hold only letters, digits, _ and -': {
    de: 'muss mit einem Buchstaben oder _ beginnen und darf nur Buchstaben, Ziffern, _ und - enthalten',
  },
  'must be new, database or original': { de: 'muss new, database oder original sein' },
  'give either backupId or databaseId': { de: 'geben Sie entweder backupId oder databaseId an' },
  'must be one of check, download, data, indexes': { de: 'muss check, download, data oder indexes sein' },
  'must be succeeded, failed or cancelled': { de: 'muss succeeded, failed oder cancelled sein' },
  'is not a known restore error code': { de: 'ist kein bekannter Fehlercode einer Wiederherstellung' },
  'must not be negative': { de: 'darf nicht negativ sein' },
  'is too large': { de: 'ist zu groß' },
  'is not a valid link': { de: 'ist kein gültiger Link' },
  'has no /.well-known/openid-configuration': { de: 'hat keine /.well-known/openid-configuration' },
  'has no valid {what}': { de: (p) => `hat keine gültige Angabe ${p.what}` },
  'must be a domain like example.com': { de: 'muss eine Domain wie example.com sein' },
  'name at least one domain': { de: 'nennen Sie mindestens eine Domain' },
  'at most 20 domains': { de: 'höchstens 20 Domains' },
  'must be the 6-digit code or a recovery code': {
    de: 'muss der 6-stellige Code oder ein Wiederherstellungscode sein',
  },
  'is your current address': { de: 'ist Ihre aktuelle Adresse' },
  'needs your own two-factor authentication': { de: 'braucht Ihre eigene Zwei-Faktor-Anmeldung' },
  'is required': { de: 'ist erforderlich' },
  'is invalid': { de: 'ist ungültig' },
  'is invalid (expected {expected})': { de: (p) => `ist ungültig (erwartet: ${p.expected})` },
  'is too long': { de: 'ist zu lang' },
  'is {current}, the plan allows {allowed}': {
    de: (p) => `ist ${p.current}, der Plan erlaubt ${p.allowed}`,
  },
  'is already registered': { de: 'ist schon registriert' },
  'is wider than your role': { de: 'geht über Ihre Rolle hinaus' },
  'is already a member': { de: 'ist schon Mitglied' },
  'is not an invitation link': { de: 'ist kein Einladungslink' },
  'must be one of owner, admin, operator, viewer': { de: 'muss owner, admin, operator oder viewer sein' },
  'must be one of user, api_key, agent, system': { de: 'muss user, api_key, agent oder system sein' },
  'must be csv or json': { de: 'muss csv oder json sein' },
  'is not a known time zone': { de: 'ist keine bekannte Zeitzone' },
  'is not a sealed value': { de: 'ist kein versiegelter Wert' },
  'is not one this API handed out': { de: 'stammt nicht von dieser API' },
  'is not one of your agents': { de: 'ist keiner Ihrer Agents' },
  'has forbidden characters': { de: 'enthält unerlaubte Zeichen' },
  'lies in the future': { de: 'liegt in der Zukunft' },
  'must be a string': { de: 'muss eine Zeichenkette sein' },
  'must be a number': { de: 'muss eine Zahl sein' },
  'must be a whole number': { de: 'muss eine ganze Zahl sein' },
  'must be true or false': { de: 'muss true oder false sein' },
  'must be a UUID': { de: 'muss eine UUID sein' },
  'is wrong': { de: 'ist falsch' },
  'must be a URL': { de: 'muss eine URL sein' },
  'must be an http(s) URL': { de: 'muss eine http(s)-URL sein' },
  'must use https': { de: 'muss https verwenden' },
  'must be a valid e-mail address': { de: 'muss eine gültige E-Mail-Adresse sein' },
  'must not be empty': { de: 'darf nicht leer sein' },
  'must have at least {n} characters': { de: (p) => `muss mindestens ${p.n} Zeichen haben` },
  'must have at most {n} characters': { de: (p) => `darf höchstens ${p.n} Zeichen haben` },
  'at most {n} addresses': { de: (p) => `höchstens ${p.n} Adressen` },
  'must list at least one address': { de: 'muss mindestens eine Adresse enthalten' },
  'must list at least one part': { de: 'muss mindestens einen Teil enthalten' },
  'must ask for at least one part': { de: 'muss mindestens einen Teil anfordern' },
  'at most {n} parts per request': { de: (p) => `höchstens ${p.n} Teile pro Anfrage` },
  'must be parts 1..{n}, each listed once': {
    de: (p) => `muss die Teile 1..${p.n} enthalten, jeden genau einmal`,
  },
  'must be HH:MM (24 h)': { de: 'muss HH:MM sein (24 h)' },
  'must be a cron expression of 5 fields in range (minute 0–59, hour 0–23, day 1–31, month 1–12, weekday 0–7), e.g. "0 3 * * *"':
    {
      de: 'muss ein Cron-Ausdruck aus 5 Feldern im gültigen Bereich sein (Minute 0–59, Stunde 0–23, Tag 1–31, Monat 1–12, Wochentag 0–7), z. B. „0 3 * * *“',
    },
  'must be a daily or cron schedule': { de: 'muss ein täglicher Zeitplan oder ein Cron-Zeitplan sein' },
  'must be sealed or local': { de: 'muss sealed oder local sein' },
  'must be a host name or IP address': { de: 'muss ein Hostname oder eine IP-Adresse sein' },
  'must be base64url': { de: 'muss base64url sein' },
  'must be hex': { de: 'muss hexadezimal sein' },
  'must be 64 lowercase hex characters': { de: 'muss aus 64 kleingeschriebenen Hex-Zeichen bestehen' },
  'must be a 32-byte X25519 key in base64url': { de: 'muss ein 32-Byte-X25519-Schlüssel in base64url sein' },
  'must be sealed again to the new agent': { de: 'muss für den neuen Agent neu versiegelt werden' },
  'only for e-mail channels': { de: 'nur für E-Mail-Kanäle' },
  'only for Slack, webhook, Teams and PagerDuty channels': {
    de: 'nur für Slack-, Webhook-, Teams- und PagerDuty-Kanäle',
  },

  'must be an absolute path (starting with /)': { de: 'muss ein absoluter Pfad sein (beginnend mit /)' },
  'must list at least one path': { de: 'muss mindestens einen Pfad enthalten' },
  'is required for this engine': { de: 'ist für diese Art von Quelle erforderlich' },
  'must be given for this engine, with kind equal to the engine': {
    de: 'muss für diese Art von Quelle angegeben werden, mit kind gleich der Engine',
  },
  'must be a sqlite, redis or directory source': {
    de: 'muss eine SQLite-, Redis- oder Verzeichnisquelle sein',
  },

  'must be the 32-character integration key of a PagerDuty service': {
    de: 'muss der 32 Zeichen lange Integrationsschlüssel eines PagerDuty-Dienstes sein',
  },
  'must be tcp or tls (Cloudflare Workers cannot send UDP)': {
    de: 'muss tcp oder tls sein (Cloudflare Workers können kein UDP senden)',
  },
  'must be at least {n} day': { de: (p) => `muss mindestens ${daysDe(p.n!)} sein` },
  'must be at most {n} days': { de: (p) => `darf höchstens ${daysDe(p.n!)} sein` },
  'must be at most {n} days on the {plan} plan': {
    de: (p) => `darf im Plan ${p.plan} höchstens ${daysDe(p.n!)} sein`,
  },
  'must not contain NUL characters or unpaired UTF-16 surrogates': {
    de: 'darf keine NUL-Zeichen oder ungepaarten UTF-16-Surrogate enthalten',
  },
  'must be an ISO 8601 timestamp such as {example}': {
    de: (p) => `muss ein ISO-8601-Zeitstempel sein, z. B. ${p.example}`,
  },
  'must be a real date and time between the years {from} and {to}': {
    de: (p) => `muss ein echtes Datum mit Uhrzeit zwischen den Jahren ${p.from} und ${p.to} sein`,
  },
  'is not a known check code': { de: 'ist kein bekannter Prüfcode' },
  'is not a known backup error code': { de: 'ist kein bekannter Fehlercode für Backups' },
  'must be a parameter name': { de: 'muss ein Parametername sein' },
  'has too many parameters': { de: 'hat zu viele Parameter' },
  'must list at least one step': { de: 'muss mindestens einen Schritt enthalten' },
  'at most {n} items': { de: (p) => `höchstens ${p.n} Einträge` },
  "is not a sealed value (seal the password to the agent's public key; see sealToAgent)": {
    de: 'ist kein versiegelter Wert (versiegeln Sie das Passwort mit dem öffentlichen Schlüssel des Agents; siehe sealToAgent)',
  },
  'give either parts (with checksums) or partNumbers': {
    de: 'geben Sie entweder parts (mit Prüfsummen) oder partNumbers an',
  },
  'each part once': { de: 'jeden Teil genau einmal' },
  'must be {min}–{max}': { de: (p) => `muss zwischen ${p.min} und ${p.max} liegen` },
  'must be an email, slack, webhook, pagerduty, teams or syslog channel': {
    de: 'muss ein E-Mail-, Slack-, Webhook-, PagerDuty-, Teams- oder Syslog-Kanal sein',
  },
  'must be one of {list}': { de: (p) => `muss eines von ${p.list} sein` },
  'must be {a}, {b} or {c}': { de: (p) => `muss ${p.a}, ${p.b} oder ${p.c} sein` },
  'must be {a} or {b}': { de: (p) => `muss ${p.a} oder ${p.b} sein` },
  // retention (issue 18)
  'must be at most {n}': { de: (p) => `darf höchstens ${p.n} sein` },
  'must keep at least one tier': { de: 'muss mindestens eine Stufe behalten' },
  'must keep at most {n} days on the {plan} plan': {
    de: (p) => `darf im Plan ${p.plan} höchstens ${daysDe(p.n!)} aufbewahren`,
  },
  'must start with https:// or http://': { de: 'muss mit https:// oder http:// beginnen' },
  'must be a region like eu-central-1': { de: 'muss eine Region wie eu-central-1 sein' },
  'must be a bucket name (3–63 lower-case letters, digits, dots, hyphens)': {
    de: 'muss ein Bucket-Name sein (3–63 Kleinbuchstaben, Ziffern, Punkte, Bindestriche)',
  },
};

/** German for a code when no text was translated: vaguer than the original, but German. */
export const GENERIC_DE: Record<ErrorCode, string> = {
  bad_request: 'Die Anfrage ist fehlerhaft',
  validation_failed: 'Ungültige Eingabe',
  unauthorized: 'Bitte melden Sie sich an',
  forbidden: 'Diese Aktion ist nicht erlaubt',
  not_found: 'Nicht gefunden',
  conflict: 'Die Aktion passt nicht zum aktuellen Zustand; laden Sie die Seite neu',
  account_read_only: 'Dieses Konto ist gekündigt und nur noch lesbar',
  plan_limit: 'Ihr Plan erlaubt das nicht; wechseln Sie in einen größeren Plan',
  quota_exceeded: 'Der Speicher Ihres Plans ist aufgebraucht',
  payment_required: 'Ihr Abonnement ist nicht bezahlt; neue Backups sind angehalten',
  payload_too_large: 'Die Anfrage ist zu groß',
  rate_limited: 'Zu viele Anfragen; versuchen Sie es später erneut',
  storage_error: 'Der Object Storage hat einen Fehler gemeldet; versuchen Sie es erneut',
  billing_unavailable: 'Der Zahlungsanbieter (Paddle) hat einen Fehler gemeldet; versuchen Sie es erneut',
  internal: 'Interner Fehler; er wurde protokolliert',
};

type Compiled = { template: string; re: RegExp; names: string[]; entry: Entry };

function compile(table: Record<string, Entry>): { exact: Map<string, Entry>; patterns: Compiled[] } {
  const exact = new Map<string, Entry>();
  const patterns: Compiled[] = [];
  for (const [template, entry] of Object.entries(table)) {
    const names = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    if (names.length === 0) {
      exact.set(template, entry);
      continue;
    }
    const source = template
      .split(/\{\w+\}/)
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('(.+?)');
    patterns.push({ template, re: new RegExp(`^${source}$`, 's'), names, entry });
  }
  // Longer templates first: "… days; shorten …" must win over "… days".
  patterns.sort((a, b) => b.template.length - a.template.length);
  return { exact, patterns };
}

const COMPILED_MESSAGES = compile(MESSAGES);
const COMPILED_FIELDS = compile(FIELD_MESSAGES);

function render(r: Render, p: Params): string {
  return typeof r === 'string' ? r : r(p);
}

/** The text in `language`, or undefined when nobody translated it. */
function translate(
  table: ReturnType<typeof compile>,
  english: string,
  language: Language,
): string | undefined {
  const hit = table.exact.get(english);
  if (hit) return language === 'de' ? render(hit.de, {}) : hit.en ? render(hit.en, {}) : english;
  for (const c of table.patterns) {
    const m = c.re.exec(english);
    if (!m) continue;
    const params: Params = Object.fromEntries(c.names.map((n, i) => [n, m[i + 1]!]));
    if (language === 'de') return render(c.entry.de, params);
    return c.entry.en ? render(c.entry.en, params) : english;
  }
  return undefined;
}

/** A lookup for another table of English texts (delivery errors): the text in `language`, or undefined. */
export function createCatalog(table: Record<string, Entry>) {
  const compiled = compile(table);
  return (english: string, language: Language) => translate(compiled, english, language);
}
export type { Entry as CatalogEntry };

export function isTranslatedMessage(english: string): boolean {
  return translate(COMPILED_MESSAGES, english, 'de') !== undefined;
}
export function isTranslatedFieldMessage(english: string): boolean {
  return translate(COMPILED_FIELDS, english, 'de') !== undefined;
}

function MESSAGE_DE_OR_SELF(english: string): string {
  return translate(COMPILED_MESSAGES, english, 'de') ?? english;
}

export function localizeFieldMessage(english: string, language: Language): string {
  return translate(COMPILED_FIELDS, english, language) ?? (language === 'de' ? 'ist ungültig' : english);
}

export type ErrorBody = { code: ErrorCode; message: string; fields?: Record<string, string> };

/** The error as the caller reads it: same code and field names, text in `language`. */
export function localizeError(error: ErrorBody, language: Language): ErrorBody {
  const fields = error.fields
    ? Object.fromEntries(Object.entries(error.fields).map(([k, m]) => [k, localizeFieldMessage(m, language)]))
    : undefined;
  let message = translate(COMPILED_MESSAGES, error.message, language);
  if (message === undefined && error.code === 'validation_failed' && fields && language === 'de') {
    // "Invalid input: <field> <problem>; …" is built from the fields: build it again from theirs.
    const summary = Object.entries(fields)
      .slice(0, 3)
      .map(([k, m]) => `${k} ${m}`)
      .join('; ');
    message = `Ungültige Eingabe: ${summary}`;
  }
  if (message === undefined) message = language === 'de' ? GENERIC_DE[error.code] : error.message;
  return { code: error.code, message, ...(fields && { fields }) };
}
