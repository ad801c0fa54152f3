// Talking to the control plane and, through presigned URLs, to object storage.
// - createAgentApi: the contract's typed client with the agent's User-Agent and timeouts.
// - PartUploader: uploads numbered parts of one multipart upload: fetches presigned URLs in
//   batches ahead of need, refreshes a URL that expired (or was refused with 403), and retries
//   each part with exponential backoff and jitter. When storage or the control plane stays
//   unreachable through all attempts it throws OfflineError, and the caller spools instead.
//   With part checksums, a URL is signed for one part's checksum, so it is fetched once the part
//   is complete (one request per part) and a part the storage found damaged (BadDigest) is sent
//   again with the same URL.

import { arch, platform } from 'node:os';
import { type ApiClient, ApiClientError, createApiClient, type PartChecksum } from '@resistro/contract';
import { isTransient } from '../errors.ts';
import type { Logger } from '../log.ts';
import { VERSION } from '../version.ts';
import { type HttpAgents, type PartBody, putPart, StorageRequestError } from './http.ts';
import { backoffDelay, DEFAULT_RETRY, type RetryPolicy, sleep, withRetry } from './retry.ts';

export type AgentApi = ApiClient;

export function createAgentApi(opts: { endpoint: string; apiKey: string; timeoutMs?: number }): AgentApi {
  return createApiClient({
    endpoint: opts.endpoint,
    apiKey: opts.apiKey,
    userAgent: `resistro-agent/${VERSION} (${platform()} ${arch()}; node ${process.versions.node})`,
    timeoutMs: opts.timeoutMs ?? 30_000,
  });
}

/** Storage or the control plane could not be reached (or kept failing) through every retry. */
export class OfflineError extends Error {
  readonly what: 'storage' | 'control plane';
  constructor(what: 'storage' | 'control plane', message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OfflineError';
    this.what = what;
  }
}

/** API calls that may fail because the service is briefly away: retried, then OfflineError. */
export async function callApi<T>(
  fn: () => Promise<T>,
  opts: { retry?: RetryPolicy; signal?: AbortSignal; what: string },
): Promise<T> {
  try {
    return await withRetry(fn, isTransient, opts.retry ?? DEFAULT_RETRY, opts.signal);
  } catch (error) {
    if (isTransient(error)) {
      const storage = error instanceof ApiClientError && error.code === 'storage_error';
      throw new OfflineError(
        storage ? 'storage' : 'control plane',
        `${opts.what}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    throw error;
  }
}

type CachedUrl = { url: string; expiresAt: number; checksum?: string };

/** how many part URLs one request asks for (the API allows 100) */
const URL_BATCH = 16;
/** a URL this close to expiry is not used for a new attempt */
const URL_MARGIN_MS = 60_000;
const MAX_PART_NUMBER = 10_000;

export class PartUploader {
  readonly #api: AgentApi;
  readonly #backupId: string;
  readonly #agents: HttpAgents;
  readonly #retry: RetryPolicy;
  readonly #log: Logger;
  readonly #signal: AbortSignal | undefined;
  readonly #checksum: PartChecksum | undefined;
  readonly #urls = new Map<number, CachedUrl>();
  #pending: { from: number; to: number; promise: Promise<void> } | undefined;

  constructor(opts: {
    api: AgentApi;
    backupId: string;
    agents: HttpAgents;
    log: Logger;
    retry?: RetryPolicy;
    signal?: AbortSignal;
    /** the algorithm of the upload's part checksums; undefined: a service without them */
    checksum?: PartChecksum;
  }) {
    this.#api = opts.api;
    this.#backupId = opts.backupId;
    this.#agents = opts.agents;
    this.#retry = opts.retry ?? DEFAULT_RETRY;
    this.#log = opts.log;
    this.#signal = opts.signal;
    this.#checksum = opts.checksum;
  }

  /**
   * Uploads one part and returns its ETag. `checksum`: the part's base64 digest in the upload's
   * algorithm (required when the upload checks them). Throws OfflineError, or a permanent error.
   */
  async upload(partNumber: number, body: PartBody, checksum?: string): Promise<string> {
    if (this.#checksum && !checksum) throw new Error(`part ${partNumber} has no ${this.#checksum} checksum`);
    const headers: Record<string, string> =
      this.#checksum && checksum
        ? { [this.#checksum === 'sha256' ? 'x-amz-checksum-sha256' : 'content-md5']: checksum }
        : {};
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.#retry.attempts; attempt++) {
      this.#signal?.throwIfAborted();
      let url: string;
      try {
        url = this.#checksum
          ? await this.#checkedUrlFor(partNumber, checksum!)
          : await this.#urlFor(partNumber);
      } catch (error) {
        if (!isTransient(error)) throw error;
        lastError = error;
        await this.#wait(attempt, partNumber, error);
        continue;
      }
      try {
        const etag = await putPart(url, body, this.#agents, this.#signal, headers);
        return etag;
      } catch (error) {
        this.#signal?.throwIfAborted();
        if (!(error instanceof StorageRequestError)) throw error;
        if (error.s3Code === 'NoSuchUpload') {
          throw new Error(`the storage no longer knows this upload (it was aborted): ${error.message}`, {
            cause: error,
          });
        }
        if (!error.retryable && !error.expired) throw error;
        lastError = error;
        if (error.expired) this.#urls.delete(partNumber);
        await this.#wait(attempt, partNumber, error);
      }
    }
    const fromApi = lastError instanceof ApiClientError;
    const storageSide = !fromApi || (lastError as ApiClientError).code === 'storage_error';
    throw new OfflineError(
      storageSide ? 'storage' : 'control plane',
      `part ${partNumber} could not be uploaded after ${this.#retry.attempts} attempts: ${(lastError as Error).message}`,
      { cause: lastError },
    );
  }

  async #wait(attempt: number, partNumber: number, error: unknown): Promise<void> {
    if (attempt >= this.#retry.attempts) return;
    const delay = backoffDelay(attempt, this.#retry);
    this.#log.warn(
      'upload.retry',
      `part ${partNumber}: ${(error as Error).message}; retrying in ${(delay / 1000).toFixed(1)} s`,
      {
        part: partNumber,
        attempt,
        delayMs: delay,
      },
    );
    await sleep(delay, this.#signal);
  }

  /** A URL signed for this part's checksum: fetched when the part is complete, one per request. */
  async #checkedUrlFor(partNumber: number, checksum: string): Promise<string> {
    const cached = this.#urls.get(partNumber);
    if (cached && cached.checksum === checksum && cached.expiresAt - URL_MARGIN_MS > Date.now())
      return cached.url;
    const res = await this.#api.partUrls(this.#backupId, [{ partNumber, checksum }]);
    const url = res.parts.find((p) => p.partNumber === partNumber)?.url;
    if (!url) throw new Error(`the control plane returned no URL for part ${partNumber}`);
    const serverTtl = Date.parse(res.expiresAt) - Date.now();
    const ttl =
      Number.isFinite(serverTtl) && serverTtl > URL_MARGIN_MS ? serverTtl : URL_MARGIN_MS + 4 * 60_000;
    this.#urls.set(partNumber, { url, checksum, expiresAt: Date.now() + ttl });
    return url;
  }

  async #urlFor(partNumber: number): Promise<string> {
    for (;;) {
      const cached = this.#urls.get(partNumber);
      if (cached && cached.expiresAt - URL_MARGIN_MS > Date.now()) return cached.url;
      const pending = this.#pending;
      if (pending && partNumber >= pending.from && partNumber <= pending.to) {
        await pending.promise;
        const fresh = this.#urls.get(partNumber);
        if (fresh) return fresh.url;
        continue;
      }
      const from = partNumber;
      const to = Math.min(MAX_PART_NUMBER, partNumber + URL_BATCH - 1);
      const numbers = Array.from({ length: to - from + 1 }, (_, i) => from + i);
      const promise = this.#api.partUrls(this.#backupId, numbers).then((res) => {
        // With a skewed clock the expiry may look past already: then assume a few minutes. Either
        // way a URL that storage refuses (403) is dropped and fetched again.
        const serverTtl = Date.parse(res.expiresAt) - Date.now();
        const ttl =
          Number.isFinite(serverTtl) && serverTtl > URL_MARGIN_MS ? serverTtl : URL_MARGIN_MS + 4 * 60_000;
        for (const p of res.parts) this.#urls.set(p.partNumber, { url: p.url, expiresAt: Date.now() + ttl });
      });
      this.#pending = { from, to, promise };
      try {
        await promise;
      } finally {
        if (this.#pending?.promise === promise) this.#pending = undefined;
      }
      const fresh = this.#urls.get(partNumber);
      if (!fresh) throw new Error(`the control plane returned no URL for part ${partNumber}`);
      return fresh.url;
    }
  }

  /** Forgets URLs of parts that are done (keeps the cache small on uploads of thousands of parts). */
  forget(partNumber: number): void {
    this.#urls.delete(partNumber);
  }
}
