// The account's chunk store on the control plane: "which of these do you hold?" and pack uploads
// through a presigned URL signed for the pack's checksum, like a backup's parts.
import { createHash } from 'node:crypto';
import type { PartChecksum } from '@resistro/contract';
import { isTransient } from '../errors.ts';
import { type AgentApi, callApi } from '../upload/client.ts';
import { type HttpAgents, putPart, StorageRequestError } from '../upload/http.ts';
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from '../upload/retry.ts';
import type { ChunkStore, PackEntry } from './store.ts';

export class RemoteChunkStore implements ChunkStore {
  readonly #api: AgentApi;
  readonly #agents: HttpAgents;
  readonly #backupId: string;
  readonly #checksum: PartChecksum | undefined;
  readonly #retry: RetryPolicy;
  readonly #signal: AbortSignal | undefined;
  requests = 0;

  constructor(opts: {
    api: AgentApi;
    agents: HttpAgents;
    backupId: string;
    checksum?: PartChecksum | undefined;
    retry?: RetryPolicy | undefined;
    signal?: AbortSignal | undefined;
  }) {
    this.#api = opts.api;
    this.#agents = opts.agents;
    this.#backupId = opts.backupId;
    this.#checksum = opts.checksum;
    this.#retry = opts.retry ?? DEFAULT_RETRY;
    this.#signal = opts.signal;
  }

  async have(ids: readonly Buffer[]): Promise<(number | undefined)[]> {
    this.requests++;
    const res = await callApi(
      () => this.#api.dedupHave(this.#backupId, { ids: ids.map((id) => id.toString('base64url')) }),
      { what: 'ask which chunks are stored', retry: this.#retry, signal: this.#signal },
    );
    return res.lengths.map((n) => n ?? undefined);
  }

  async putPack(pack: Buffer, entries: readonly PackEntry[]): Promise<void> {
    const algorithm = this.#checksum ?? 'sha256';
    const checksum = createHash(algorithm).update(pack).digest('base64');
    const etag = await withRetry(
      async () => {
        this.requests += 2;
        const { packId, url } = await this.#api.dedupPack(this.#backupId, {
          sizeBytes: pack.length,
          checksum,
        });
        const header = this.#checksum
          ? { [this.#checksum === 'sha256' ? 'x-amz-checksum-sha256' : 'content-md5']: checksum }
          : {};
        return {
          packId,
          etag: await putPart(url, { kind: 'buffer', data: pack }, this.#agents, this.#signal, header),
        };
      },
      (error) => isTransient(error) || (error instanceof StorageRequestError && error.retryable),
      this.#retry,
      this.#signal,
    );
    this.requests++;
    await callApi(
      () =>
        this.#api.dedupPackComplete(this.#backupId, etag.packId, {
          etag: etag.etag,
          chunks: entries.map((e) => [e.id.toString('base64url'), e.offset, e.length]),
        }),
      { what: 'complete a pack', retry: this.#retry, signal: this.#signal },
    );
  }

  /** Records the backup's references in order, then marks it deduplicated. */
  async seal(ids: readonly string[], logicalBytes: number): Promise<void> {
    for (let start = 0; start < ids.length; start += 5000) {
      this.requests++;
      await callApi(
        () => this.#api.dedupRefs(this.#backupId, { start, ids: ids.slice(start, start + 5000) }),
        { what: 'record the chunk references', retry: this.#retry, signal: this.#signal },
      );
    }
    this.requests++;
    await callApi(() => this.#api.dedupSeal(this.#backupId, { refs: ids.length, logicalBytes }), {
      what: 'seal the deduplicated backup',
      retry: this.#retry,
      signal: this.#signal,
    });
  }
}
