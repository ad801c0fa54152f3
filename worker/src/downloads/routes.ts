// GET /downloads/<file>: the agent's executables and their SHA-256 sums, as install-agent.sh and
// `resistro update` fetch them. They live in the bucket under downloads/ (published by
// `npm run agent:publish`, or by the local stack at start): an executable is over 100 MB, too
// large for static assets, and the service keeps no files of its own. The answer is a redirect to
// a short-lived presigned URL, so the bytes never pass through the worker.
import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { parseConfig } from '../env.ts';
import { createS3Storage } from '../storage/s3.ts';

/** What may be downloaded: the executables per architecture and their checksums. */
export const DOWNLOAD_FILES = [
  'resistro-linux-x64',
  'resistro-linux-x64.sha256',
  'resistro-linux-arm64',
  'resistro-linux-arm64.sha256',
] as const;
export const DOWNLOADS_PREFIX = 'downloads/';
const URL_TTL_SECONDS = 300;

const text = (body: string, status: 404 | 503) =>
  new Response(`${body}\n`, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });

export const downloadRoutes = new Hono<AppEnv>().get('/:file', async (c) => {
  const file = c.req.param('file');
  if (!(DOWNLOAD_FILES as readonly string[]).includes(file)) {
    return text(`No such download. Available: ${DOWNLOAD_FILES.join(', ')}`, 404);
  }
  const storage = createS3Storage(parseConfig(c.env).s3);
  let found: { size: number } | undefined;
  try {
    found = await storage.headObject(DOWNLOADS_PREFIX + file);
  } catch {
    return text('The download storage is not reachable; try again in a minute.', 503);
  }
  if (!found) return text(`${file} is not published on this service (npm run agent:publish).`, 404);
  const url = await storage.presignDownload(DOWNLOADS_PREFIX + file, file, URL_TTL_SECONDS);
  return c.redirect(url, 302);
});
