// Test restores asked for by the control plane (schedule or "test now"), from the heartbeat's
// `restoreTestRequests`. The control plane only queues the job; this agent, which holds the key
// and the database credentials, runs it: take the job, download the backup (a deduplicated one is
// not downloaded: its chunks are read straight from storage with ranged reads, as a restore from
// the dashboard reads them, so the test proves what storage holds), run the test
// (verify/restore-test.ts), report the phase as it goes (the answer says whether the user
// cancelled) and the verdict at the end. One test at a time, beside any backup or restore.

import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiClientError,
  type DatabaseWork,
  type RestoreTestErrorCode,
  type RestoreTestJob,
  type RestoreTestPhase,
  type RestoreTestVerdict,
} from '@resistro/contract';
import { type AgentContext, resolveTarget } from '../context.ts';
import { openRemoteBackup, type RemoteBackup, readsInFlight } from '../dedup/remote-read.ts';
import type { UserError } from '../errors.ts';
import { FormatError } from '../format/index.ts';
import { decryptionKey } from '../key-file.ts';
import { formatBytes } from '../log.ts';
import { downloadBackup, findRestorableBackup } from '../restore/download.ts';
import { defaultRestoreJobs } from '../restore/into-database.ts';
import { createAgents, type HttpAgents } from '../upload/http.ts';
import { RestoreTestFailure, runRestoreTest, testErrorCode } from '../verify/restore-test.ts';
import { JobQueue } from './job-queue.ts';

/** how often a running test reports its phase (and so how soon it hears of a cancel) */
export const RESTORE_TEST_REPORT_MS = 15_000;
const DISK_MARGIN_BYTES = 64 * 1024 * 1024;

type Queued = { job: RestoreTestJob; tested: DatabaseWork; connection: DatabaseWork };

export class RestoreTestJobs {
  readonly #ctx: AgentContext;
  readonly #reportMs: number;
  readonly #jobs: JobQueue<Queued>;

  constructor(ctx: AgentContext, opts: { reportMs?: number } = {}) {
    this.#ctx = ctx;
    this.#reportMs = opts.reportMs ?? RESTORE_TEST_REPORT_MS;
    this.#jobs = new JobQueue(
      (queued, stop) => this.#run(queued, stop),
      ({ job }, error) =>
        this.#ctx.log.error(
          'verify.crashed',
          `internal error in the test restore ${job.id}: ${(error as Error).stack ?? error}`,
          { restoreTestId: job.id },
        ),
    );
  }

  get busy(): boolean {
    return this.#jobs.busy;
  }

  /** Queues the tests not seen yet whose databases this agent knows. */
  handle(jobs: RestoreTestJob[] | undefined, databases: DatabaseWork[]): void {
    for (const job of jobs ?? []) {
      if (this.#jobs.has(job.id)) continue;
      const tested = databases.find((d) => d.id === job.databaseId);
      const connection = databases.find((d) => d.id === job.connectionDatabaseId);
      // Not in this agent's list yet: the next heartbeat brings it.
      if (tested && connection) this.#jobs.add(job.id, { job, tested, connection });
    }
  }

  /** Takes no new tests; stops the running one (its verdict: agent_stopped; the scratch copy is dropped). */
  async stop(): Promise<void> {
    await this.#jobs.stop(
      new RestoreTestFailure(
        'agent_stopped',
        'the agent was stopped during the test restore',
        'It runs again at its next scheduled time, or start it with "test now".',
      ),
    );
  }

  async #run({ job, tested, connection }: Queued, stop: AbortController): Promise<void> {
    const { log, api } = this.#ctx;
    try {
      await api.startRestoreTest(job.id);
    } catch (error) {
      if (error instanceof ApiClientError && (error.code === 'conflict' || error.code === 'not_found')) {
        log.info('verify.skipped', `test restore ${job.id} was cancelled or taken before it began`, {
          restoreTestId: job.id,
        });
        return;
      }
      this.#jobs.forget(job.id); // asked again at the next heartbeat
      throw error;
    }
    const started = performance.now();
    let phase: RestoreTestPhase = 'check';
    let reporting: Promise<void> | undefined;
    const report = () => {
      reporting ??= api
        .reportRestoreTestProgress(job.id, { phase })
        .then(
          (r) => {
            if (r.cancelRequested && !stop.signal.aborted) {
              log.info(
                'verify.cancelling',
                `test restore ${job.id} was cancelled in the dashboard; stopping`,
                {
                  restoreTestId: job.id,
                },
              );
              stop.abort(
                new RestoreTestFailure(
                  'cancelled',
                  'cancelled in the dashboard',
                  'Start it again when you like.',
                ),
              );
            }
          },
          (error) => {
            if (
              error instanceof ApiClientError &&
              (error.code === 'conflict' || error.code === 'not_found')
            ) {
              if (!stop.signal.aborted)
                stop.abort(
                  new RestoreTestFailure(
                    'agent_stopped',
                    'the service no longer expects this test restore (it went unreported too long)',
                    'Start it again.',
                  ),
                );
              return;
            }
            log.warn(
              'verify.report-failed',
              `could not report the test restore's progress: ${(error as Error).message}`,
              {
                restoreTestId: job.id,
              },
            );
          },
        )
        .finally(() => {
          reporting = undefined;
        });
    };
    const setPhase = (next: RestoreTestPhase) => {
      if (phase === next) return;
      phase = next;
      report();
    };
    const timer = setInterval(report, this.#reportMs);
    const timeLimitMs = Math.max(1, job.timeLimitSeconds) * 1000;
    const limit = AbortSignal.timeout(timeLimitMs);
    let tempDir: string | undefined;
    let agents: HttpAgents | undefined;
    const early = (error: unknown): RestoreTestVerdict => {
      const reason = stop.signal.aborted
        ? stop.signal.reason
        : limit.aborted
          ? timeLimitError(timeLimitMs)
          : error;
      const code: RestoreTestErrorCode =
        reason instanceof RestoreTestFailure
          ? reason.testCode
          : limit.aborted
            ? 'time_limit'
            : testErrorCode(reason);
      const e = reason as Error & { hint?: string };
      return {
        status: code === 'cancelled' ? 'cancelled' : 'error',
        backupId: job.backupId,
        totalMs: Math.round(performance.now() - started),
        tables: { checked: 0, failed: 0, failures: [] },
        checks: [],
        error: {
          code,
          message: (e.message ?? String(reason)).slice(0, 8000),
          ...(e.hint && { hint: e.hint.slice(0, 2000) }),
        },
      };
    };
    let verdict: RestoreTestVerdict;
    try {
      log.info(
        'verify.begun',
        `test restore of backup ${job.backupId} of "${tested.name}" into ${job.scratchDatabase} on ${connection.host}:${connection.port}`,
        { restoreTestId: job.id },
      );
      const key = (() => {
        try {
          return decryptionKey(this.#ctx.config, undefined);
        } catch (error) {
          throw new RestoreTestFailure(
            'key_missing',
            `this agent cannot decrypt: ${(error as Error).message}`,
            (error as UserError).hint ?? 'Set RESISTRO_ENCRYPTION_KEY to the key the backups were made with.',
            { cause: error },
          );
        }
      })();
      const server = await resolveTarget(this.#ctx, connection).catch((error) => {
        throw new RestoreTestFailure(
          'connection_failed',
          (error as Error).message,
          (error as UserError).hint ?? '',
          {
            cause: error,
          },
        );
      });
      const signal = AbortSignal.any([stop.signal, limit]);
      const backup = await findRestorableBackup(job.backupId, api).catch((error) => {
        if (signal.aborted) throw error;
        throw new RestoreTestFailure(
          'download_failed',
          (error as Error).message,
          (error as UserError).hint ?? '',
          {
            cause: error,
          },
        );
      });
      let path: string;
      let remote: RemoteBackup | undefined;
      let downloadMs = 0;
      if (backup.dedup) {
        agents = createAgents(readsInFlight(defaultRestoreJobs()));
        remote = await openRemoteBackup({
          plan: () => api.dedupReads(job.backupId),
          key,
          agents,
          signal,
        }).catch((error) => {
          // a wrong key or a damaged manifest is the backup's own verdict (testErrorCode)
          if (signal.aborted || error instanceof FormatError) throw error;
          throw new RestoreTestFailure(
            'download_failed',
            (error as Error).message,
            (error as UserError).hint ?? '',
            { cause: error },
          );
        });
        path = `backup ${job.backupId}`;
        log.info(
          'verify.remote',
          `reading backup ${job.backupId} straight from storage (deduplicated: ${formatBytes(remote.storedBytes)}; every chunk is checked as it is read)`,
          { restoreTestId: job.id, storedBytes: remote.storedBytes },
        );
      } else {
        const free = await statfs(tmpdir()).then(
          (s) => s.bavail * s.bsize,
          () => undefined,
        );
        if (free !== undefined && free < job.sizeBytes + DISK_MARGIN_BYTES)
          throw new RestoreTestFailure(
            'disk_space',
            `not enough free space in ${tmpdir()} for the backup (${formatBytes(job.sizeBytes)} needed, ${formatBytes(free)} free)`,
            'Free some space, or point TMPDIR of the agent at a larger disk.',
          );
        setPhase('download');
        tempDir = await mkdtemp(join(tmpdir(), 'resistro-verify-'));
        const downloading = performance.now();
        path = await downloadBackup(job.backupId, tempDir, api, log, signal).catch((error) => {
          if (signal.aborted) throw error;
          throw new RestoreTestFailure(
            'download_failed',
            (error as Error).message,
            (error as UserError).hint ?? '',
            {
              cause: error,
            },
          );
        });
        downloadMs = Math.round(performance.now() - downloading);
      }
      verdict = await runRestoreTest({
        path,
        size: remote ? remote.storedBytes : job.sizeBytes,
        ...(remote && { remote }),
        backupId: job.backupId,
        key,
        server,
        // the tested database, when the scratch copy is made beside it: never the scratch name
        sourceDatabase: tested.database,
        scratchDatabase: job.scratchDatabase,
        checks: job.checks,
        timeLimitMs: Math.max(1, timeLimitMs - (performance.now() - started)),
        signal: stop.signal,
        log: log.child({ restoreTestId: job.id }),
        downloadMs,
        startedAt: started,
        onPhase: setPhase,
      });
    } catch (error) {
      verdict = early(error);
      log.warn(
        'verify.error',
        `test restore ${job.id} could not finish (${verdict.error?.code}): ${verdict.error?.message}`,
        {
          restoreTestId: job.id,
        },
      );
    } finally {
      clearInterval(timer);
      await reporting;
      agents?.destroy();
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    }
    await this.#finish(job.id, verdict);
  }

  async #finish(id: string, verdict: RestoreTestVerdict): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#ctx.api.reportRestoreTestResult(id, verdict);
        return;
      } catch (error) {
        if (attempt >= 5 || (error instanceof ApiClientError && error.status >= 400 && error.status < 500)) {
          this.#ctx.log.error(
            'verify.report-failed',
            `could not report the verdict of test restore ${id}: ${(error as Error).message}`,
            {
              restoreTestId: id,
            },
          );
          return;
        }
        await new Promise((r) => setTimeout(r, 1000 * attempt));
      }
    }
  }
}

function timeLimitError(ms: number): RestoreTestFailure {
  return new RestoreTestFailure(
    'time_limit',
    `the test restore took longer than its time limit (${Math.round(ms / 60_000)} min)`,
    'Raise the time limit in the restore test settings, or test on a faster separate server.',
  );
}
