// Delivering the offline spool once the control plane and storage answer again: each entry, oldest
// first, resumes (or starts, dated by its original dump time) its upload, sends the remaining parts
// from the spool file, and completes. The entry is deleted only after the control plane confirmed
// the backup. Progress is written to the sidecar after every part, so an interrupted delivery
// resumes where it stopped.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { ApiClientError, type PartChecksum } from '@resistro/contract';
import { isTransient, isUserBlocked } from '../errors.ts';
import { formatBytes, type Logger } from '../log.ts';
import { type AgentApi, callApi, OfflineError, PartUploader } from './client.ts';
import type { HttpAgents } from './http.ts';
import type { RetryPolicy } from './retry.ts';
import type { Spool, SpoolEntry } from './spool.ts';

export type DeliveryOutcome =
  | { status: 'delivered'; backupId: string }
  | { status: 'offline'; error: OfflineError }
  | { status: 'dropped'; reason: string }
  | { status: 'blocked'; error: Error }
  | { status: 'busy' };

export type DeliveryContext = {
  api: AgentApi;
  spool: Spool;
  agents: HttpAgents;
  log: Logger;
  agentId?: string;
  retry?: RetryPolicy;
  signal?: AbortSignal;
};

/**
 * Delivers the waiting backups, oldest first, until the spool is empty or an entry finds the
 * connection down or the account blocked (the next entries would meet the same). A stop (`signal`)
 * ends it quietly: the entries stay for the next round.
 */
export async function deliverSpool(ctx: DeliveryContext): Promise<void> {
  for (const entry of await ctx.spool.list()) {
    if (ctx.signal?.aborted) return;
    const result = await deliverEntry(entry, ctx).catch((error) => {
      if (ctx.signal?.aborted) return { status: 'offline' as const };
      throw error;
    });
    if (result.status === 'offline' || result.status === 'blocked') return;
  }
}

export async function deliverEntry(entry: SpoolEntry, ctx: DeliveryContext): Promise<DeliveryOutcome> {
  const lock = await ctx.spool.lock(entry.id);
  if (!lock) return { status: 'busy' };
  const log = ctx.log.child({ databaseId: entry.databaseId, spoolEntry: entry.id });
  try {
    for (let round = 0; round < 2; round++) {
      try {
        const backupId = await deliverOnce(entry, ctx, log);
        await ctx.spool.remove(entry.id);
        log.info(
          'spool.delivered',
          `delivered the spooled backup of "${entry.databaseName}" from ${entry.startedAt} (${formatBytes(entry.sizeBytes)})`,
          {
            backupId,
            sizeBytes: entry.sizeBytes,
          },
        );
        return { status: 'delivered', backupId };
      } catch (error) {
        if (error instanceof OfflineError) return { status: 'offline', error };
        // A revoked key or a full quota: the user can fix it, and the backup must still be there then.
        if (isUserBlocked(error)) return { status: 'blocked', error: error as Error };
        if (error instanceof UploadGoneError && entry.upload && entry.upload.tailOffset === 0) {
          // The control plane gave up on the upload (deadline), but we hold the whole file: start over.
          log.warn(
            'spool.restart',
            'the upload of this spooled backup had expired on the control plane; starting it again',
          );
          entry.upload = null;
          await ctx.spool.update(entry);
          continue;
        }
        const reason =
          error instanceof UploadGoneError
            ? error.message
            : `the control plane refused it: ${(error as Error).message}`;
        log.error(
          'spool.dropped',
          `the spooled backup of "${entry.databaseName}" from ${entry.startedAt} cannot be delivered: ${reason}`,
        );
        await ctx.spool.remove(entry.id);
        return { status: 'dropped', reason };
      }
    }
    return { status: 'dropped', reason: 'gave up after restarting the upload' };
  } finally {
    await lock.release();
  }
}

class UploadGoneError extends Error {}

/** A spooled part's checksum, read from its range of the spool file. */
async function digestOf(
  body: { path: string; start: number; length: number },
  algorithm: PartChecksum,
): Promise<string> {
  const hash = createHash(algorithm);
  if (body.length === 0) return hash.digest('base64');
  const range = { start: body.start, end: body.start + body.length - 1, highWaterMark: 1024 * 1024 };
  for await (const piece of createReadStream(body.path, range)) hash.update(piece as Buffer);
  return hash.digest('base64');
}

async function deliverOnce(entry: SpoolEntry, ctx: DeliveryContext, log: Logger): Promise<string> {
  const call = <T>(what: string, fn: () => Promise<T>) =>
    callApi(fn, { what, retry: ctx.retry, signal: ctx.signal });
  if (!entry.upload) {
    let started: Awaited<ReturnType<AgentApi['startBackup']>>;
    const body = {
      databaseId: entry.databaseId,
      trigger: entry.trigger,
      startedAt: entry.startedAt,
      ...(ctx.agentId && { agentId: ctx.agentId }),
    };
    try {
      started = await call('start the spooled backup', () =>
        ctx.api.startBackup({ ...body, ...(entry.requestId && { requestId: entry.requestId }) }),
      );
    } catch (error) {
      // The "back up now" request was taken meanwhile: deliver without it.
      if (!(error instanceof ApiClientError && error.code === 'conflict' && entry.requestId)) throw error;
      started = await call('start the spooled backup', () => ctx.api.startBackup(body));
    }
    entry.upload = {
      backupId: started.backup.id,
      partSize: started.upload.partSize,
      parts: [],
      tailOffset: 0,
      ...(started.upload.checksum && { checksum: started.upload.checksum }),
    };
    await ctx.spool.update(entry);
  }
  const upload = entry.upload;
  const partCount = Math.max(1, Math.ceil(entry.sizeBytes / upload.partSize));
  const uploader = new PartUploader({
    api: ctx.api,
    backupId: upload.backupId,
    agents: ctx.agents,
    log,
    retry: ctx.retry,
    signal: ctx.signal,
    checksum: upload.checksum,
  });
  const done = new Set(upload.parts.map((p) => p.partNumber));
  const tailPath = ctx.spool.tailPath(entry.id);
  for (let number = 1; number <= partCount; number++) {
    if (done.has(number)) continue;
    const start = (number - 1) * upload.partSize;
    if (start < upload.tailOffset) {
      throw new UploadGoneError(`part ${number} is neither uploaded nor in the spool file`);
    }
    const length = Math.min(upload.partSize, entry.sizeBytes - start);
    try {
      const body = { kind: 'file', path: tailPath, start: start - upload.tailOffset, length } as const;
      const checksum = upload.checksum ? await digestOf(body, upload.checksum) : undefined;
      const etag = await uploader.upload(number, body, checksum);
      upload.parts.push({ partNumber: number, etag, ...(checksum && { checksum }) });
      await ctx.spool.update(entry);
    } catch (error) {
      throw goneOr(error);
    }
  }
  try {
    const parts = [...upload.parts].sort((a, b) => a.partNumber - b.partNumber);
    const result = await call('complete the spooled backup', () =>
      ctx.api.completeBackup(upload.backupId, {
        parts,
        sizeBytes: entry.sizeBytes,
        sha256: entry.sha256,
        keyId: entry.keyId,
        durationMs: Math.max(0, Math.round(entry.durationMs)),
      }),
    );
    return result.backup.id;
  } catch (error) {
    // A retried complete whose first attempt did arrive answers "conflict": check the backup.
    if (error instanceof ApiClientError && error.code === 'conflict') {
      const current = await ctx.api.getBackup(upload.backupId).catch(() => undefined);
      if (current?.backup.status === 'succeeded') return upload.backupId;
    }
    throw goneOr(error);
  }
}

/** "this backup is failed, not running" and "no such upload" mean the upload is gone for good. */
function goneOr(error: unknown): unknown {
  if (
    error instanceof ApiClientError &&
    (error.code === 'conflict' || error.code === 'not_found') &&
    !isTransient(error)
  ) {
    return new UploadGoneError(`the upload is no longer open on the control plane (${error.message})`, {
      cause: error,
    });
  }
  if (error instanceof Error && /no longer knows this upload/.test(error.message)) {
    return new UploadGoneError(error.message, { cause: error });
  }
  return error;
}
