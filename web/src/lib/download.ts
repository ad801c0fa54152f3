import { api } from '../api.ts';

/**
 * Asks for a short-lived link and follows it: the storage answers with
 * `Content-Disposition: attachment; filename="backup-<database>-<YYYY-MM-DD>.resistro"`, so the
 * browser saves the file and stays on the page. The bytes never pass through the control plane.
 */
export async function downloadBackup(id: string): Promise<string> {
  const { url, fileName } = await api.downloadBackup(id);
  window.location.assign(url);
  return fileName;
}
