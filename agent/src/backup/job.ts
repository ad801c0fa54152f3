// One backup of one database, start to end: lock, open the sealed password, start the backup on
// the control plane (or spool when it is away), run the pipeline, then complete, or report the
// failure. Shared by `resistro backup` and the daemon. Every outcome is reported: a failure that
// cannot be reported now is queued on disk; a process killed midway leaves a record that the next
// start reports.

import { join } from 'node:path';
import { ApiClientError, type DatabaseWork, openSealed } from '@resistro/contract';
import type { AgentContext } from '../context.ts';
import { type DatabaseTarget, type Engine, type EngineName, getEngine } from '../engines/index.ts';
import { classifyError, isUserBlocked, UserError } from '../errors.ts';
import { formatBytes, formatDuration, type LogFields } from '../log.ts';
import { clearRunning, recordRunning, reportFailure } from '../reports.ts';
import { tryLock } from '../state.ts';
import { callApi, OfflineError } from '../upload/client.ts';
import type { RetryPolicy } from '../upload/retry.ts';
import { BackupSink, type SinkUpload } from '../upload/sink.ts';
import type { BackupTrigger, SpoolEntryStart } from '../upload/spool.ts';
import { runPipeline } from './pipeline.ts';

export type JobOptions = {
  trigger: BackupTrigger;
  requestId?: string;
  signal?: AbortSignal;
  onBytes?: (n: number) => void;
  /** tests: other retry timing */
  retry?: RetryPolicy;
  /** tests: force temporary files for parts */
  forceFileParts?: boolean;
  engine?: (name: EngineName) => Engine;
};

export type JobOutcome =
  | { status: 'succeeded'; backupId: string; sizeBytes: number; durationMs: number }
  | { status: 'spooled'; entryId: string; reason: string; sizeBytes: number }
  | { status: 'skipped'; reason: string }
  | { status: 'failed'; error: unknown; reported: boolean; retry: boolean };

export class BackupStoppedError extends UserError {
  constructor(message = 'The agent was stopped during this backup; nothing from it was kept.') {
    super(message, 'The backup runs again at its next scheduled time, or start one with "back up now".');
    this.name = 'BackupStoppedError';
  }
}

/** The failure as the dashboard shows it: what happened, the tool's stderr, and what to do. */
export function describeFailure(error: unknown): string {
  const report = classifyError(error);
  const hint = report.hint ? `\nHint: ${report.hint}` : '';
  return `${report.message}${hint}`;
}

export async function resolveTarget(ctx: AgentContext, work: DatabaseWork): Promise<DatabaseTarget> {
  const target: DatabaseTarget = {
    engine: work.engine,
    host: work.host,
    port: work.port,
    database: work.database,
    user: work.user,
  };
  if (work.credentials.mode === 'local') return target;
  try {
    // SECURITY: the password exists in clear only here, in memory, and in the dump tool's
    // environment or private option file; it is never logged or written to disk.
    return { ...target, password: await openSealed(ctx.identity, work.credentials.sealedPassword) };
  } catch (error) {
    throw new UserError(
      `the password of database "${work.name}" cannot be opened: it was sealed to another agent key`,
      "Enter the database password again in the dashboard (it is sealed to this agent's current key), or choose local credentials (.pgpass / option file).",
      { cause: error },
    );
  }
}

export async function runBackupJob(
  ctx: AgentContext,
  work: DatabaseWork,
  opts: JobOptions,
): Promise<JobOutcome> {
  const log = ctx.log.child({ databaseId: work.id, database: work.name });
  const lock = await tryLock(join(ctx.state.dir('locks'), `${work.id}.lock`));
  if (!lock) return { status: 'skipped', reason: `a backup of "${work.name}" is already running` };
  try {
    return await runLocked(ctx, work, opts, log);
  } finally {
    await lock.release();
  }
}

async function runLocked(
  ctx: AgentContext,
  work: DatabaseWork,
  opts: JobOptions,
  log: AgentContext['log'],
): Promise<JobOutcome> {
  const key = ctx.config.encryptionKey;
  if (!key) throw new Error('runBackupJob needs the encryption key');
  const startedAt = new Date();
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const failureBase = {
    databaseId: work.id,
    databaseName: work.name,
    trigger: opts.trigger,
    startedAt: startedAt.toISOString(),
  };

  // 1. The backup row and upload on the control plane, or the spool when it is away.
  let upload: SinkUpload | undefined;
  let backupId: string | undefined;
  let spoolReason: string | undefined;
  try {
    const res = await callApi(
      () =>
        ctx.api.startBackup({
          databaseId: work.id,
          trigger: opts.trigger,
          startedAt: startedAt.toISOString(),
          ...(opts.requestId && { requestId: opts.requestId }),
          ...(ctx.agentId && { agentId: ctx.agentId }),
        }),
      {
        what: 'start the backup',
        retry: opts.retry ?? { attempts: 3, baseMs: 1000, maxMs: 4000 },
        signal: opts.signal,
      },
    );
    backupId = res.backup.id;
    log.debug('backup.created', `backup ${backupId} created`, {
      sinceStartMs: Math.round(performance.now()),
    });
    upload = {
      api: ctx.api,
      agents: ctx.agents,
      backupId,
      partSize: res.upload.partSize,
      maxParts: res.upload.maxParts,
      tmpDir: ctx.state.dir('tmp'),
      forceFiles: opts.forceFileParts,
      retry: opts.retry,
    };
    await recordRunning(ctx.state, {
      backupId,
      databaseId: work.id,
      databaseName: work.name,
      startedAt: startedAt.toISOString(),
    });
  } catch (error) {
    if (opts.signal?.aborted) {
      return {
        status: 'failed',
        error: new BackupStoppedError('The agent was stopped before the backup began.'),
        reported: false,
        retry: false,
      };
    }
    if (error instanceof OfflineError) {
      spoolReason = `${error.what} unreachable at the start (${error.message})`;
      log.warn('backup.offline', `${error.what} unreachable: this backup goes to the offline spool`, {
        reason: error.message,
      });
    } else if (error instanceof ApiClientError && error.code === 'conflict' && opts.requestId) {
      return { status: 'skipped', reason: 'the "back up now" request was already taken' };
    } else {
      // Quota, plan, key, deleted database: the control plane refused; it will refuse the report too.
      log.error('backup.refused', `the control plane refused to start the backup: ${describeFailure(error)}`);
      return {
        status: 'failed',
        error,
        reported: false,
        retry: !isUserBlocked(error) && !(error instanceof ApiClientError && error.code === 'not_found'),
      };
    }
  }

  const spoolStart: SpoolEntryStart = {
    databaseId: work.id,
    databaseName: work.name,
    trigger: opts.trigger,
    ...(opts.requestId && { requestId: opts.requestId }),
    startedAt: startedAt.toISOString(),
    upload: null,
    reason: spoolReason ?? '',
  };
  const sink = new BackupSink({
    log,
    spool: ctx.spool,
    spoolStart,
    upload,
    spoolReason,
    onBytes: opts.onBytes,
    signal: opts.signal,
  });
  log.info(
    'backup.started',
    `backing up "${work.name}" (${work.engine} ${work.host}:${work.port}/${work.database}, trigger ${opts.trigger})`,
    {
      backupId,
      trigger: opts.trigger,
    },
  );

  const fail = async (error: unknown): Promise<JobOutcome> => {
    await sink.discard().catch(() => {});
    const stopped = opts.signal?.aborted === true;
    const cause = stopped ? (opts.signal?.reason ?? new BackupStoppedError()) : error;
    const text = describeFailure(cause);
    log.error('backup.failed', `backup of "${work.name}" failed: ${text}`, {
      backupId,
      durationMs: elapsed(),
      code: (cause as { code?: string }).code,
    });
    const reported = await reportFailure(
      ctx.api,
      ctx.state,
      { ...failureBase, backupId, durationMs: elapsed(), error: text },
      log,
    );
    if (backupId) await clearRunning(ctx.state, backupId);
    return { status: 'failed', error: cause, reported, retry: !stopped };
  };

  // 2. dump → zstd → encrypt → upload (or spool).
  try {
    const target = await resolveTarget(ctx, work);
    const engine = (opts.engine ?? ((name: EngineName) => getEngine(name)))(work.engine);
    await runPipeline({
      engine,
      target,
      key,
      level: work.compressionLevel || 3,
      compressor: ctx.config.compressor,
      sink,
      signal: opts.signal,
      onStart: (info) =>
        log.debug('backup.tools', `dump running (pid ${info.dumpPid}), compressing with ${info.compressor}`, {
          compressor: info.compressor,
        }),
    });
  } catch (error) {
    return fail(error);
  }

  // 3. Complete (or hand over to the spool).
  const result = sink.result();
  if (result.kind === 'spooled') {
    const entry = await sink.commitSpool({ durationMs: elapsed(), keyId: key.keyId });
    if (backupId) await clearRunning(ctx.state, backupId);
    log.warn(
      'backup.spooled',
      `backup of "${work.name}" (${formatBytes(result.sizeBytes)}) is in the offline spool; it is delivered when the connection returns`,
      {
        backupId,
        spoolEntry: entry.id,
        sizeBytes: result.sizeBytes,
        reason: result.reason,
      },
    );
    return { status: 'spooled', entryId: entry.id, reason: result.reason, sizeBytes: result.sizeBytes };
  }
  const durationMs = elapsed();
  log.debug('backup.uploaded', `all ${result.parts.length} parts uploaded; completing`, {
    parts: result.parts.length,
    sizeBytes: result.sizeBytes,
  });
  const completing = performance.now();
  const succeeded = async (fields: LogFields = {}): Promise<JobOutcome> => {
    await clearRunning(ctx.state, backupId!);
    log.info(
      'backup.succeeded',
      `backup of "${work.name}" succeeded: ${formatBytes(result.sizeBytes)} in ${formatDuration(durationMs)}`,
      { backupId, sizeBytes: result.sizeBytes, durationMs, sha256: result.sha256, ...fields },
    );
    return { status: 'succeeded', backupId: backupId!, sizeBytes: result.sizeBytes, durationMs };
  };
  try {
    await callApi(
      () =>
        ctx.slowApi.completeBackup(backupId!, {
          parts: result.parts,
          sizeBytes: result.sizeBytes,
          sha256: result.sha256,
          keyId: key.keyId,
          durationMs,
        }),
      { what: 'complete the backup', retry: opts.retry, signal: undefined },
    );
  } catch (error) {
    if (error instanceof OfflineError) {
      // Every byte is in storage; only the confirmation is missing. Keep that for later.
      const writer = await ctx.spool.begin({
        ...spoolStart,
        reason: `the control plane was unreachable when completing (${error.message})`,
        upload: {
          backupId: backupId!,
          partSize: upload!.partSize,
          parts: result.parts,
          tailOffset: result.sizeBytes,
        },
      });
      const entry = await writer.commit({
        durationMs,
        keyId: key.keyId,
        sizeBytes: result.sizeBytes,
        sha256: result.sha256,
      });
      await clearRunning(ctx.state, backupId!);
      log.warn(
        'backup.spooled',
        `backup of "${work.name}" is uploaded; its completion is sent when the control plane is back`,
        {
          backupId,
          spoolEntry: entry.id,
        },
      );
      return { status: 'spooled', entryId: entry.id, reason: error.message, sizeBytes: result.sizeBytes };
    }
    // A retried complete whose first attempt did arrive: the backup is done, not refused.
    if (await completedAnyway(ctx, backupId!, error)) return succeeded();
    // The control plane checked the upload and refused it (e.g. a size mismatch): it marked it failed.
    log.error(
      'backup.failed',
      `the control plane refused to complete the backup of "${work.name}": ${describeFailure(error)}`,
      { backupId },
    );
    await reportFailure(
      ctx.api,
      ctx.state,
      { ...failureBase, backupId, durationMs, error: describeFailure(error) },
      log,
    );
    await clearRunning(ctx.state, backupId!);
    return { status: 'failed', error, reported: true, retry: true };
  }
  return succeeded({
    // how long the control plane and storage took to assemble and check the upload
    completeMs: Math.round(performance.now() - completing),
    // peak resident memory of the agent process so far (the benchmark reads it)
    maxRssKb: process.resourceUsage().maxRSS,
  });
}

/**
 * complete is not idempotent: when an attempt timed out after the control plane had already
 * completed the backup, the retry answers "conflict". Then the backup's own status tells the truth.
 */
export async function completedAnyway(
  ctx: Pick<AgentContext, 'api'>,
  backupId: string,
  error: unknown,
): Promise<boolean> {
  if (!(error instanceof ApiClientError) || error.code !== 'conflict') return false;
  try {
    return (await ctx.api.getBackup(backupId)).backup.status === 'succeeded';
  } catch {
    return false;
  }
}
