// The texts of retention tiers, object lock and the second storage location (issue 18), in
// English and German. Apart from the dashboard's main dictionaries so that they load with the two
// pages that show them (a database's page and Settings), not with every first visit.
import { locale, type Params } from './index.ts';

const en = {
  'location.title': 'Second storage location',
  'location.hint':
    'A second S3-compatible bucket, in another region or at another provider, that receives a copy of your backups (3-2-1). Copies are encrypted like the originals and checked against their checksum. When the primary storage is unavailable, downloads and restores use the copy.',
  'location.planNeeded': 'A second storage location is part of the Business plan and higher.',
  'location.formLabel': 'Set the second storage location',
  'location.endpoint': 'S3 endpoint',
  'location.endpointHint':
    'For example https://s3.eu-central-1.amazonaws.com or https://fsn1.your-objectstorage.com',
  'location.region': 'Region',
  'location.bucket': 'Bucket',
  'location.accessKeyId': 'Access key ID',
  'location.secret': 'Secret access key',
  'location.secretHint': 'Stored encrypted and never shown again. Enter it again to change the location.',
  'location.copies': 'Copies',
  'location.copiesAll': 'Every backup',
  'location.copiesMonthly': 'The first backup of each month',
  'location.pathStyle': 'Path-style addresses (endpoint/bucket; MinIO and most local servers)',
  'location.method': 'How copies are made',
  'location.methodServer': 'By the storage itself (server-side copy)',
  'location.methodTransfer': 'By the agent (encrypted file downloaded and uploaded again)',
  'location.objectLock': 'Object lock',
  'location.objectLockYes':
    'The bucket locks objects: copies of locked backups are locked until the same date',
  'location.objectLockNo': 'The bucket has no object lock',
  'location.updated': 'Changed',
  'location.save': 'Check and save',
  'location.checking': 'Checking the bucket…',
  'location.saved': 'Second storage location saved; copies start within a minute.',
  'location.remove': 'Stop copying',
  'location.removeTitle': 'Stop copying to the second location?',
  'location.removeText':
    'New backups are no longer copied. Copies already in the bucket stay there; the bucket is yours.',
  'location.removed': 'Copies to the second storage location stopped.',
  'retention.title': 'Retention and object lock',
  'retention.hint':
    'Your plan keeps backups for at most {days} days. Days, weeks, months and years count in the time zone {zone}. The newest good backup is always kept.',
  'retention.mode': 'Keep backups',
  'retention.modeDays': 'for the retention days of this database ({days} days)',
  'retention.modeTiers': 'in tiers (grandfather-father-son)',
  'retention.tier.daily': 'Daily (days)',
  'retention.tier.weekly': 'Weekly (weeks)',
  'retention.tier.monthly': 'Monthly (months)',
  'retention.tier.yearly': 'Yearly (years)',
  'retention.lockTitle': 'Object lock for new backups',
  'retention.lockHint':
    'A locked backup cannot be deleted or changed by anyone before its date, not even by you or us. A lock can be extended, never shortened. Leave empty for no lock.',
  'retention.lockUnavailable':
    'The storage of this service was not created with object lock, so backups cannot be locked.',
  'retention.lockAll': 'Lock every backup for (days)',
  'retention.lockTier.daily': 'Lock the first backup of each day for (years)',
  'retention.lockTier.weekly': 'Lock the first backup of each week for (years)',
  'retention.lockTier.monthly': 'Lock the first backup of each month for (years)',
  'retention.lockTier.yearly': 'Lock the first backup of each year for (years)',
  'retention.preview': 'Preview',
  'retention.previewFirst': 'Preview first which backups the rule would delete',
  'retention.previewNone': 'No existing backup would be deleted; {kept} are kept.',
  'retention.previewDeleted': 'These {count} existing backups would be deleted ({size}):',
  'retention.previewMore': 'and {count} more',
  'retention.previewKept': '{kept} backups are kept.',
  'retention.previewLocked':
    '{count} backups would be deleted but are locked; they are kept until their lock date.',
  'retention.previewFailed': 'failed',
  'retention.save': 'Save rule',
  'retention.saved': 'Retention rule saved; it applies within a minute.',
} as const;

export type RetentionTextKey = keyof typeof en;

const de: Record<RetentionTextKey, string> = {
  'location.title': 'Zweiter Speicherort',
  'location.hint':
    'Ein zweiter S3-kompatibler Bucket in einer anderen Region oder bei einem anderen Anbieter, der eine Kopie Ihrer Backups erhält (3-2-1). Kopien sind wie die Originale verschlüsselt und werden gegen ihre Prüfsumme geprüft. Ist der primäre Speicher nicht erreichbar, nutzen Downloads und Wiederherstellungen die Kopie.',
  'location.planNeeded': 'Ein zweiter Speicherort gehört zum Business-Plan und höher.',
  'location.formLabel': 'Zweiten Speicherort festlegen',
  'location.endpoint': 'S3-Endpunkt',
  'location.endpointHint':
    'Zum Beispiel https://s3.eu-central-1.amazonaws.com oder https://fsn1.your-objectstorage.com',
  'location.region': 'Region',
  'location.bucket': 'Bucket',
  'location.accessKeyId': 'Access Key ID',
  'location.secret': 'Secret Access Key',
  'location.secretHint':
    'Wird verschlüsselt gespeichert und nie wieder angezeigt. Geben Sie ihn erneut ein, um den Speicherort zu ändern.',
  'location.copies': 'Kopien',
  'location.copiesAll': 'Jedes Backup',
  'location.copiesMonthly': 'Das erste Backup jedes Monats',
  'location.pathStyle': 'Pfad-Adressen (Endpunkt/Bucket; MinIO und die meisten lokalen Server)',
  'location.method': 'Wie Kopien entstehen',
  'location.methodServer': 'Durch den Speicher selbst (serverseitige Kopie)',
  'location.methodTransfer':
    'Durch den Agenten (verschlüsselte Datei heruntergeladen und erneut hochgeladen)',
  'location.objectLock': 'Object Lock',
  'location.objectLockYes':
    'Der Bucket sperrt Objekte: Kopien gesperrter Backups sind bis zum selben Datum gesperrt',
  'location.objectLockNo': 'Der Bucket hat kein Object Lock',
  'location.updated': 'Geändert',
  'location.save': 'Prüfen und speichern',
  'location.checking': 'Bucket wird geprüft …',
  'location.saved': 'Zweiter Speicherort gespeichert; die Kopien beginnen innerhalb einer Minute.',
  'location.remove': 'Kopieren beenden',
  'location.removeTitle': 'Kopieren in den zweiten Speicherort beenden?',
  'location.removeText':
    'Neue Backups werden nicht mehr kopiert. Vorhandene Kopien bleiben im Bucket; der Bucket gehört Ihnen.',
  'location.removed': 'Kopien in den zweiten Speicherort beendet.',
  'retention.title': 'Aufbewahrung und Object Lock',
  'retention.hint':
    'Ihr Plan bewahrt Backups höchstens {days} Tage auf. Tage, Wochen, Monate und Jahre zählen in der Zeitzone {zone}. Das neueste erfolgreiche Backup bleibt immer erhalten.',
  'retention.mode': 'Backups aufbewahren',
  'retention.modeDays': 'für die Aufbewahrungstage dieser Datenbank ({days} Tage)',
  'retention.modeTiers': 'in Stufen (Großvater-Vater-Sohn)',
  'retention.tier.daily': 'Täglich (Tage)',
  'retention.tier.weekly': 'Wöchentlich (Wochen)',
  'retention.tier.monthly': 'Monatlich (Monate)',
  'retention.tier.yearly': 'Jährlich (Jahre)',
  'retention.lockTitle': 'Object Lock für neue Backups',
  'retention.lockHint':
    'Ein gesperrtes Backup kann vor seinem Datum von niemandem gelöscht oder geändert werden, auch nicht von Ihnen oder uns. Eine Sperre kann verlängert, nie verkürzt werden. Leer lassen für keine Sperre.',
  'retention.lockUnavailable':
    'Der Speicher dieses Dienstes wurde nicht mit Object Lock angelegt; Backups können nicht gesperrt werden.',
  'retention.lockAll': 'Jedes Backup sperren für (Tage)',
  'retention.lockTier.daily': 'Das erste Backup jedes Tages sperren für (Jahre)',
  'retention.lockTier.weekly': 'Das erste Backup jeder Woche sperren für (Jahre)',
  'retention.lockTier.monthly': 'Das erste Backup jedes Monats sperren für (Jahre)',
  'retention.lockTier.yearly': 'Das erste Backup jedes Jahres sperren für (Jahre)',
  'retention.preview': 'Vorschau',
  'retention.previewFirst': 'Zuerst in der Vorschau ansehen, welche Backups die Regel löschen würde',
  'retention.previewNone': 'Kein vorhandenes Backup würde gelöscht; {kept} bleiben erhalten.',
  'retention.previewDeleted': 'Diese {count} vorhandenen Backups würden gelöscht ({size}):',
  'retention.previewMore': 'und {count} weitere',
  'retention.previewKept': '{kept} Backups bleiben erhalten.',
  'retention.previewLocked':
    '{count} Backups würden gelöscht, sind aber gesperrt; sie bleiben bis zu ihrem Sperrdatum erhalten.',
  'retention.previewFailed': 'fehlgeschlagen',
  'retention.save': 'Regel speichern',
  'retention.saved': 'Aufbewahrungsregel gespeichert; sie gilt innerhalb einer Minute.',
};

export const RETENTION_TEXTS = { en, de };

/** The text for `key` in the dashboard's current language with {placeholders} filled in. */
export function rt(key: RetentionTextKey, params?: Params): string {
  const text = RETENTION_TEXTS[locale()][key] ?? en[key];
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}
