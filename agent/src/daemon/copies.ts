// Copies to the account's second storage location (issue 18) that the control plane cannot make
// server-side (the second bucket is at another provider): the agent streams the encrypted file
// from the primary storage through a presigned GET into a multipart upload at the second
// location through presigned part URLs, each signed for its part's checksum, so storage refuses
// a damaged part. SECURITY: only ciphertext passes; the key is not needed and not used here.
// The control plane verifies the copy when it is completed (retention/copies.ts). One transfer
// at a time, beside backups; a failure is reported and retried by a later heartbeat.
import { createHash } from 'node:crypto';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { CopyJob, CopyStartResponse } from '@resistro/contract';
import type { AgentContext } from '../context.ts';
import { isTransient } from '../errors.ts';
import { putPart } from '../upload/http.ts';

function checksumOf(algorithm: CopyStartResponse['checksum'], data: Buffer): string | undefined {
  if (!algorithm) return undefined;
  return createHash(algorithm).update(data).digest('base64');
}

function headerOf(algorithm: CopyStartResponse['checksum']): string {
  return algorithm === 'sha256' ? 'x-amz-checksum-sha256' : 'content-md5';
}

function openSource(url: string, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    const req = get(url, { signal }, resolve);
    req.setTimeout(120_000, () => req.destroy(new Error('no data from storage for 120 s')));
    req.once('error', reject);
  });
}

/** Copies one backup; resolves with what to log, throws when the copy did not verify. */
export async function transferCopy(ctx: AgentContext, backupId: string, signal: AbortSignal): Promise<void> {
  const plan = await ctx.api.startCopy(backupId);
  const source = await openSource(plan.sourceUrl, signal);
  if (source.statusCode !== 200) {
    source.resume();
    throw new Error(`the primary storage answered ${source.statusCode} to the download`);
  }
  const whole = createHash('sha256');
  const done: { partNumber: number; etag: string; checksum?: string }[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const sendPart = async (data: Buffer) => {
    const partNumber = done.length + 1;
    const checksum = checksumOf(plan.checksum, data);
    const { parts } = await ctx.api.copyPartUrls(backupId, [{ partNumber, ...(checksum && { checksum }) }]);
    const url = parts[0]?.url;
    if (!url) throw new Error(`no URL for part ${partNumber} of the copy`);
    const etag = await putPart(
      url,
      { kind: 'buffer', data },
      ctx.agents,
      signal,
      checksum ? { [headerOf(plan.checksum)]: checksum } : {},
    );
    done.push({ partNumber, etag, ...(checksum && { checksum }) });
  };
  // Parts of the backup's own part size (memory: one part at a time), so that the composite of
  // the part checksums equals the primary object's.
  for await (const chunk of source as AsyncIterable<Buffer>) {
    whole.update(chunk);
    pending.push(chunk);
    pendingBytes += chunk.length;
    while (pendingBytes >= plan.partSize) {
      const joined = Buffer.concat(pending);
      await sendPart(joined.subarray(0, plan.partSize));
      const rest = joined.subarray(plan.partSize);
      pending = rest.length > 0 ? [rest] : [];
      pendingBytes = rest.length;
    }
  }
  if (pendingBytes > 0 || done.length === 0) await sendPart(Buffer.concat(pending));
  const { copy } = await ctx.slowApi.completeCopy(backupId, { parts: done, sha256: whole.digest('hex') });
  if (copy.status !== 'copied') throw new Error(copy.error ?? `the copy is ${copy.status}`);
}

export class CopyJobs {
  readonly #ctx: AgentContext;
  readonly #abort = new AbortController();
  /** backups being copied or queued in this process */
  readonly #seen = new Set<string>();
  #queue: string[] = [];
  #running: Promise<void> | undefined;

  constructor(ctx: AgentContext) {
    this.#ctx = ctx;
  }

  handle(jobs: CopyJob[]): void {
    for (const job of jobs) {
      if (this.#seen.has(job.backupId)) continue;
      this.#seen.add(job.backupId);
      this.#queue.push(job.backupId);
    }
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  async stop(): Promise<void> {
    this.#queue = [];
    this.#abort.abort(new Error('the agent is stopping'));
    await this.#running;
  }

  async #drain(): Promise<void> {
    const { log, api } = this.#ctx;
    for (let id = this.#queue.shift(); id && !this.#abort.signal.aborted; id = this.#queue.shift()) {
      try {
        await transferCopy(this.#ctx, id, this.#abort.signal);
        log.info('copy.done', `backup ${id} copied to the second storage location and verified`, {
          backupId: id,
        });
      } catch (error) {
        const message = (error as Error).message;
        log[isTransient(error) ? 'warn' : 'error'](
          'copy.failed',
          `copying backup ${id} to the second storage location failed: ${message}`,
          { backupId: id },
        );
        await api.failCopy(id, message.slice(0, 2000)).catch(() => {});
      } finally {
        // a later heartbeat that still lists it (a retry) runs it again
        this.#seen.delete(id);
      }
    }
  }
}
