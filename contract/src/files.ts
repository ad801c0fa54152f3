/** `backup-<database>-<YYYY-MM-DD>.resistro`, as the user guide names downloads. */
export function backupFileName(database: string, startedAt: Date): string {
  return `backup-${safeName(database)}-${startedAt.toISOString().slice(0, 10)}.resistro`;
}

function safeName(database: string): string {
  return database.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100) || 'database';
}

/**
 * Where `resistro export --all` and the manifest put a backup: one folder per database (its name
 * and the start of its id, as two servers may have databases of the same name) and the download
 * name with the start of the backup's id, as a database may have several backups a day.
 */
export function exportPath(b: {
  databaseName: string;
  databaseId: string;
  startedAt: Date;
  backupId: string;
}): string {
  const safe = safeName(b.databaseName);
  const day = b.startedAt.toISOString().slice(0, 10);
  return `${safe}-${b.databaseId.slice(0, 8)}/backup-${safe}-${day}-${b.backupId.slice(0, 8)}.resistro`;
}
