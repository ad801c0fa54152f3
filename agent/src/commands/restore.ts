// `resistro restore`: a backup file (or a backup fetched from the service) into a database.
// read → decrypt → decompress → psql/mysql, streaming; see restore.ts for how a damaged file is
// kept out of the database for each engine.

import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiClientError, DEFAULT_PORTS } from '@resistro/contract';
import type { CommandInput } from '../command.ts';
import {
  type DatabaseTarget,
  ENGINE_NAMES,
  EngineError,
  type EngineName,
  getEngine,
  targetNotEmpty,
} from '../engines/index.ts';
import { UsageError, UserError } from '../errors.ts';
import { FormatError } from '../format/index.ts';
import { checkInputFile } from '../input-file.ts';
import { decryptionKey } from '../key-file.ts';
import { formatBytes, formatDuration, type Logger } from '../log.ts';
import { createBufferReleaser } from '../memory.ts';
import { createProgress } from '../progress.ts';
import { promptPassword } from '../prompt.ts';
import { checkBackupFile, openSqlStream, peekBackupFile } from '../restore/restore.ts';
import { createAgentApi } from '../upload/client.ts';

export async function run({ options, config, log, env, signal, out }: CommandInput): Promise<number> {
  const file = options.file as string | undefined;
  const backupId = options.backup as string | undefined;
  const database = options.database as string | undefined;
  const user = options.user as string | undefined;
  if ((file === undefined) === (backupId === undefined)) {
    throw new UsageError(
      'restore needs either --file <backup.resistro> or --backup <backup id>',
      'Run "resistro restore --help".',
    );
  }
  if (!database || !user) {
    throw new UsageError(
      'restore needs --database <name> and --user <user>',
      'Example: resistro restore --file backup-shop-2026-05-16.resistro --host localhost --port 5432 --database shop --user postgres',
    );
  }
  const engineOption = options.engine as string | undefined;
  if (engineOption !== undefined && !ENGINE_NAMES.includes(engineOption as EngineName)) {
    throw new UsageError(
      `--engine must be one of ${ENGINE_NAMES.join(', ')}`,
      'Leave it out to read the engine from the dump.',
    );
  }
  const portOption = options.port as string | undefined;
  if (portOption !== undefined && !/^\d{1,5}$/.test(portOption))
    throw new UsageError(
      '--port must be a number (1–65535)',
      'The defaults are 5432 (PostgreSQL) and 3306 (MySQL/MariaDB).',
    );
  if (portOption !== undefined && (Number(portOption) < 1 || Number(portOption) > 65535))
    throw new UsageError(
      '--port must be 1–65535',
      'The defaults are 5432 (PostgreSQL) and 3306 (MySQL/MariaDB).',
    );
  const key = decryptionKey(config, options['key-file'] as string | undefined);

  let path = file!;
  let tempDir: string | undefined;
  try {
    if (backupId) {
      tempDir = await mkdtemp(join(tmpdir(), 'resistro-restore-'));
      path = await download(
        backupId,
        tempDir,
        { endpoint: config.endpoint, apiKey: config.apiKey! },
        log,
        signal,
      );
    }

    const size = await checkInputFile(path);
    // The first SQL says which engine wrote the dump (and a wrong key is refused right here).
    const peek = await peekBackupFile(path, key);
    const engineName = (engineOption as EngineName | undefined) ?? peek.engine ?? engineFromPort(portOption);
    if (!engineName) {
      throw new UsageError(
        'cannot tell which database the dump is for',
        'Pass --engine postgres, --engine mysql or --engine mariadb.',
      );
    }
    if (
      engineOption &&
      peek.engine &&
      engineFamily(engineOption as EngineName) !== engineFamily(peek.engine)
    ) {
      throw new UsageError(
        `the dump was written by ${peek.engine}, but --engine says ${engineOption}`,
        'Leave --engine out, or restore into the right kind of server.',
      );
    }
    const target: DatabaseTarget = {
      engine: engineName,
      host: (options.host as string | undefined) ?? 'localhost',
      port: portOption ? Number(portOption) : DEFAULT_PORTS[engineName],
      database,
      user,
      password: await passwordFor(engineName, env, Boolean(options['no-password'])),
    };
    const engine = getEngine(engineName);
    if (engineFamily(engineName) === 'mysql') {
      // Reach the server first: a wrong port, user, password or a non-empty database shows at once,
      // not after the whole file was checked.
      if (!(await engine.isEmpty(target)) && !options.replace) {
        throw targetNotEmpty(target);
      }
      // MySQL/MariaDB cannot roll back DDL: check the whole file before the server sees a statement.
      const checking = createProgress(log, 'checking', size);
      const check = await checkBackupFile(path, key, (n) => checking.add(n)).finally(() => checking.done());
      log.info(
        'restore.checked',
        `${path} is intact (key ${check.keyId}, ${formatBytes(check.sqlBytes)} of SQL)`,
        { keyId: check.keyId, sqlBytes: check.sqlBytes },
      );
    }
    const started = performance.now();
    const restoring = createProgress(log, `restoring into ${target.database}`, size);
    log.info(
      'restore.started',
      `restoring into ${engineName} ${target.host}:${target.port}/${target.database} as ${target.user}${options.replace ? ' (replacing its contents)' : ''}`,
    );
    let sqlBytes = 0;
    const sql = await openSqlStream(path, key, {
      onFileBytes: (n) => restoring.add(n),
      onSqlBytes: (n) => {
        sqlBytes += n;
      },
    });
    const onAbort = () => sql.destroy(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await engine.restore(target, sql, { replace: Boolean(options.replace) });
    } catch (error) {
      // A damaged file surfaces as the SQL input failing: report the file's problem itself.
      if (
        error instanceof EngineError &&
        error.code === 'input_failed' &&
        error.cause instanceof FormatError
      ) {
        log.warn(
          'restore.rolled-back',
          'the backup file is damaged; the restore was stopped before it could commit: nothing was restored',
        );
        throw error.cause;
      }
      throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
      restoring.done();
    }
    const ms = performance.now() - started;
    log.info(
      'restore.done',
      `restored ${formatBytes(sqlBytes)} of SQL into ${target.database} in ${formatDuration(ms)}`,
      { durationMs: Math.round(ms), maxRssKb: process.resourceUsage().maxRSS },
    );
    out(`restored ${path} into ${engineName} ${target.host}:${target.port}/${target.database}\n`);
    return 0;
  } finally {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }
}

function engineFamily(name: EngineName): 'postgres' | 'mysql' {
  return name === 'postgres' ? 'postgres' : 'mysql';
}

function engineFromPort(port: string | undefined): EngineName | undefined {
  if (port === '5432') return 'postgres';
  if (port === '3306') return 'mysql';
  return undefined;
}

/**
 * PGPASSWORD / MYSQL_PWD from the environment; else nothing when ~/.pgpass or ~/.my.cnf can
 * answer; else a prompt on a terminal. SECURITY: never from argv (ps shows it to every user).
 */
async function passwordFor(
  engine: EngineName,
  env: NodeJS.ProcessEnv,
  noPrompt: boolean,
): Promise<string | undefined> {
  const fromEnv = engine === 'postgres' ? env.PGPASSWORD : env.MYSQL_PWD;
  if (fromEnv !== undefined) return fromEnv;
  const home = env.HOME ?? homedir();
  const optionFile =
    engine === 'postgres' ? (env.PGPASSFILE ?? join(home, '.pgpass')) : join(home, '.my.cnf');
  if (noPrompt || existsSync(optionFile) || !process.stdin.isTTY) return undefined;
  return promptPassword(`Password for the database user (${engine}): `);
}

async function download(
  backupId: string,
  dir: string,
  api: { endpoint: string; apiKey: string },
  log: Logger,
  signal: AbortSignal,
): Promise<string> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(backupId))
    throw new UsageError(
      `--backup ${backupId} is not a backup id`,
      'A backup id looks like 0b0e1c4e-…; copy it from the dashboard (Backups → the backup).',
    );
  const client = createAgentApi(api);
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
  const link = await client.downloadBackup(backupId);
  const path = join(dir, link.fileName);
  const progress = createProgress(log, `downloading ${link.fileName}`, backup.sizeBytes ?? undefined);
  const hash = createHash('sha256');
  const release = createBufferReleaser();
  const count = new Transform({
    transform(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      progress.add(chunk.length);
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
    await pipeline(res, count, createWriteStream(path, { mode: 0o600 }));
  } finally {
    progress.done();
  }
  const sha256 = hash.digest('hex');
  if (backup.sha256 && sha256 !== backup.sha256) {
    throw new UserError(
      `the downloaded file does not match the checksum recorded for backup ${backupId}`,
      'Download it again; if this persists the stored object was altered.',
    );
  }
  log.info(
    'restore.downloaded',
    `downloaded ${link.fileName} (${formatBytes(backup.sizeBytes ?? 0)}, SHA-256 verified)`,
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
