// `resistro export --all --to DIR`: every backup of the account (or of one database with
// --database), each checked against the SHA-256 the agent recorded when it uploaded it. Files are
// written as <file>.part and renamed only once verified, so an interrupted run leaves no file
// that looks complete: run it again and it skips what is already there and verified, and starts
// the partial ones over. Prints a summary; exits 1 when any backup could not be exported.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { dirname, join, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ExportItem, ExportManifest } from '@resistro/contract';
import type { CommandInput } from '../command.ts';
import { Interrupted, UsageError, UserError } from '../errors.ts';
import { formatBytes, type Logger } from '../log.ts';
import { createBufferReleaser } from '../memory.ts';
import { createProgress } from '../progress.ts';
import { createAgentApi } from '../upload/client.ts';

const ATTEMPTS = 3;

type Outcome = 'downloaded' | 'present' | 'failed';

export async function run({ options, config, log, out, signal }: CommandInput): Promise<number> {
  const to = options.to as string | undefined;
  const database = options.database as string | undefined;
  if (!options.all && !database)
    throw new UsageError(
      'export needs --all (every backup of the account) or --database <id>',
      'Example: resistro export --all --to /srv/resistro-export',
    );
  if (options.all && database)
    throw new UsageError('export takes --all or --database, not both', 'Run "resistro export --help".');
  if (!to)
    throw new UsageError(
      'export needs --to <folder>',
      'Example: resistro export --all --to /srv/resistro-export',
    );
  if (database && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(database))
    throw new UsageError(
      `--database ${database.slice(0, 60)} is not a database id`,
      'A database id looks like 0b0e1c4e-…; copy it from the dashboard (Databases → the database).',
    );
  const root = resolve(to);
  await mkdir(root, { recursive: true });
  const client = createAgentApi({ endpoint: config.endpoint, apiKey: config.apiKey ?? '' });
  const manifest = await client.exportManifest(database ? { databaseId: database } : {});
  log.info(
    'export.started',
    `${manifest.backups} backup(s), ${formatBytes(manifest.totalBytes)}, into ${root}`,
    { backups: manifest.backups, totalBytes: manifest.totalBytes },
  );

  const counts: Record<Outcome, number> = { downloaded: 0, present: 0, failed: 0 };
  const failures: string[] = [];
  let bytes = 0;
  for (const item of manifest.items) {
    if (signal.aborted) throw signal.reason ?? new Interrupted('SIGINT');
    const target = safeTarget(root, item.path);
    const outcome = await exportOne(item, target, log, signal).catch((error: unknown) => {
      if (error instanceof Interrupted || signal.aborted) throw signal.reason ?? error;
      failures.push(`${item.path}: ${(error as Error).message}`);
      log.error('export.failed', `${item.path}: ${(error as Error).message}`, { backupId: item.backupId });
      return 'failed' as const;
    });
    counts[outcome]++;
    if (outcome !== 'failed') bytes += item.sizeBytes;
  }
  await writeChecksums(root, manifest);

  out(
    `${manifest.backups} backup(s) in ${root}: ${counts.downloaded} downloaded, ${counts.present} already there (verified), ${counts.failed} failed; ${formatBytes(bytes)} verified against SHA-256\n`,
  );
  if (counts.failed > 0) {
    throw new UserError(
      `${counts.failed} of ${manifest.backups} backup(s) could not be exported:\n  ${failures.join('\n  ')}`,
      'Run the same command again: verified files are skipped, the others are downloaded again.',
      { code: 'export_incomplete' },
    );
  }
  return 0;
}

/** SECURITY: a path from the service never leaves the target folder. */
function safeTarget(root: string, path: string): string {
  const target = resolve(root, path);
  if (!target.startsWith(root + sep))
    throw new UserError(`refusing the path ${path}`, 'Report this as a bug.');
  return target;
}

async function exportOne(
  item: ExportItem,
  target: string,
  log: Logger,
  signal: AbortSignal,
): Promise<Outcome> {
  if (await isVerified(target, item)) {
    log.debug('export.present', `${item.path} is already there and verified`, { backupId: item.backupId });
    return 'present';
  }
  await mkdir(dirname(target), { recursive: true });
  let lastError: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      await download(item, target, log, signal);
      return 'downloaded';
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error;
      lastError = error;
      log.warn(
        'export.retry',
        `${item.path}: ${(error as Error).message} (attempt ${attempt} of ${ATTEMPTS})`,
      );
    }
  }
  throw lastError;
}

/** A complete file: its size and SHA-256 are the ones the agent recorded. */
async function isVerified(path: string, item: ExportItem): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile() || info.size !== item.sizeBytes) return false;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex') === item.sha256;
}

async function download(item: ExportItem, target: string, log: Logger, signal: AbortSignal): Promise<void> {
  // A partial file from an interrupted run is started over (the link may have changed since).
  const part = `${target}.part`;
  await rm(part, { force: true });
  const progress = createProgress(log, `downloading ${item.path}`, item.sizeBytes);
  const hash = createHash('sha256');
  let size = 0;
  const release = createBufferReleaser();
  const count = new Transform({
    transform(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      size += chunk.length;
      progress.add(chunk.length);
      release(chunk.length);
      cb(null, chunk);
    },
  });
  try {
    const res = await getResponse(item.url, signal);
    if (res.statusCode !== 200) {
      res.resume();
      throw new Error(
        `storage answered ${res.statusCode}${res.statusCode === 403 ? ' (the link expired: the next run fetches new ones)' : ''}`,
      );
    }
    // SECURITY: ciphertext only, still encrypted with the customer's key; private to this user.
    await pipeline(res, count, createWriteStream(part, { mode: 0o600 }), { signal });
  } finally {
    progress.done();
  }
  const sha256 = hash.digest('hex');
  if (size !== item.sizeBytes || sha256 !== item.sha256) {
    await rm(part, { force: true });
    throw new Error(
      `the download does not match the backup's checksum (${size} of ${item.sizeBytes} bytes, SHA-256 ${sha256.slice(0, 12)}… instead of ${item.sha256.slice(0, 12)}…)`,
    );
  }
  await rename(part, target);
  log.info('export.downloaded', `${item.path} (${formatBytes(size)}, SHA-256 verified)`, {
    backupId: item.backupId,
  });
}

/** `sha256sum -c SHA256SUMS` in the folder checks the export again at any time. */
async function writeChecksums(root: string, manifest: ExportManifest): Promise<void> {
  const lines = manifest.items.map((i) => `${i.sha256}  ${i.path}\n`).join('');
  await writeFile(join(root, 'SHA256SUMS'), lines, { mode: 0o600 });
}

function getResponse(url: string, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolveResponse, reject) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    const req = get(url, { signal }, resolveResponse);
    req.setTimeout(120_000, () => req.destroy(new Error('no data from storage for 120 s')));
    req.once('error', reject);
  });
}
