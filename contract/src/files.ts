/** `backup-<database>-<YYYY-MM-DD>.resistro`, as the user guide names downloads. */
export function backupFileName(database: string, startedAt: Date): string {
  const safe = database.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100) || 'database';
  return `backup-${safe}-${startedAt.toISOString().slice(0, 10)}.resistro`;
}
