// Fetching a backup from the service for a restore: its record, a short-lived presigned URL, the
// ciphertext streamed to a private file and checked against the SHA-256 recorded at upload.
// `resistro restore --backup` and the daemon's restores from the dashboard share it.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiClientError, type Backup } from '@resistro/contract';
import { UsageError, UserError } from '../errors.ts';
import { formatBytes, type Logger } from '../log.ts';
import { createBufferReleaser } from '../memory.ts';
import { createProgress } from '../progress.ts';
import type { AgentApi } from '../upload/client.ts';

/** The backup's record; it must be this account's and successful (else a UserError saying so). */
export async function findRestorableBackup(
  backupId: string,
  client: Pick<AgentApi, 'getBackup'>,
): Promise<Backup> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(backupId))
    throw new UsageError(
      `--backup ${backupId} is not a backup id`,
      'A backup id looks like 0b0e1c4e-…; copy it from the dashboard (Backups → the backup).',
    );
  const { backup } = await client.getBackup(backupId).catch((error) => {
    if (error instanceof ApiClientError && error.code === 'not_found')
      throw new UserError(
        `this account has no backup ${backupId}`,
        "Copy the id from the dashboard (Backups → the backup); the agent's API key must belong to the same account.",
        { cause: error },
      );
    throw error;
  });
  if (backup.status !== 'succeeded') {
    throw new UserError(
      `backup ${backupId} is ${backup.status}, not succeeded`,
      'Pick a successful backup in the dashboard (Backups, status ✓).',
    );
  }
  return backup;
}

/** The ciphertext of a successful backup into `dir`; returns the file's path. */
export async function downloadBackup(
  backupId: string,
  dir: string,
  client: Pick<AgentApi, 'getBackup' | 'downloadBackup'>,
  log: Logger,
  signal: AbortSignal,
  onBytes?: (n: number) => void,
): Promise<string> {
  const backup = await findRestorableBackup(backupId, client);
  const link = await client.downloadBackup(backupId);
  if (link.source === 'copy')
    log.warn(
      'restore.from-copy',
      `the primary storage cannot serve backup ${backupId}; downloading its verified copy from the second storage location`,
      { backupId },
    );
  const path = join(dir, link.fileName);
  const progress = createProgress(
    log,
    `downloading ${link.fileName}`,
    (backup.dedup ? undefined : backup.sizeBytes) ?? undefined,
  );
  const hash = createHash('sha256');
  const release = createBufferReleaser();
  const count = new Transform({
    transform(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      progress.add(chunk.length);
      onBytes?.(chunk.length);
      release(chunk.length);
      cb(null, chunk);
    },
  });
  try {
    // node:http rather than fetch: a plain byte stream with back-pressure and flat memory.
    const res = await getResponse(link.url, signal);
    if (res.statusCode !== 200) {
      res.resume();
      throw new UserError(
        `the download of backup ${backupId} failed (${res.statusCode})`,
        'Try again; download links are short-lived.',
      );
    }
    // SECURITY: ciphertext only; the file is private to this user and deleted after the restore.
    await pipeline(res, count, createWriteStream(path, { mode: 0o600 }), { signal }).catch(
      (error: unknown) => {
        if (signal.aborted) throw error;
        // A deduplicated backup's file is streamed together by the service: a piece it could not
        // read from storage cuts the download short (never a complete-looking file).
        throw new UserError(
          `the download of backup ${backupId} was cut off: ${(error as Error).message}`,
          'Try again; if it happens again, a stored piece of this backup is missing or damaged (restore an older backup and contact support).',
          { cause: error },
        );
      },
    );
  } finally {
    progress.done();
  }
  const sha256 = hash.digest('hex');
  // Deduplicated: the recorded SHA-256 is the manifest's; the file authenticates every chunk itself.
  if (backup.sha256 && !backup.dedup && sha256 !== backup.sha256) {
    throw new UserError(
      `the downloaded file does not match the checksum recorded for backup ${backupId}`,
      'Download it again; if this persists the stored object was altered.',
    );
  }
  log.info(
    'restore.downloaded',
    backup.dedup
      ? `downloaded ${link.fileName} (deduplicated; every chunk is checked as it is read)`
      : `downloaded ${link.fileName} (${formatBytes(backup.sizeBytes ?? 0)}, SHA-256 verified${link.source === 'copy' ? ', from the second storage location' : ''})`,
    { backupId },
  );
  return path;
}

function getResponse(url: string, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    const req = get(url, { signal }, resolve);
    req.setTimeout(120_000, () => req.destroy(new Error('no data from storage for 120 s')));
    req.once('error', (error) =>
      reject(
        new UserError(
          `the download failed: ${error.message}`,
          'Check the connection to the storage and try again.',
          { cause: error },
        ),
      ),
    );
  });
}
