// Restores asked for in the dashboard or the API. The control plane only queues the job; this
// agent, which holds the key, runs it: take the job, check the target, download the ciphertext,
// restore it with the same code as `resistro restore --backup`, and report phase and bytes every
// few seconds. The answer to each report says whether the user cancelled. A deduplicated backup is
// not downloaded: its chunks are read straight from storage with ranged reads, as
// `restore --backup` does (dedup/remote-read.ts), its sections restored in parallel.
//
// A failure or a cancel leaves the target as it was: a database created for the restore is dropped;
// PostgreSQL restores (a replace included) in one transaction, so nothing of it commits; MySQL and
// MariaDB cannot roll back DDL, so a failed replace leaves the database empty (the dashboard says so
// before the user confirms). One restore at a time, beside any backup.

import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiClientError,
  type DatabaseWork,
  type RestoreErrorCode,
  type RestoreJob,
  type RestorePhase,
  toStorableText,
} from '@resistro/contract';
import { type AgentContext, resolveTarget } from '../context.ts';
import { openRemoteBackup, type RemoteBackup, readsInFlight } from '../dedup/remote-read.ts';
import { type DatabaseTarget, EngineError, getEngine, SQL_ENGINES } from '../engines/index.ts';
import { UserError } from '../errors.ts';
import { FormatError, WrongKeyError } from '../format/index.ts';
import { decryptionKey } from '../key-file.ts';
import { formatBytes, formatDuration } from '../log.ts';
import { downloadBackup, findRestorableBackup } from '../restore/download.ts';
import { defaultRestoreJobs, restoreFile } from '../restore/into-database.ts';
import { peekBackupFile } from '../restore/restore.ts';
import { createAgents, type HttpAgents } from '../upload/http.ts';
import { JobQueue } from './job-queue.ts';

/** how often a running restore reports its progress (and so how soon it hears of a cancel) */
export const RESTORE_REPORT_MS = 2000;
/** room left beside the downloaded file (the spool and the logs live there too) */
const DISK_MARGIN_BYTES = 64 * 1024 * 1024;

/** A failure with its code for the dashboard; the message is the agent's English text. */
class RestoreFailure extends UserError {
  readonly restoreCode: RestoreErrorCode;
  constructor(code: RestoreErrorCode, message: string, hint: string, options?: ErrorOptions) {
    super(message, hint, options);
    this.restoreCode = code;
  }
}

class Cancelled extends Error {
  constructor() {
    super('cancelled in the dashboard');
    this.name = 'Cancelled';
  }
}

const ENGINE_CODES: Partial<Record<EngineError['code'], RestoreErrorCode>> = {
  auth_failed: 'auth_failed',
  connection_failed: 'connection_failed',
  permission_denied: 'permission_denied',
  target_not_empty: 'target_not_empty',
  tool_missing: 'tool_missing',
  tool_too_old: 'tool_missing',
};

/** What kind of failure an error is, for the dashboard. */
export function restoreErrorCode(error: unknown): RestoreErrorCode {
  if (error instanceof RestoreFailure) return error.restoreCode;
  if (error instanceof WrongKeyError) return 'wrong_key';
  if (error instanceof FormatError) return 'file_damaged';
  if (error instanceof EngineError) {
    if (error.code === 'input_failed' && error.cause instanceof FormatError)
      return restoreErrorCode(error.cause);
    return ENGINE_CODES[error.code] ?? 'restore_failed';
  }
  if (error instanceof UserError) return 'restore_failed';
  return 'internal';
}

function errorText(error: unknown): string {
  const e = error as Error & { hint?: string; stderr?: string };
  const parts = [e.message ?? String(error)];
  if (e.hint) parts.push(e.hint);
  if (e.stderr) parts.push(e.stderr.trim());
  return toStorableText(parts.join('\n')).slice(0, 8000);
}

const isLocalHost = (host: string) => ['localhost', '127.0.0.1', '::1', '[::1]'].includes(host);

async function freeBytes(path: string): Promise<number | undefined> {
  try {
    const s = await statfs(path);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

export class RestoreJobs {
  readonly #ctx: AgentContext;
  readonly #reportMs: number;
  readonly #jobs: JobQueue<{ job: RestoreJob; work: DatabaseWork }>;

  constructor(ctx: AgentContext, opts: { reportMs?: number } = {}) {
    this.#ctx = ctx;
    this.#reportMs = opts.reportMs ?? RESTORE_REPORT_MS;
    this.#jobs = new JobQueue(
      ({ job, work }, stop) => this.#run(job, work, stop),
      ({ job }, error) =>
        this.#ctx.log.error(
          'restore.crashed',
          `internal error in the restore ${job.id}: ${(error as Error).stack ?? error}`,
          { restoreId: job.id },
        ),
    );
  }

  /** True while a restore is queued or running (the daemon then asks for new ones more often). */
  get busy(): boolean {
    return this.#jobs.busy;
  }

  /** Queues the jobs not seen yet whose database this agent knows (`databases`: the heartbeat's). */
  handle(jobs: RestoreJob[], databases: DatabaseWork[]): void {
    for (const job of jobs) {
      if (this.#jobs.has(job.id)) continue;
      const work = databases.find((d) => d.id === job.connectionDatabaseId);
      // Not in this agent's list yet (the poll can be ahead of the heartbeat): the next one brings it.
      if (work) this.#jobs.add(job.id, { job, work });
    }
  }

  /** Takes no new restores; stops the running one (reported failed: the agent stopped). */
  async stop(): Promise<void> {
    await this.#jobs.stop(
      new RestoreFailure('agent_stopped', 'the agent was stopped', 'Start the restore again.'),
    );
  }

  async #run(job: RestoreJob, work: DatabaseWork, stop: AbortController): Promise<void> {
    const { log, api } = this.#ctx;
    try {
      await api.claimRestore(job.id);
    } catch (error) {
      if (error instanceof ApiClientError && (error.code === 'conflict' || error.code === 'not_found')) {
        log.info('restore.skipped', `restore ${job.id} was cancelled or taken before it began`, {
          restoreId: job.id,
        });
        return;
      }
      this.#jobs.forget(job.id); // asked again at the next heartbeat
      throw error;
    }
    const started = performance.now();
    const progress: { phase: RestorePhase; bytesDone: number; bytesTotal: number } = {
      phase: 'check',
      bytesDone: 0,
      bytesTotal: job.sizeBytes,
    };
    let reporting: Promise<void> | undefined;
    const report = () => {
      reporting ??= api
        .reportRestoreProgress(job.id, { ...progress })
        .then(
          (r) => {
            if (r.cancelRequested && !stop.signal.aborted) {
              log.info('restore.cancelling', `restore ${job.id} was cancelled in the dashboard; stopping`, {
                restoreId: job.id,
              });
              stop.abort(new Cancelled());
            }
          },
          (error) => {
            // the service gave up on it (silent too long, or over): stop instead of restoring on
            if (
              error instanceof ApiClientError &&
              (error.code === 'conflict' || error.code === 'not_found')
            ) {
              if (!stop.signal.aborted)
                stop.abort(
                  new RestoreFailure(
                    'agent_stopped',
                    'the service no longer expects this restore (it went unreported too long)',
                    'Start the restore again.',
                  ),
                );
              return;
            }
            log.warn(
              'restore.report-failed',
              `could not report the restore's progress: ${(error as Error).message}`,
              {
                restoreId: job.id,
              },
            );
          },
        )
        .finally(() => {
          reporting = undefined;
        });
    };
    const setPhase = (phase: RestorePhase) => {
      if (progress.phase === phase) return;
      progress.phase = phase;
      progress.bytesDone = 0;
      report();
    };
    const timer = setInterval(report, this.#reportMs);
    let tempDir: string | undefined;
    let agents: HttpAgents | undefined;
    let created: { server: DatabaseTarget; name: string } | undefined;
    try {
      const connection = await resolveTarget(this.#ctx, work).catch((error) => {
        throw new RestoreFailure(
          'password_unsealable',
          (error as Error).message,
          (error as UserError).hint ?? '',
          {
            cause: error,
          },
        );
      });
      const key = (() => {
        try {
          return decryptionKey(this.#ctx.config, undefined);
        } catch (error) {
          throw new RestoreFailure(
            'key_missing',
            `this agent cannot decrypt: ${(error as Error).message}`,
            (error as UserError).hint ?? 'Set RESISTRO_ENCRYPTION_KEY to the key the backups were made with.',
            { cause: error },
          );
        }
      })();
      const target: DatabaseTarget = { ...connection, database: job.database };
      const engine = getEngine(work.engine);
      log.info(
        'restore.begun',
        `restoring backup ${job.backupId} into ${work.engine} ${target.host}:${target.port}/${target.database}${job.create ? ' (a new database)' : job.replace ? ' (replacing its contents)' : ''}`,
        { restoreId: job.id },
      );

      // ---- check the target before anything is downloaded or changed
      if (job.create) {
        if (await engine.databaseExists(connection, job.database))
          throw new RestoreFailure(
            'target_exists',
            `database "${job.database}" already exists on ${target.host}:${target.port}`,
            'Choose another name for the new database, or restore into it as an existing database.',
          );
      } else if (!job.replace && !(await engine.isEmpty(target))) {
        throw new RestoreFailure(
          'target_not_empty',
          `database "${job.database}" on ${target.host}:${target.port} is not empty`,
          'Restore into a new database, or empty this one first.',
        );
      }
      // A deduplicated backup: its manifest now (a wrong key shows here), its chunks while restoring.
      const backup = await findRestorableBackup(job.backupId, api).catch((error) => {
        throw new RestoreFailure(
          'download_failed',
          (error as Error).message,
          (error as UserError).hint ?? '',
          {
            cause: error,
          },
        );
      });
      let remote: RemoteBackup | undefined;
      if (backup.dedup) {
        agents = createAgents(readsInFlight(defaultRestoreJobs()));
        remote = await openRemoteBackup({
          plan: () => api.dedupReads(job.backupId),
          key,
          agents,
          signal: stop.signal,
        }).catch((error) => {
          if (stop.signal.aborted || error instanceof FormatError) throw error;
          throw new RestoreFailure(
            'download_failed',
            (error as Error).message,
            (error as UserError).hint ?? '',
            {
              cause: error,
            },
          );
        });
        const engineOf = remote.manifest.meta?.engine;
        if (
          !SQL_ENGINES.some((n) => n === engineOf) ||
          (engineOf === 'postgres') !== (work.engine === 'postgres')
        )
          throw new RestoreFailure(
            'restore_failed',
            `the backup was written by ${engineOf ?? 'an unknown engine'}, but the target is ${work.engine}`,
            'Restore it into the same kind of server.',
          );
        // what is read from storage (the manifest and the chunks), not the manifest alone
        progress.bytesTotal = remote.storedBytes;
      }
      await this.#checkDisk(remote ? remote.storedBytes : job.sizeBytes, !remote, engine, connection);
      stop.signal.throwIfAborted();
      if (job.create) {
        await engine.createDatabase(connection, job.database).catch((error) => {
          throw new RestoreFailure(
            error instanceof EngineError && error.code === 'permission_denied'
              ? 'permission_denied'
              : 'restore_failed',
            `could not create database "${job.database}": ${(error as Error).message}`,
            work.engine === 'postgres'
              ? `Give the user the CREATEDB privilege (ALTER ROLE "${connection.user}" CREATEDB), or create the database and restore into it.`
              : `Grant the user CREATE on the server (GRANT CREATE ON *.* TO '${connection.user}'), or create the database and restore into it.`,
            { cause: error },
          );
        });
        created = { server: connection, name: job.database };
      }

      // ---- download (not for a deduplicated backup), then restore with the command's own code
      let path = `backup ${job.backupId}`;
      if (!remote) {
        setPhase('download');
        tempDir = await mkdtemp(join(tmpdir(), 'resistro-restore-'));
        path = await downloadBackup(job.backupId, tempDir, api, log, stop.signal, (n) => {
          progress.bytesDone += n;
        }).catch((error) => {
          if (stop.signal.aborted || error instanceof RestoreFailure) throw error;
          throw new RestoreFailure(
            'download_failed',
            (error as Error).message,
            (error as UserError).hint ?? '',
            {
              cause: error,
            },
          );
        });
        const peek = await peekBackupFile(path, key);
        if (peek.engine && (peek.engine === 'postgres') !== (work.engine === 'postgres'))
          throw new RestoreFailure(
            'restore_failed',
            `the backup was written by ${peek.engine}, but the target is ${work.engine}`,
            'Restore it into the same kind of server.',
          );
      }
      const result = await restoreFile({
        path,
        size: remote ? remote.storedBytes : job.sizeBytes,
        key,
        target,
        replace: job.replace,
        // a database made for this restore is dropped below on failure (no need to empty it first)
        wipeOnFailure: !created,
        compressor: this.#ctx.config.compressor,
        log,
        signal: stop.signal,
        onPhase: (phase) => setPhase(phase),
        onFileBytes: (n) => {
          progress.bytesDone += n;
        },
        ...(remote && { remote }),
      });
      stop.signal.throwIfAborted();
      created = undefined; // it stays: the restore succeeded
      const durationMs = Math.round(performance.now() - started);
      log.info(
        'restore.succeeded',
        `restore ${job.id} done: ${result.sqlBytes === undefined ? `a ${formatBytes(job.sizeBytes)} backup` : `${formatBytes(result.sqlBytes)} of SQL`} into ${target.database} in ${formatDuration(durationMs)}`,
        { restoreId: job.id, durationMs },
      );
      await this.#finish(job.id, { state: 'succeeded', durationMs, bytesDone: progress.bytesTotal });
    } catch (thrown) {
      const error = stop.signal.aborted ? stop.signal.reason : thrown;
      const cancelled = error instanceof Cancelled;
      if (created) {
        await getEngine(work.engine)
          .dropDatabase(created.server, created.name)
          .then(() =>
            log.info('restore.dropped', `dropped the new database "${created?.name}" again`, {
              restoreId: job.id,
            }),
          )
          .catch((e) =>
            log.error(
              'restore.drop-failed',
              `could not drop the new database "${created?.name}": ${(e as Error).message}`,
              { restoreId: job.id },
            ),
          );
      }
      const durationMs = Math.round(performance.now() - started);
      if (cancelled) {
        log.info('restore.cancelled', `restore ${job.id} cancelled; the target is left as it was`, {
          restoreId: job.id,
        });
        await this.#finish(job.id, { state: 'cancelled', durationMs });
      } else {
        const code = restoreErrorCode(error);
        log.error('restore.failed', `restore ${job.id} failed (${code}): ${errorText(error)}`, {
          restoreId: job.id,
        });
        await this.#finish(job.id, { state: 'failed', errorCode: code, error: errorText(error), durationMs });
      }
    } finally {
      clearInterval(timer);
      await reporting;
      agents?.destroy();
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    }
  }

  /**
   * Room for the download here (`download`: not for a backup read straight from storage), and (for
   * a server on this machine) at least the backup's `size` there.
   */
  async #checkDisk(
    size: number,
    download: boolean,
    engine: ReturnType<typeof getEngine>,
    connection: DatabaseTarget,
  ): Promise<void> {
    const free = download ? await freeBytes(tmpdir()) : undefined;
    if (free !== undefined && free < size + DISK_MARGIN_BYTES)
      throw new RestoreFailure(
        'disk_full',
        `not enough free space in ${tmpdir()} for the backup (${formatBytes(size)} needed, ${formatBytes(free)} free)`,
        'Free some space, or point TMPDIR of the agent at a larger disk.',
      );
    if (!isLocalHost(connection.host)) return;
    const dataDir = await engine.dataDirectory(connection);
    const dataFree = dataDir ? await freeBytes(dataDir) : undefined;
    // The restored data takes at least as much as the compressed backup: less free space cannot work.
    if (dataFree !== undefined && dataFree < size)
      throw new RestoreFailure(
        'disk_full',
        `not enough free space for the database in ${dataDir} (${formatBytes(dataFree)} free, the backup alone is ${formatBytes(size)})`,
        "Free some space on the database server's disk first.",
      );
  }

  async #finish(id: string, body: Parameters<AgentContext['api']['finishRestore']>[1]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#ctx.api.finishRestore(id, body);
        return;
      } catch (error) {
        if (attempt >= 5 || (error instanceof ApiClientError && error.status >= 400 && error.status < 500)) {
          this.#ctx.log.error(
            'restore.report-failed',
            `could not report the end of restore ${id}: ${(error as Error).message}`,
            {
              restoreId: id,
            },
          );
          return;
        }
        await new Promise((r) => setTimeout(r, 1000 * attempt));
      }
    }
  }
}
