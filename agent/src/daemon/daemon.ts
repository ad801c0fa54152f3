// The agent daemon: heartbeat, local schedules, "back up now", retries, spool delivery, shutdown.
//
// - Heartbeat every `heartbeatIntervalSeconds` from the server (60 s), or the --heartbeat-interval
//   override. Each answer is cached on disk; schedules run from the cache while the control plane
//   is unreachable.
// - One backup at a time on this machine (dumps are heavy; two cores are common), and never two of
//   one database; further jobs queue. A "back up now" request joins a queued job of its database.
// - A failed backup is retried at the next heartbeat, then with exponential backoff (1, 2, 4 …
//   intervals, at most an hour apart), up to MAX_RETRIES times until its next scheduled run. A
//   refusal the user must fix (quota, plan, revoked key) is not retried.
// - SIGTERM/SIGINT: take no new work, stop the running backup and report it failed (or queue the
//   report when the control plane is away), then resolve: no backup is left half-reported.
import type { DatabaseWork, HeartbeatResponse } from '@resistro/contract';
import { type BackupStoppedError, type JobOptions, runBackupJob } from '../backup/job.ts';
import { type AgentContext, type CachedWork, loadCachedWork } from '../context.ts';
import { isTransient } from '../errors.ts';
import { flushPendingReports, recoverInterrupted } from '../reports.ts';
import { readJson, writeJson } from '../state.ts';
import { deliverSpool } from '../upload/deliver.ts';
import { PostgresPitr } from '../wal/jobs.ts';
import { ConnectionChecks } from './checks.ts';
import { CopyJobs } from './copies.ts';
import { heartbeat } from './heartbeat.ts';
import { PitrJobs } from './pitr.ts';
import { RestoreTestJobs } from './restore-tests.ts';
import { RestoreJobs } from './restores.ts';
import { Scheduler, type ScheduleState } from './scheduler.ts';

export const MAX_RETRIES = 5;
const MAX_RETRY_GAP_MS = 3600_000;

type Job = { work: DatabaseWork; trigger: JobOptions['trigger']; requestId?: string };

export type DaemonOptions = {
  /** seconds; overrides the server's interval */
  heartbeatInterval?: number;
  /** passed to every job (tests) */
  jobOptions?: Partial<JobOptions>;
  /** ms between a running restore's progress reports (tests) */
  restoreReportMs?: number;
  /** ms between a running test restore's phase reports (tests) */
  restoreTestReportMs?: number;
  /** ms between continuous-protection status reports (tests) */
  pitrStatusMs?: number;
};

/**
 * Between heartbeats the agent asks for waiting restores this often, so a restore started in the
 * dashboard begins within seconds rather than at the next heartbeat (one small indexed query).
 */
export const RESTORE_POLL_MS = 10_000;

export class Daemon {
  readonly #ctx: AgentContext;
  readonly #opts: DaemonOptions;
  readonly #abort = new AbortController();
  #scheduler = new Scheduler();
  #databases: DatabaseWork[] = [];
  #intervalMs = 60_000;
  #queue: Job[] = [];
  #running: { job: Job; promise: Promise<void> } | undefined;
  #maintenance: Promise<void> | undefined;
  #retries = new Map<string, { attempt: number; notBefore: number }>();
  #seenRequests = new Set<string>();
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #tickTimer: NodeJS.Timeout | undefined;
  #online: boolean | undefined;
  /** the account is read-only (cancelled or being deleted): said once, then the agent stays quiet */
  #readOnly = false;
  #notice: { code: string; message: string } | null = null;
  #recovered = false;
  #stopped: Promise<void> | undefined;
  #resolveStopped: (() => void) | undefined;
  readonly #checks: ConnectionChecks;
  readonly #restores: RestoreJobs;
  readonly #restoreTests: RestoreTestJobs;
  readonly #pitr: PitrJobs;
  readonly #copies: CopyJobs;
  readonly #pgPitr: PostgresPitr;
  #restorePollTimer: NodeJS.Timeout | undefined;

  constructor(ctx: AgentContext, opts: DaemonOptions = {}) {
    this.#ctx = ctx;
    this.#opts = opts;
    this.#checks = new ConnectionChecks(ctx);
    this.#copies = new CopyJobs(ctx);
    this.#restores = new RestoreJobs(ctx, opts.restoreReportMs ? { reportMs: opts.restoreReportMs } : {});
    this.#restoreTests = new RestoreTestJobs(
      ctx,
      opts.restoreTestReportMs ? { reportMs: opts.restoreTestReportMs } : {},
    );
    this.#pgPitr = new PostgresPitr(ctx, opts.pitrStatusMs ? { statusMs: opts.pitrStatusMs } : {});
    this.#pitr = new PitrJobs(ctx, {
      postgres: (items, databases) => this.#pgPitr.sync(items, databases),
      enqueueBackup: (work) => {
        this.#enqueue({ work, trigger: 'schedule' });
        this.#pump();
      },
      ...(opts.pitrStatusMs && { statusMs: opts.pitrStatusMs }),
    });
  }

  /** Runs until stop(); resolves once everything is wound down. */
  async run(): Promise<void> {
    const { ctx } = { ctx: this.#ctx };
    this.#stopped = new Promise((resolve) => {
      this.#resolveStopped = resolve;
    });
    const state = (await readJson<ScheduleState>(ctx.state.path('schedule.json'))) ?? {};
    this.#scheduler = new Scheduler(state);
    const cached = await loadCachedWork(ctx.state);
    if (cached) this.#useWork(cached, 'cache');
    await ctx.spool.sweep();
    ctx.log.info(
      'agent.started',
      `agent started (state ${ctx.state.root}, ${cached ? `${cached.databases.length} databases cached` : 'no cached configuration yet'})`,
      {
        publicKey: ctx.identity.publicKey,
      },
    );
    this.#tickTimer = setInterval(() => this.#tick(), 1000);
    await this.#heartbeat();
    this.#scheduleRestorePoll();
    await this.#stopped;
  }

  /** Stop taking work, stop and report the running backup, wait for both. */
  async stop(reason: BackupStoppedError): Promise<void> {
    if (this.#abort.signal.aborted) return this.#stopped;
    this.#ctx.log.info(
      'agent.stopping',
      'stopping: no new backups; the running one (if any) is stopped and reported',
    );
    this.#abort.abort(reason);
    clearTimeout(this.#heartbeatTimer);
    clearInterval(this.#tickTimer);
    clearTimeout(this.#restorePollTimer);
    this.#queue = [];
    await Promise.allSettled([
      this.#running?.promise,
      this.#maintenance,
      this.#checks.stop(),
      this.#restores.stop(),
      this.#restoreTests.stop(),
      this.#pitr.stop(),
      this.#copies.stop(),
      this.#pgPitr.stop(),
    ]);
    this.#ctx.agents.destroy();
    this.#ctx.log.info('agent.stopped', 'agent stopped');
    this.#resolveStopped?.();
  }

  get stopping(): boolean {
    return this.#abort.signal.aborted;
  }

  #useWork(work: CachedWork, source: 'cache' | 'heartbeat'): void {
    this.#databases = work.databases;
    if (!this.#opts.heartbeatInterval) this.#intervalMs = Math.max(1, work.heartbeatIntervalSeconds) * 1000;
    if (this.#scheduler.setDatabases(work.databases, new Date())) this.#saveSchedule();
    if (source === 'cache') this.#ctx.agentId ??= work.agentId;
  }

  #saveSchedule(): void {
    writeJson(this.#ctx.state.path('schedule.json'), this.#scheduler.state()).catch((error) =>
      this.#ctx.log.warn('schedule.save', `could not save the schedule state: ${(error as Error).message}`),
    );
  }

  async #heartbeat(): Promise<void> {
    if (this.stopping) return;
    const { log } = this.#ctx;
    try {
      const res = await heartbeat(this.#ctx);
      if (this.#online !== true)
        log.info(
          'heartbeat.online',
          `connected to the control plane as agent ${res.agent.id}; ${res.databases.length} databases`,
          { agentId: res.agent.id },
        );
      this.#online = true;
      this.#useWork(
        {
          savedAt: res.serverTime,
          agentId: res.agent.id,
          heartbeatIntervalSeconds: res.heartbeatIntervalSeconds,
          databases: res.databases,
        },
        'heartbeat',
      );
      for (const request of res.backupRequests) {
        if (this.#seenRequests.has(request.id)) continue;
        const work = this.#databases.find((d) => d.id === request.databaseId);
        if (!work) continue;
        this.#seenRequests.add(request.id);
        log.info('backup.requested', `"back up now" for "${work.name}"`, {
          databaseId: work.id,
          requestId: request.id,
        });
        this.#enqueue({ work, trigger: 'manual', requestId: request.id });
      }
      this.#useNotice(res.accountNotice ?? null);
      // a database added or edited: test its connection now, not at its first backup
      this.#checks.handle(res.checkRequests, this.#databases);
      this.#restores.handle(res.restoreRequests, this.#databases);
      this.#restoreTests.handle(res.restoreTestRequests, this.#databases);
      // continuous protection: its own request, not awaited (a streamer start must not delay backups)
      if (!res.accountClosing?.readOnly) void this.#pitr.sync(this.#databases);
      if (!this.#readOnly) this.#copies.handle(res.copyRequests);
      this.#noteClosing(res.accountClosing);
      // A read-only account takes no backups: spooled ones wait (nothing is dropped) until it is reopened.
      if (!this.#readOnly) this.#startMaintenance();
    } catch (error) {
      if (this.#online !== false) {
        const level = isTransient(error) ? 'warn' : 'error';
        log[level](
          'heartbeat.failed',
          `heartbeat failed: ${(error as Error).message}; backups continue from the cached configuration`,
        );
      }
      this.#online = false;
    }
    this.#enqueueRetries();
    this.#pump();
    if (!this.stopping) {
      const ms = this.#opts.heartbeatInterval ? this.#opts.heartbeatInterval * 1000 : this.#intervalMs;
      this.#heartbeatTimer = setTimeout(() => void this.#heartbeat(), ms);
    }
  }

  #scheduleRestorePoll(): void {
    if (this.stopping) return;
    this.#restorePollTimer = setTimeout(() => void this.#pollRestores(), RESTORE_POLL_MS);
  }

  /** Asks for waiting restores between heartbeats (only while connected; the heartbeat does too). */
  async #pollRestores(): Promise<void> {
    if (this.#online === true && this.#ctx.agentId && !this.#restores.busy) {
      try {
        const { items } = await this.#ctx.api.agentRestores(this.#ctx.agentId);
        this.#restores.handle(items, this.#databases);
      } catch (error) {
        this.#ctx.log.debug('restore.poll-failed', `asking for restores failed: ${(error as Error).message}`);
      }
    }
    this.#scheduleRestorePoll();
  }

  /** Says once that the account turned read-only (and once that it was reopened); quiet in between. */
  #noteClosing(closing: HeartbeatResponse['accountClosing']): void {
    const readOnly = closing?.readOnly === true;
    if (closing && readOnly && !this.#readOnly) {
      this.#ctx.log.warn(
        'account.read_only',
        `this account is ${closing.reason === 'deletion_requested' ? 'being deleted as requested' : 'cancelled'} and read-only: no backups run from now on. Its backups can be downloaded until ${closing.purgeAt} (resistro export --all --to <folder>); reopen it in the dashboard to continue`,
        { reason: closing.reason, purgeAt: closing.purgeAt },
      );
    } else if (!readOnly && this.#readOnly) {
      this.#ctx.log.info('account.reopened', 'the account was reopened: backups run again');
    }
    this.#readOnly = readOnly;
  }

  #tick(): void {
    if (this.stopping) return;
    const due = this.#scheduler.due(new Date());
    if (due.length > 0) this.#saveSchedule();
    for (const { work, slot } of due) {
      this.#ctx.log.info('backup.due', `scheduled backup of "${work.name}" (slot ${slot.toISOString()})`, {
        databaseId: work.id,
      });
      // A new scheduled run replaces any retries still owed for the previous one.
      this.#retries.delete(work.id);
      this.#enqueue({ work, trigger: 'schedule' });
    }
    this.#pump();
  }

  #enqueue(job: Job): void {
    const queued = this.#queue.find((j) => j.work.id === job.work.id);
    if (queued) {
      if (job.requestId && !queued.requestId) {
        queued.requestId = job.requestId;
        queued.trigger = 'manual';
      } else if (job.requestId) {
        this.#queue.push(job);
      }
      return;
    }
    if (this.#running?.job.work.id === job.work.id && !job.requestId) return;
    this.#queue.push(job);
  }

  /** The account takes no new backups (e.g. unpaid): said once, and no backup runs until it clears. */
  #useNotice(notice: { code: string; message: string } | null): void {
    if (notice?.code === this.#notice?.code) return;
    if (notice)
      this.#ctx.log.warn('account.notice', `${notice.message} (${notice.code})`, { code: notice.code });
    else if (this.#notice) this.#ctx.log.info('account.notice_cleared', 'the account takes backups again');
    this.#notice = notice;
  }

  #enqueueRetries(): void {
    const now = Date.now();
    for (const [databaseId, retry] of this.#retries) {
      if (retry.notBefore > now) continue;
      const work = this.#databases.find((d) => d.id === databaseId);
      if (!work || work.paused) {
        this.#retries.delete(databaseId);
        continue;
      }
      if (this.#running?.job.work.id === databaseId || this.#queue.some((j) => j.work.id === databaseId))
        continue;
      retry.notBefore = Number.POSITIVE_INFINITY; // until this attempt has an outcome
      this.#enqueue({ work, trigger: 'retry' });
    }
  }

  #pump(): void {
    if (this.#running || this.stopping) return;
    if (this.#notice?.code === 'backups_stopped') {
      // The control plane would refuse them; they are not failures of the database.
      this.#queue.length = 0;
      return;
    }
    const job = this.#queue.shift();
    if (!job) return;
    // Use the newest configuration of the database (password, host, paused may have changed).
    const current = this.#databases.find((d) => d.id === job.work.id);
    if (!current || (current.paused && !job.requestId)) {
      this.#pump();
      return;
    }
    job.work = current;
    const promise = this.#runJob(job).finally(() => {
      this.#running = undefined;
      if (!this.stopping) {
        this.#startMaintenance();
        this.#pump();
      }
    });
    this.#running = { job, promise };
  }

  async #runJob(job: Job): Promise<void> {
    const { log } = this.#ctx;
    try {
      const outcome = await runBackupJob(this.#ctx, job.work, {
        ...this.#opts.jobOptions,
        trigger: job.trigger,
        ...(job.requestId && { requestId: job.requestId }),
        signal: this.#abort.signal,
      });
      if (outcome.status === 'succeeded' || outcome.status === 'spooled') this.#retries.delete(job.work.id);
      if (outcome.status === 'failed' && !this.stopping) this.#scheduleRetry(job.work, outcome.retry);
    } catch (error) {
      // A bug in the job itself: log it with its stack and keep the daemon alive.
      log.error(
        'backup.crashed',
        `internal error during the backup of "${job.work.name}": ${(error as Error).stack ?? error}`,
        {
          databaseId: job.work.id,
        },
      );
      if (!this.stopping) this.#scheduleRetry(job.work, true);
    }
  }

  #scheduleRetry(work: DatabaseWork, retryable: boolean): void {
    const { log } = this.#ctx;
    const previous = this.#retries.get(work.id);
    const attempt = (previous?.attempt ?? 0) + 1;
    if (!retryable || attempt > MAX_RETRIES) {
      this.#retries.delete(work.id);
      log.warn(
        'backup.no-retry',
        retryable
          ? `giving up on "${work.name}" after ${MAX_RETRIES} retries; next try at its next scheduled run`
          : `not retrying "${work.name}": this needs a fix first`,
        {
          databaseId: work.id,
        },
      );
      return;
    }
    // Attempt 1 runs at the next heartbeat; then 1, 2, 4 … intervals later.
    const interval = this.#opts.heartbeatInterval ? this.#opts.heartbeatInterval * 1000 : this.#intervalMs;
    const gap = attempt === 1 ? 0 : Math.min(MAX_RETRY_GAP_MS, interval * 2 ** (attempt - 2));
    this.#retries.set(work.id, { attempt, notBefore: Date.now() + gap });
    log.info(
      'backup.retry-scheduled',
      `"${work.name}" is retried ${attempt === 1 ? 'at the next heartbeat' : `in about ${Math.round(gap / 1000)} s`} (retry ${attempt} of ${MAX_RETRIES})`,
      {
        databaseId: work.id,
        attempt,
      },
    );
  }

  /** Reports and spooled backups, after a successful heartbeat; one round at a time. */
  #startMaintenance(): void {
    if (this.#maintenance || this.stopping || this.#online !== true) return;
    this.#maintenance = this.#maintain()
      .catch((error) =>
        this.#ctx.log.error(
          'maintenance.failed',
          `delivering queued work failed: ${(error as Error).stack ?? error}`,
        ),
      )
      .finally(() => {
        this.#maintenance = undefined;
      });
  }

  async #maintain(): Promise<void> {
    const ctx = this.#ctx;
    if (!this.#recovered) {
      this.#recovered = true;
      await recoverInterrupted(ctx.api, ctx.state, ctx.log);
    }
    await flushPendingReports(ctx.api, ctx.state, ctx.log, ctx.agentId);
    await deliverSpool({
      api: ctx.api,
      spool: ctx.spool,
      agents: ctx.agents,
      log: ctx.log,
      agentId: ctx.agentId,
      signal: this.#abort.signal,
      ...(this.#opts.jobOptions?.retry && { retry: this.#opts.jobOptions.retry }),
    });
  }
}
