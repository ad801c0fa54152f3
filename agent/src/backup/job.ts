// One backup of one database, start to end: lock, open the sealed password, start the backup on
// the control plane (or spool when it is away), run the pipeline, then complete, or report the
// failure. Shared by `resistro backup` and the daemon. Every outcome is reported: a failure that
// cannot be reported now is queued on disk; a process killed midway leaves a record that the next
// start reports.

import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import {
  ApiClientError,
  type BackupErrorCode,
  type BackupErrorParams,
  type DatabaseWork,
} from '@resistro/contract';
import { baseBackupInput } from '../binlog/plane-store.ts';
import { type AgentContext, resolveTarget } from '../context.ts';
import { dedupKeys, dedupSecretOf, hostDedupSecret } from '../dedup/keys.ts';
import { chunkRefs, encryptManifest, type Manifest } from '../dedup/manifest.ts';
import { runDedupPipeline } from '../dedup/pipeline.ts';
import { RemoteChunkStore } from '../dedup/remote-store.ts';
import { writeSplitDump } from '../dedup/sql-sections.ts';
import { DedupWriter } from '../dedup/writer.ts';
import { DumpError, EngineError } from '../engines/engine.ts';
import { type DatabaseTarget, type Engine, type EngineName, getEngine } from '../engines/index.ts';
import type { LogPosition } from '../engines/mysql-log-position.ts';
import { classifyError, Interrupted, isUserBlocked, UserError } from '../errors.ts';
import type { EncryptionKey } from '../format/index.ts';
import { formatBytes, formatDuration, type LogFields, type Logger } from '../log.ts';
import { clearRunning, recordRunning, reportFailure } from '../reports.ts';
import { tryLock } from '../state.ts';
import { callApi, OfflineError } from '../upload/client.ts';
import type { RetryPolicy } from '../upload/retry.ts';
import { BackupSink, type SinkUpload } from '../upload/sink.ts';
import type { BackupTrigger, SpoolEntryStart } from '../upload/spool.ts';
import { chooseCompression } from './compress.ts';
import { runParallelPipeline } from './parallel.ts';
import { runPipeline } from './pipeline.ts';

/** RESISTRO_JOBS: 'auto' is one per core of this machine (the database server, normally), at most 8. */
export function backupJobs(setting: number | 'auto'): number {
  return setting === 'auto' ? Math.min(availableParallelism(), 8) : setting;
}

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

/**
 * The failure as a code (and parameters) the dashboard words in the account's language; the text
 * from describeFailure goes along untranslated. Undefined for a failure with no fitting code.
 */
export function failureCode(
  error: unknown,
  work: Pick<DatabaseWork, 'host' | 'port' | 'database' | 'user'>,
  step: 'dump' | 'complete' = 'dump',
): { errorCode: BackupErrorCode; errorParams?: BackupErrorParams } | undefined {
  if (step === 'complete') return { errorCode: 'upload_refused' };
  if (error instanceof BackupStoppedError || error instanceof Interrupted)
    return { errorCode: 'agent_stopped' };
  if (error instanceof EngineError) {
    const tool = error instanceof DumpError ? { tool: error.tool } : undefined;
    switch (error.code) {
      case 'connection_failed':
        return { errorCode: 'connection_failed', errorParams: { host: work.host, port: String(work.port) } };
      case 'auth_failed':
        return { errorCode: 'auth_failed', errorParams: { user: work.user } };
      case 'database_missing':
        return { errorCode: 'database_missing', errorParams: { database: work.database } };
      case 'permission_denied':
        return { errorCode: 'permission_denied' };
      case 'killed':
        return { errorCode: 'tool_killed', ...(tool && { errorParams: tool }) };
      case 'tool_missing':
      case 'tool_too_old':
      case 'tool_failed':
      case 'input_failed':
        return { errorCode: error.code, ...(tool && { errorParams: tool }) };
      default:
        return undefined;
    }
  }
  if ((error as NodeJS.ErrnoException | undefined)?.code === 'ENOSPC') return { errorCode: 'disk_full' };
  return classifyError(error).kind === 'bug' ? { errorCode: 'internal' } : undefined;
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

/** What every step of one run needs. */
type Run = {
  ctx: AgentContext;
  work: DatabaseWork;
  opts: JobOptions;
  log: Logger;
  key: EncryptionKey;
  startedAt: Date;
  /** milliseconds since the run began */
  elapsed(): number;
  /** MySQL/MariaDB with a binary log: where the dump's snapshot stands in it (point-in-time recovery) */
  logPosition?: LogPosition | undefined;
};

/** Where step 1 sends the bytes, or the outcome when the job ends before anything ran. */
type Started =
  | { kind: 'upload'; backupId: string; upload: SinkUpload }
  | { kind: 'spool'; reason: string }
  | { kind: 'ended'; outcome: JobOutcome };

async function runLocked(
  ctx: AgentContext,
  work: DatabaseWork,
  opts: JobOptions,
  log: Logger,
): Promise<JobOutcome> {
  const key = ctx.config.encryptionKey;
  if (!key) throw new Error('runBackupJob needs the encryption key');
  const began = performance.now();
  const run: Run = {
    ctx,
    work,
    opts,
    log,
    key,
    startedAt: new Date(),
    elapsed: () => Math.round(performance.now() - began),
  };
  const started = await start(run);
  if (started.kind === 'ended') return started.outcome;
  const backupId = started.kind === 'upload' ? started.backupId : undefined;
  const sink = openSink(run, started);
  let step: 'dump' | 'complete' = 'dump';
  try {
    // Unreachable, with no spool to wait in: fail now instead of dumping for nothing.
    if (started.kind === 'spool') ctx.spool.assertEnabled();
    await dump(run, sink, started);
    step = 'complete';
    return await complete(run, sink, started);
  } catch (error) {
    return await failed(run, backupId, error, step);
  } finally {
    // Every exit's clean-up, once: temporary parts and an uncommitted spool file go, and so does
    // the running record (the outcome is now reported, queued for reporting, or in the spool).
    await sink.discard().catch(() => {});
    if (backupId) await clearRunning(ctx.state, backupId);
  }
}

/** Step 1: the backup row and upload on the control plane, or the spool when it is away. */
async function start(run: Run): Promise<Started> {
  const { ctx, work, opts, log } = run;
  try {
    const res = await callApi(
      () =>
        ctx.api.startBackup({
          databaseId: work.id,
          trigger: opts.trigger,
          startedAt: run.startedAt.toISOString(),
          ...(opts.requestId && { requestId: opts.requestId }),
          ...(ctx.agentId && { agentId: ctx.agentId }),
        }),
      {
        what: 'start the backup',
        retry: opts.retry ?? { attempts: 3, baseMs: 1000, maxMs: 4000 },
        signal: opts.signal,
      },
    );
    const backupId = res.backup.id;
    log.debug('backup.created', `backup ${backupId} created`, {
      sinceStartMs: Math.round(performance.now()),
    });
    await recordRunning(ctx.state, {
      backupId,
      databaseId: work.id,
      databaseName: work.name,
      startedAt: run.startedAt.toISOString(),
    });
    return {
      kind: 'upload',
      backupId,
      upload: {
        api: ctx.api,
        agents: ctx.agents,
        backupId,
        partSize: res.upload.partSize,
        maxParts: res.upload.maxParts,
        checksum: res.upload.checksum,
        tmpDir: ctx.state.dir('tmp'),
        forceFiles: opts.forceFileParts,
        retry: opts.retry,
      },
    };
  } catch (error) {
    if (opts.signal?.aborted) {
      const stopped = new BackupStoppedError('The agent was stopped before the backup began.');
      return { kind: 'ended', outcome: { status: 'failed', error: stopped, reported: false, retry: false } };
    }
    if (error instanceof OfflineError) {
      log.warn('backup.offline', `${error.what} unreachable: this backup goes to the offline spool`, {
        reason: error.message,
      });
      return { kind: 'spool', reason: `${error.what} unreachable at the start (${error.message})` };
    }
    if (error instanceof ApiClientError && error.code === 'conflict' && opts.requestId) {
      return {
        kind: 'ended',
        outcome: { status: 'skipped', reason: 'the "back up now" request was already taken' },
      };
    }
    // Quota, plan, key, deleted database: the control plane refused; it will refuse the report too.
    log.error('backup.refused', `the control plane refused to start the backup: ${describeFailure(error)}`);
    const retry = !isUserBlocked(error) && !(error instanceof ApiClientError && error.code === 'not_found');
    return { kind: 'ended', outcome: { status: 'failed', error, reported: false, retry } };
  }
}

function spoolStart(run: Run, reason: string): SpoolEntryStart {
  return {
    databaseId: run.work.id,
    databaseName: run.work.name,
    trigger: run.opts.trigger,
    ...(run.opts.requestId && { requestId: run.opts.requestId }),
    startedAt: run.startedAt.toISOString(),
    upload: null,
    reason,
  };
}

function openSink(run: Run, started: Exclude<Started, { kind: 'ended' }>): BackupSink {
  const { work, opts, log } = run;
  const spoolReason = started.kind === 'spool' ? started.reason : undefined;
  const sink = new BackupSink({
    log,
    spool: run.ctx.spool,
    spoolStart: spoolStart(run, spoolReason ?? ''),
    upload: started.kind === 'upload' ? started.upload : undefined,
    spoolReason,
    onBytes: opts.onBytes,
    signal: opts.signal,
  });
  log.info(
    'backup.started',
    `backing up "${work.name}" (${work.engine} ${work.host}:${work.port}/${work.database}, trigger ${opts.trigger})`,
    { backupId: started.kind === 'upload' ? started.backupId : undefined, trigger: opts.trigger },
  );
  return sink;
}

/** Step 2: dump → zstd → encrypt → upload (or spool). A stopped run fails with why it stopped. */
async function dump(run: Run, sink: BackupSink, started: Exclude<Started, { kind: 'ended' }>): Promise<void> {
  const { work, opts, log } = run;
  try {
    const target = await resolveTarget(run.ctx, work);
    const engine = (opts.engine ?? ((name: EngineName) => getEngine(name)))(work.engine);
    const level = work.compressionLevel || 3;
    // Deduplicated (docs/dedup.md) needs the control plane; offline, the backup is a whole file.
    if (engine.parallelDump && work.dedup && started.kind === 'upload') {
      const plan = await engine.parallelDump(target, { keyOrder: true });
      await runDedupBackup(run, sink, started, level, (writer) =>
        runDedupPipeline({
          plan,
          writer,
          jobs: backupJobs(run.ctx.config.jobs),
          signal: opts.signal,
          onSection: (info) =>
            log.debug(
              'backup.tools',
              `section ${info.index} (${info.name}): dump running (pid ${info.dumpPid}), chunking`,
              { section: info.index },
            ),
        }),
      );
      return;
    }
    if ((engine.name === 'mysql' || engine.name === 'mariadb') && work.dedup && started.kind === 'upload') {
      // One consistent stream (engines/mysql.ts), cut into a section per table as it passes.
      await runDedupBackup(run, sink, started, level, (writer) => dedupStream(run, engine, target, writer));
      return;
    }
    if (engine.parallelDump) {
      // PostgreSQL: sections from one snapshot, N at a time, into one version 2 archive.
      const jobs = backupJobs(run.ctx.config.jobs);
      // A missing compressor fails the backup before the snapshot session and any dump start.
      await chooseCompression(run.ctx.config.compressor);
      const plan = await engine.parallelDump(target);
      const result = await runParallelPipeline({
        plan,
        target,
        key: run.key,
        level,
        compressor: run.ctx.config.compressor,
        jobs,
        sink,
        tableStats: run.ctx.config.tableStats,
        signal: opts.signal,
        onStart: (info) =>
          log.debug('backup.sections', `dumping ${info.sections} sections, ${info.jobs} at a time`, {
            sections: info.sections,
            jobs: info.jobs,
          }),
        onSection: (info) =>
          log.debug(
            'backup.tools',
            `section ${info.index} (${info.name}): dump running (pid ${info.dumpPid}), compressing with ${info.compressor}`,
            { compressor: info.compressor, section: info.index },
          ),
      });
      log.debug('backup.sections', `archive of ${result.sections} sections written`, {
        sections: result.sections,
      });
      return;
    }
    const { notes, logPosition } = await runPipeline({
      engine,
      target,
      key: run.key,
      level,
      compressor: run.ctx.config.compressor,
      sink,
      tableStats: run.ctx.config.tableStats,
      signal: opts.signal,
      onStart: (info) =>
        log.debug('backup.tools', `dump running (pid ${info.dumpPid}), compressing with ${info.compressor}`, {
          compressor: info.compressor,
        }),
    });
    run.logPosition = logPosition;
    // e.g. "file changed as we read it": the backup holds the file as it was read, the user should know
    for (const note of notes.slice(0, 50)) log.warn('backup.note', note, { note });
    if (notes.length > 50) log.warn('backup.note', `… and ${notes.length - 50} more notes like these`);
  } catch (error) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new BackupStoppedError();
    throw error;
  }
}

/**
 * A dump that knows its binlog position is a base backup for point-in-time recovery: tell the
 * control plane (it refuses while continuous protection is off; then nothing is lost). Never fails
 * the backup, which is complete: a dump not registered only narrows the restorable window.
 */
async function registerLogPosition(run: Run, backupId: string, position: LogPosition): Promise<void> {
  try {
    await callApi(
      () =>
        run.ctx.api.registerBaseBackup(
          run.work.id,
          baseBackupInput(backupId, position, position.seenAt ?? new Date()),
        ),
      { what: 'register the dump for point-in-time recovery', retry: run.opts.retry },
    );
    run.log.info(
      'backup.pitr-base',
      `the dump is a base for point-in-time recovery from ${position.file}:${position.pos}`,
      { backupId, logFile: position.file, logPos: position.pos },
    );
  } catch (error) {
    const off = error instanceof ApiClientError && ['not_found', 'conflict'].includes(error.code);
    run.log[off ? 'debug' : 'warn'](
      'backup.pitr-base',
      `the dump was not registered for point-in-time recovery: ${(error as Error).message}`,
      { backupId },
    );
  }
}

/**
 * Step 2, deduplicated: only new chunks go up (in packs); the backup's own object is its encrypted
 * manifest, written through the sink like any backup file, after its references are recorded.
 * `produce` feeds the writer every section and returns the manifest.
 */
async function runDedupBackup(
  run: Run,
  sink: BackupSink,
  started: { backupId: string; upload: SinkUpload },
  level: number,
  produce: (writer: DedupWriter) => Promise<Manifest>,
): Promise<void> {
  const { ctx, log, opts } = run;
  const secret = dedupSecretOf(run.key) ?? (await hostDedupSecret(join(ctx.state.dir('dedup'), 'secret')));
  const store = new RemoteChunkStore({
    api: ctx.api,
    agents: ctx.agents,
    backupId: started.backupId,
    checksum: started.upload.checksum,
    retry: opts.retry,
    signal: opts.signal,
  });
  const writer = new DedupWriter(dedupKeys(secret), store, { level });
  const manifest = await produce(writer);
  await store.seal(
    [...chunkRefs(manifest)].map((r) => r.ref[0]),
    writer.stats.logicalBytes,
  );
  const file = await encryptManifest(run.key, manifest);
  sink.end(file);
  await finished(sink);
  const s = writer.stats;
  log.info(
    'backup.dedup',
    `deduplicated: ${formatBytes(s.logicalBytes)} in ${s.chunks} chunks, ${s.newChunks} new (${formatBytes(s.uploadedBytes)} uploaded in ${s.packs} packs), manifest ${formatBytes(file.length)}`,
    {
      logicalBytes: s.logicalBytes,
      chunks: s.chunks,
      newChunks: s.newChunks,
      uploadedBytes: s.uploadedBytes,
      packs: s.packs,
      sections: manifest.sections.length,
      manifestBytes: file.length,
      storeRequests: store.requests,
    },
  );
}

/**
 * MySQL/MariaDB, deduplicated: the one consistent dump (as a whole-file backup takes it), its rows
 * in key order, split into a section per table on its way into the writer (dedup/sql-sections.ts).
 * A failed dump fails the backup before its manifest exists; its position in the binary log (when
 * the server writes one) makes it a base for point-in-time recovery like any other dump.
 */
async function dedupStream(
  run: Run,
  engine: Engine,
  target: DatabaseTarget,
  writer: DedupWriter,
): Promise<Manifest> {
  const dump = await engine.dump(target, { keyOrder: true });
  run.log.debug('backup.tools', `dump running (pid ${dump.pid}), chunking by table`, {});
  const onAbort = () => dump.kill();
  run.opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // Whichever failed first is the cause: a dump that failed ends the read; a write that failed
    // (the store, the upload) stops reading, which then fails the dump too.
    let first: unknown;
    const writing = writeSplitDump(writer, dump.stdout).catch((error: unknown) => {
      first ??= { error };
      dump.kill();
      throw error;
    });
    const dumping = dump.done.catch((error: unknown) => {
      first ??= { error };
      throw error;
    });
    const [written, done] = await Promise.allSettled([writing, dumping]);
    if (first !== undefined) throw (first as { error: unknown }).error;
    if (written.status === 'rejected') throw written.reason;
    if (done.status === 'rejected') throw done.reason;
  } finally {
    run.opts.signal?.removeEventListener('abort', onAbort);
  }
  run.logPosition = dump.logPosition;
  const version = await engine.serverVersion(target).catch(() => '');
  return await writer.finish({ engine: engine.name, ...(version && { serverVersion: version }) });
}

/** Step 3: complete the upload, or hand the backup (or only its completion) to the spool. */
async function complete(
  run: Run,
  sink: BackupSink,
  started: Exclude<Started, { kind: 'ended' }>,
): Promise<JobOutcome> {
  const { ctx, work, log, key } = run;
  const result = sink.result();
  if (result.kind === 'spooled') {
    const entry = await sink.commitSpool({ durationMs: run.elapsed(), keyId: key.keyId });
    log.warn(
      'backup.spooled',
      `backup of "${work.name}" (${formatBytes(result.sizeBytes)}) is in the offline spool; it is delivered when the connection returns`,
      {
        backupId: started.kind === 'upload' ? started.backupId : undefined,
        spoolEntry: entry.id,
        sizeBytes: result.sizeBytes,
        reason: result.reason,
      },
    );
    return { status: 'spooled', entryId: entry.id, reason: result.reason, sizeBytes: result.sizeBytes };
  }
  // Without an upload the sink can only have spooled.
  if (started.kind !== 'upload') throw new Error('BackupSink uploaded a backup that has no upload');
  const { backupId, upload } = started;
  const durationMs = run.elapsed();
  log.debug('backup.uploaded', `all ${result.parts.length} parts uploaded; completing`, {
    parts: result.parts.length,
    sizeBytes: result.sizeBytes,
  });
  const completing = performance.now();
  const succeeded = (fields: LogFields = {}): JobOutcome => {
    log.info(
      'backup.succeeded',
      `backup of "${work.name}" succeeded: ${formatBytes(result.sizeBytes)} in ${formatDuration(durationMs)}`,
      {
        backupId,
        sizeBytes: result.sizeBytes,
        durationMs,
        sha256: result.sha256,
        ...(run.logPosition ? { logFile: run.logPosition.file, logPos: run.logPosition.pos } : {}),
        ...fields,
      },
    );
    return { status: 'succeeded', backupId, sizeBytes: result.sizeBytes, durationMs };
  };
  try {
    await callApi(
      () =>
        ctx.slowApi.completeBackup(backupId, {
          parts: result.parts,
          sizeBytes: result.sizeBytes,
          sha256: result.sha256,
          keyId: key.keyId,
          durationMs,
        }),
      { what: 'complete the backup', retry: run.opts.retry, signal: undefined },
    );
  } catch (error) {
    if (!(error instanceof OfflineError)) {
      // A retried complete whose first attempt did arrive: the backup is done, not refused.
      if (await completedAnyway(ctx, backupId, error)) return succeeded();
      throw error;
    }
    // Every byte is in storage; only the confirmation is missing. Keep that for later.
    const writer = await ctx.spool.begin({
      ...spoolStart(run, `the control plane was unreachable when completing (${error.message})`),
      upload: {
        backupId,
        partSize: upload.partSize,
        parts: result.parts,
        tailOffset: result.sizeBytes,
        checksum: upload.checksum,
      },
    });
    const entry = await writer.commit({
      durationMs,
      keyId: key.keyId,
      sizeBytes: result.sizeBytes,
      sha256: result.sha256,
    });
    log.warn(
      'backup.spooled',
      `backup of "${work.name}" is uploaded; its completion is sent when the control plane is back`,
      { backupId, spoolEntry: entry.id },
    );
    return { status: 'spooled', entryId: entry.id, reason: error.message, sizeBytes: result.sizeBytes };
  }
  if (run.logPosition) await registerLogPosition(run, backupId, run.logPosition);
  return succeeded({
    // how long the control plane and storage took to assemble and check the upload
    completeMs: Math.round(performance.now() - completing),
    // peak resident memory of the agent process so far (the benchmark reads it)
    maxRssKb: process.resourceUsage().maxRSS,
    // CPU of the agent process itself, without pg_dump and zstd (the benchmark reads it)
    agentCpuMs: Math.round(cpuMs()),
  });
}

const cpuMs = () => {
  const u = process.resourceUsage();
  return (u.userCPUTime + u.systemCPUTime) / 1000;
};

/** A failed dump, or a completion the control plane refused (it checked the upload and marked it failed). */
async function failed(
  run: Run,
  backupId: string | undefined,
  cause: unknown,
  step: 'dump' | 'complete',
): Promise<JobOutcome> {
  const { ctx, work, log } = run;
  const durationMs = run.elapsed();
  const text = describeFailure(cause);
  log.error(
    'backup.failed',
    step === 'complete'
      ? `the control plane refused to complete the backup of "${work.name}": ${text}`
      : `backup of "${work.name}" failed: ${text}`,
    { backupId, durationMs, code: (cause as { code?: string }).code },
  );
  const reported = await reportFailure(
    ctx.api,
    ctx.state,
    {
      databaseId: work.id,
      databaseName: work.name,
      trigger: run.opts.trigger,
      startedAt: run.startedAt.toISOString(),
      backupId,
      durationMs,
      error: text,
      ...failureCode(cause, run.work, step),
    },
    log,
  );
  return { status: 'failed', error: cause, reported, retry: run.opts.signal?.aborted !== true };
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
