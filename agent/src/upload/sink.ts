// Where the ciphertext of a backup goes: a Writable that hashes it (SHA-256 of the whole file, for
// the control plane and end-to-end checks), cuts it into parts of exactly `partSize` bytes (all but
// the last; R2 requires equal parts) and uploads 2–4 of them at once.
//
// Memory stays flat at any backup size: small parts (≤ 8 MiB) are held in memory, larger ones
// (Enterprise plans use up to 106 MiB) are written to a temporary file each and streamed from
// there, so retries can re-read them. Back-pressure: when `concurrency` parts are held, writes wait,
// the encrypt stream stops, zstd stops, and the dump tool blocks on its pipe.
//
// Each part's checksum (SHA-256, or MD5 where the storage lacks it; the upload plan says which) is
// computed as its bytes arrive and sent with the request for its URL: the storage refuses a part
// damaged on the way (BadDigest), and the part is sent again from its buffer or file.
//
// When storage or the control plane stays unreachable (OfflineError after all retries), the sink
// switches to the spool: the parts not yet confirmed, then the rest of the stream, go to a spool
// file, together with the parts already uploaded, so that delivery later resumes the same upload.
// A part's bytes are released only once it and all parts before it are confirmed, so the spool
// always gets a gap-free tail.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { PartChecksum } from '@resistro/contract';
import type { Logger } from '../log.ts';
import { createBufferReleaser } from '../memory.ts';
import type { AgentApi } from './client.ts';
import { OfflineError, PartUploader } from './client.ts';
import { BufferedFileWriter } from './file-writer.ts';
import type { HttpAgents, PartBody } from './http.ts';
import type { RetryPolicy } from './retry.ts';
import type { Spool, SpoolEntry, SpoolEntryStart, SpoolWriter, UploadedPart } from './spool.ts';

/** parts up to this size are buffered in memory; larger ones go through temporary files */
export const MAX_MEMORY_PART = 8 * 1024 * 1024;
export const DEFAULT_CONCURRENCY = 4;

export type SinkUpload = {
  api: AgentApi;
  agents: HttpAgents;
  backupId: string;
  partSize: number;
  maxParts: number;
  /** how storage checks each part (from the upload plan); undefined: a service without checks */
  checksum?: PartChecksum;
  /** for parts larger than MAX_MEMORY_PART (or all, when `forceFiles`) */
  tmpDir: string;
  concurrency?: number;
  forceFiles?: boolean;
  retry?: RetryPolicy;
};

export type SinkResult =
  | { kind: 'uploaded'; parts: UploadedPart[]; sizeBytes: number; sha256: string }
  | { kind: 'spooled'; sizeBytes: number; sha256: string; reason: string };

type Part = {
  number: number;
  size: number;
  mem: Buffer | undefined;
  file: BufferedFileWriter | undefined;
  path: string | undefined;
  state: 'filling' | 'uploading' | 'done' | 'failed';
  etag?: string;
  /** the part's digest while it fills, then its base64 value */
  digest: Hash | undefined;
  checksum?: string;
  error?: unknown;
  promise?: Promise<void>;
};

export class BackupSink extends Writable {
  readonly #log: Logger;
  readonly #spool: Spool;
  readonly #spoolStart: SpoolEntryStart;
  readonly #upload: SinkUpload | undefined;
  readonly #uploader: PartUploader | undefined;
  readonly #abort = new AbortController();
  readonly #hash: Hash = createHash('sha256');
  readonly #onBytes: ((n: number) => void) | undefined;
  readonly #release = createBufferReleaser();
  readonly #concurrency: number;
  readonly #inMemory: boolean;
  readonly #pool: Buffer[] = [];
  #mode: 'upload' | 'spool';
  #spoolReason: string;
  #writer: SpoolWriter | undefined;
  #committed = false;
  #current: Part | undefined;
  #nextNumber = 1;
  #retained: Part[] = [];
  readonly #completed: UploadedPart[] = [];
  #bytes = 0;
  #sha256: string | undefined;

  constructor(opts: {
    log: Logger;
    spool: Spool;
    spoolStart: SpoolEntryStart;
    /** undefined: the control plane was unreachable at the start; everything goes to the spool */
    upload: SinkUpload | undefined;
    spoolReason?: string;
    onBytes?: (n: number) => void;
    signal?: AbortSignal;
  }) {
    super({ highWaterMark: 1024 * 1024 });
    this.#log = opts.log;
    this.#spool = opts.spool;
    this.#spoolStart = opts.spoolStart;
    this.#upload = opts.upload;
    this.#onBytes = opts.onBytes;
    this.#mode = opts.upload ? 'upload' : 'spool';
    this.#spoolReason = opts.spoolReason ?? 'the control plane is unreachable';
    this.#concurrency = Math.max(1, opts.upload?.concurrency ?? DEFAULT_CONCURRENCY);
    this.#inMemory = opts.upload ? !opts.upload.forceFiles && opts.upload.partSize <= MAX_MEMORY_PART : true;
    opts.signal?.addEventListener('abort', () => this.#abort.abort(opts.signal?.reason), { once: true });
    if (opts.upload) {
      this.#uploader = new PartUploader({
        api: opts.upload.api,
        backupId: opts.upload.backupId,
        agents: opts.upload.agents,
        log: opts.log,
        retry: opts.upload.retry,
        signal: this.#abort.signal,
        checksum: opts.upload.checksum,
      });
    }
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** after 'finish' */
  result(): SinkResult {
    if (this.#sha256 === undefined) throw new Error('BackupSink.result() before the stream finished');
    if (this.#mode === 'spool')
      return { kind: 'spooled', sizeBytes: this.#bytes, sha256: this.#sha256, reason: this.#spoolReason };
    return { kind: 'uploaded', parts: [...this.#completed], sizeBytes: this.#bytes, sha256: this.#sha256 };
  }

  /** Makes the spooled backup a deliverable spool entry (only once the dump is known good). */
  async commitSpool(final: { durationMs: number; keyId: string }): Promise<SpoolEntry> {
    if (!this.#writer || this.#sha256 === undefined) throw new Error('nothing was spooled');
    const entry = await this.#writer.commit({ ...final, sizeBytes: this.#bytes, sha256: this.#sha256 });
    this.#committed = true;
    return entry;
  }

  /** Stops uploads and removes temporary and uncommitted spool files. Safe to call more than once. */
  async discard(): Promise<void> {
    this.#abort.abort(new Error('backup abandoned'));
    await Promise.allSettled(this.#retained.map((p) => p.promise));
    for (const part of [...this.#retained, ...(this.#current ? [this.#current] : [])]) await this.#free(part);
    this.#retained = [];
    this.#current = undefined;
    if (this.#writer && !this.#committed) await this.#writer.discard();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#take(chunk).then(() => callback(), callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    (async () => {
      for (const { chunk } of chunks) await this.#take(chunk);
    })().then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#finish().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!error) {
      callback(null);
      return;
    }
    this.discard().then(
      () => callback(error),
      () => callback(error),
    );
  }

  async #take(chunk: Buffer): Promise<void> {
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
    this.#onBytes?.(chunk.length);
    this.#release(chunk.length);
    if (this.#mode === 'spool') return this.#toSpool(chunk);
    const partSize = this.#upload!.partSize;
    let offset = 0;
    while (offset < chunk.length) {
      if (!this.#current) this.#current = await this.#newPart();
      const part = this.#current;
      const take = Math.min(partSize - part.size, chunk.length - offset);
      if (part.mem) chunk.copy(part.mem, part.size, offset, offset + take);
      else await part.file!.write(chunk.subarray(offset, offset + take));
      part.digest?.update(chunk.subarray(offset, offset + take));
      part.size += take;
      offset += take;
      if (part.size === partSize) {
        this.#current = undefined;
        await this.#dispatch(part);
        // #dispatch may have switched to the spool (TypeScript cannot see that through the await).
        if ((this.#mode as string) === 'spool') return this.#toSpool(chunk.subarray(offset));
      }
    }
  }

  async #toSpool(data: Buffer): Promise<void> {
    if (data.length === 0) return;
    this.#writer ??= await this.#spool.begin(this.#spoolStartWith());
    await this.#writer.write(data);
  }

  #spoolStartWith(firstPending?: number): SpoolEntryStart {
    const u = this.#upload;
    if (!u) return { ...this.#spoolStart, upload: null, reason: this.#spoolReason };
    const first = firstPending ?? this.#completed.length + 1;
    return {
      ...this.#spoolStart,
      reason: this.#spoolReason,
      upload: {
        backupId: u.backupId,
        partSize: u.partSize,
        parts: [...this.#completed],
        tailOffset: (first - 1) * u.partSize,
        ...(u.checksum && { checksum: u.checksum }),
      },
    };
  }

  async #newPart(): Promise<Part> {
    const u = this.#upload!;
    const number = this.#nextNumber++;
    if (number > u.maxParts) {
      throw new Error(
        `the backup is larger than the upload allows (${u.maxParts} parts of ${u.partSize} bytes)`,
      );
    }
    const digest = u.checksum ? createHash(u.checksum) : undefined;
    if (this.#inMemory) {
      return {
        number,
        size: 0,
        mem: this.#pool.pop() ?? Buffer.allocUnsafe(u.partSize),
        file: undefined,
        path: undefined,
        state: 'filling',
        digest,
      };
    }
    const path = join(u.tmpDir, `${u.backupId}-${number}.part`);
    await rm(path, { force: true });
    return {
      number,
      size: 0,
      mem: undefined,
      file: await BufferedFileWriter.create(path),
      path,
      state: 'filling',
      digest,
    };
  }

  #body(part: Part): PartBody {
    if (part.mem) return { kind: 'buffer', data: part.mem.subarray(0, part.size) };
    return { kind: 'file', path: part.path!, start: 0, length: part.size };
  }

  async #free(part: Part): Promise<void> {
    if (part.mem) {
      if (this.#pool.length < this.#concurrency + 1) this.#pool.push(part.mem);
      part.mem = undefined;
    }
    if (part.file) await part.file.abandon();
    part.file = undefined;
    if (part.path) await rm(part.path, { force: true });
    part.path = undefined;
  }

  async #dispatch(part: Part): Promise<void> {
    if (part.file) {
      await part.file.close();
      part.file = undefined;
    }
    await this.#releaseDone();
    while (this.#retained.length >= this.#concurrency && !this.#hasFailure()) {
      await Promise.race(this.#retained.filter((p) => p.state === 'uploading').map((p) => p.promise));
      await this.#releaseDone();
    }
    if (this.#hasFailure()) {
      await this.#switchToSpool([part]);
      return;
    }
    this.#retained.push(part);
    part.state = 'uploading';
    part.checksum = part.digest?.digest('base64');
    part.digest = undefined;
    part.promise = this.#uploader!.upload(part.number, this.#body(part), part.checksum).then(
      (etag) => {
        part.state = 'done';
        part.etag = etag;
        this.#log.debug('upload.part', `part ${part.number} uploaded (${part.size} bytes)`, {
          part: part.number,
          bytes: part.size,
        });
      },
      (error: unknown) => {
        part.state = 'failed';
        part.error = error;
      },
    );
  }

  #hasFailure(): boolean {
    return this.#retained.some((p) => p.state === 'failed');
  }

  async #releaseDone(): Promise<void> {
    while (this.#retained[0]?.state === 'done') {
      const part = this.#retained.shift()!;
      this.#completed.push({
        partNumber: part.number,
        etag: part.etag!,
        ...(part.checksum && { checksum: part.checksum }),
      });
      this.#uploader!.forget(part.number);
      await this.#free(part);
    }
  }

  /** Storage went away: every byte not yet confirmed goes to the spool, in order. */
  async #switchToSpool(extra: Part[]): Promise<void> {
    await Promise.allSettled(this.#retained.map((p) => p.promise));
    // A backup being abandoned (its dump failed, or it was stopped) goes nowhere: its parts failed
    // because discard() cancelled them, not because storage is away.
    this.#abort.signal.throwIfAborted();
    await this.#releaseDone();
    const permanent = this.#retained.find((p) => p.state === 'failed' && !(p.error instanceof OfflineError));
    if (permanent) throw permanent.error;
    const offline = this.#retained.find((p) => p.state === 'failed')?.error as OfflineError | undefined;
    this.#spoolReason = offline
      ? `${offline.what} unreachable during the upload (${offline.message})`
      : this.#spoolReason;
    const pending = [...this.#retained, ...extra];
    this.#log.warn(
      'backup.spooling',
      `${offline?.what ?? 'storage'} unreachable: ${this.#completed.length} parts are uploaded; the rest of this backup goes to the offline spool`,
      { uploadedParts: this.#completed.length },
    );
    this.#mode = 'spool';
    this.#writer = await this.#spool.begin(this.#spoolStartWith(pending[0]?.number ?? this.#nextNumber));
    this.#retained = [];
    for (const part of pending) {
      if (part.mem) await this.#writer.write(part.mem.subarray(0, part.size));
      else if (part.path) {
        if (part.file) await part.file.close();
        part.file = undefined;
        for await (const piece of createReadStream(part.path, { highWaterMark: 1024 * 1024 })) {
          await this.#writer.write(piece as Buffer);
        }
      }
      await this.#free(part);
    }
  }

  async #finish(): Promise<void> {
    if (this.#mode === 'upload') {
      const last = this.#current;
      this.#current = undefined;
      if (last && last.size > 0) await this.#dispatch(last);
      else if (last) await this.#free(last);
    }
    if (this.#mode === 'upload') {
      await Promise.allSettled(this.#retained.map((p) => p.promise));
      await this.#releaseDone();
      if (this.#hasFailure()) await this.#switchToSpool([]);
    }
    if (this.#mode === 'spool') {
      // An empty stream never happens (the header alone is ~100 bytes), but keep the entry valid.
      this.#writer ??= await this.#spool.begin(this.#spoolStartWith());
    }
    this.#sha256 = this.#hash.digest('hex');
  }
}
