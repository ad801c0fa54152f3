import { api } from '../api.ts';

/**
 * Asks for a short-lived link and follows it: the storage answers with
 * `Content-Disposition: attachment; filename="backup-<database>-<YYYY-MM-DD>.resistro"`, so the
 * browser saves the file and stays on the page. The bytes never pass through the control plane.
 */
export async function downloadBackup(id: string): Promise<{ fileName: string; fromCopy: boolean }> {
  const { url, fileName, source } = await api.downloadBackup(id);
  window.location.assign(url);
  // 'copy': the primary storage could not serve it; the link is the second location's copy
  return { fileName, fromCopy: source === 'copy' };
}
