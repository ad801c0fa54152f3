// `restore --backup` of a deduplicated backup (FORMAT.md §13.9): the chunks are read straight from
// storage, not through the service's single-file download. The service says where each chunk of
// the backup lies (GET /backups/{id}/dedup/reads: presigned URLs, runs of neighbouring chunks of
// one pack); the agent groups them into windows of ≤ 4 MiB, each fetched with one ranged GET per
// stretch of a pack it touches (read-windows.ts), keeps a few windows in flight, in manifest order,
// and checks every blob against the manifest (its length, then its authentication under the
// chunk's key with its id) before its plaintext is released. A pack gone from storage, a run that
// is short, a blob that does not authenticate: refused, naming the chunk.
//
// Memory: at most READS_IN_FLIGHT windows of ≤ 4 MiB (gaps read through included), and one chunk's
// plaintext; whatever the size of the backup.

import { Readable } from 'node:stream';
import type { DedupReads } from '@resistro/contract';
import { isTransient } from '../errors.ts';
import {
  type EncryptionKey,
  type FileHeader,
  FormatError,
  readHeader,
  TocCorruptError,
} from '../format/index.ts';
import { createBufferReleaser } from '../memory.ts';
import { getRange, type HttpAgents, StorageRequestError } from '../upload/http.ts';
import { backoffDelay, DEFAULT_RETRY, type RetryPolicy, sleep } from '../upload/retry.ts';
import { chunkLabel, openRef, openRefFrame } from './container.ts';
import { decryptManifest, type Manifest } from './manifest.ts';
import { type Read, type ReadWindow, takeWindow } from './read-windows.ts';

/** windows of ranged reads in flight at once (each ≤ 4 MiB); enough to hide storage latency */
export const READS_IN_FLIGHT = 6;
/** the most a parallel restore keeps in flight, over all its sessions (so at most 64 MiB) */
const MAX_READS_IN_FLIGHT = 16;

/**
 * Windows one section reads ahead at most: the one its session consumes and two behind it, which
 * hide a request's latency many times over (a window is up to 4 MiB of compressed pieces, in
 * bench:dedup about half a second of COPY). More would only take permits from the other sessions:
 * a permit comes back when its whole window is used up, so a section that took them all at its
 * start would leave the next session waiting that long.
 */
const SECTION_WINDOWS_AHEAD = 3;
/** checked zstd frames handed on at once, at most (about one read of a pipe) */
const FRAME_BATCH_BYTES = 128 << 10;

/** Ranged reads in flight for a restore over `jobs` sessions: two ahead of the sessions, 6–16. */
export function readsInFlight(jobs: number): number {
  return Math.min(MAX_READS_IN_FLIGHT, Math.max(READS_IN_FLIGHT, jobs + 2));
}

/** A chunk the storage cannot give back as the index says: a deleted pack, a short one. */
export class StoredChunkError extends FormatError {
  constructor(message: string) {
    super(
      'chunk_corrupt',
      message,
      'A stored piece of this backup is missing or damaged in storage: run "resistro check --backup <id> --read-data" to see which backups it affects, restore an older backup, and contact support.',
    );
    this.name = 'StoredChunkError';
  }
}

export type RemoteBackup = {
  manifest: Manifest;
  /** the manifest's header: its key id and mode */
  header: FileHeader;
  /** bytes the restore reads from storage (the manifest and the blobs, gaps excluded) */
  storedBytes: number;
  /** bytes of the manifest object (read once, when the backup is opened) */
  manifestBytes: number;
  /**
   * Checks, without reading the chunks, that the service places every chunk of the manifest in a
   * pack it lists, and that each such pack is in storage and reaches as far as its chunks do (one
   * one-byte ranged read per pack). Else the FormatError a restore would meet, naming the chunk.
   */
  checkStored(): Promise<void>;
  /** every section's plaintext in order, as one stream; see the file's header for the checks */
  open(counters?: RemoteCounters): Readable;
  /**
   * One section's plaintext (a parallel restore's session), read with the same checks; its ranged
   * reads take permits of `limit`, which the sections read at the same time share. `frames`: each
   * chunk as a zstd frame instead (authenticated, its length checked, not decompressed), for the
   * zstd program in front of psql (onSqlBytes then sees nothing).
   */
  openSection(
    section: number,
    counters: RemoteCounters,
    limit: ReadLimit,
    opts?: { frames?: boolean },
  ): Readable;
};

export type RemoteCounters = {
  onFileBytes?: (n: number) => void;
  onSqlBytes?: (n: number) => void;
  /** sees each chunk of plaintext as it is released; must not keep it */
  onSqlChunk?: (chunk: Buffer) => void;
};

type Options = {
  /** asks the service for (fresh) read URLs */
  plan: () => Promise<DedupReads>;
  key: EncryptionKey;
  agents: HttpAgents;
  signal?: AbortSignal | undefined;
  inFlight?: number;
  retry?: RetryPolicy;
};

/** Where each reference is: its section and index, and its blob length; the manifest's order. */
type Place = { section: number; index: number; length: number };

export async function openRemoteBackup(o: Options): Promise<RemoteBackup> {
  let plan = await o.plan();
  let planAt = Date.now();
  const retry = o.retry ?? DEFAULT_RETRY;
  const getManifest = () => withStorageRetry(() => getWhole(plan.manifestUrl, o.signal), retry, o.signal);
  const manifestFile = await getManifest()
    .catch(async (error: unknown) => {
      // A link that expired on its way (a short lifetime, a slow machine, a clock a second off):
      // asked for again once, as the packs' links are.
      if (!(error instanceof StorageRequestError && error.expired)) throw error;
      plan = await o.plan();
      planAt = Date.now();
      return getManifest();
    })
    .catch((error: unknown) => {
      if (error instanceof StorageRequestError && error.status === 404)
        throw new StoredChunkError("the backup's manifest is missing from storage");
      throw error;
    });
  const header = readHeader(manifestFile);
  const manifest = await decryptManifest(o.key, manifestFile); // a wrong key is refused here
  const places: Place[] = [];
  manifest.sections.forEach((s, section) => {
    s.chunks.forEach((ref, index) => {
      places.push({ section, index, length: ref[3] });
    });
  });
  const label = (ref: number) => chunkLabel(manifest, places[ref]!.section, places[ref]!.index);

  /** The plan's reads for refs [from, to), each checked against the manifest's blob lengths. */
  const readsOf = (p: DedupReads, from: number, to: number): Read[] => {
    const counted = p.runs.reduce((n, r) => n + r[3].length, 0);
    if (p.refs !== places.length || counted !== places.length)
      throw new TocCorruptError(
        `the service lists ${counted} chunks for this backup, its manifest ${places.length}: they do not belong together`,
      );
    const out: Read[] = [];
    let ref = 0;
    for (const [pack, start, end, offsets] of p.runs) {
      const url = p.packs[pack];
      const runFirst = ref;
      ref += offsets.length;
      if (ref <= from || runFirst >= to || offsets.length === 0) continue;
      if (url === undefined)
        throw new TocCorruptError(`the service names pack ${pack}, which it did not list`);
      let previous = 0;
      for (let k = 0; k < offsets.length; k++) {
        const at = offsets[k]!;
        const length = places[runFirst + k]!.length;
        if (at < previous || start + at + length > end)
          throw new StoredChunkError(
            `${label(runFirst + k)} is missing: the service places it outside its read from storage`,
          );
        previous = at + length;
      }
      // Only refs inside [from, to): a read split where an earlier read (or plan) ended.
      const a = Math.max(from, runFirst) - runFirst;
      const b = Math.min(to, ref) - runFirst;
      const base = offsets[a]!;
      const last = offsets[b - 1]! + places[runFirst + b - 1]!.length;
      out.push({
        url,
        start: start + base,
        end: start + last,
        first: runFirst + a,
        offsets: offsets.slice(a, b).map((x) => x - base),
      });
    }
    return out;
  };
  const expiring = () => Date.now() - planAt > plan.ttlSeconds * 500;
  const refresh = async () => {
    plan = await o.plan();
    planAt = Date.now();
  };

  const missing = (ref: number, error: StorageRequestError) =>
    new StoredChunkError(
      `${label(ref)} is missing: ${
        error.status === 404
          ? 'storage has no pack holding it'
          : error.status === 416
            ? 'its pack in storage is shorter than the index says'
            : `storage did not give it back (${error.message})`
      }`,
    );
  const getBytes = (url: string, start: number, end: number) =>
    withStorageRetry(() => getRange(url, start, end, o.agents, o.signal), retry, o.signal);

  /** The blobs of one read, under a plan asked for again (its URL was refused as expired). */
  const fetchReadAgain = async (r: Read): Promise<Buffer[]> => {
    const again = readsOf(plan, r.first, r.first + r.offsets.length);
    const blobs = await Promise.all(
      again.map(async (x) => {
        const data = await getBytes(x.url, x.start, x.end).catch((error: unknown) => {
          throw error instanceof StorageRequestError ? missing(x.first, error) : error;
        });
        return x.offsets.map((at, k) => data.subarray(at, at + places[x.first + k]!.length));
      }),
    );
    return blobs.flat();
  };

  /**
   * A window's reads, each as its blobs: one ranged request per fetch of the window (a read shares
   * its fetch's bytes). A failed request fails the reads it serves, each naming its first chunk; a
   * refused (expired) URL is asked for again once per window, and its reads then read on their own.
   */
  const fetchWindow = (w: ReadWindow): Promise<Buffer[]>[] => {
    const data = new Map<number, Promise<Buffer | 'expired'>>();
    let refreshed: Promise<void> | undefined;
    const fetched = (i: number) => {
      let d = data.get(i);
      if (!d) {
        const f = w.fetches[i]!;
        d = getBytes(f.url, f.start, f.end).catch((error: unknown) => {
          if (error instanceof StorageRequestError && error.expired) return 'expired' as const;
          throw error;
        });
        data.set(i, d);
      }
      return d;
    };
    // in the order of the reads, so the one the restore needs first is asked for first
    return w.reads.map(async (r, k) => {
      const f = w.fetches[w.fetchOf[k]!]!;
      const bytes = await fetched(w.fetchOf[k]!).catch((error: unknown) => {
        throw error instanceof StorageRequestError ? missing(r.first, error) : error;
      });
      if (bytes === 'expired') {
        refreshed ??= refresh();
        await refreshed;
        return fetchReadAgain(r);
      }
      const base = r.start - f.start;
      return r.offsets.map((at, n) => bytes.subarray(base + at, base + at + places[r.first + n]!.length));
    });
  };

  const storedBytes =
    manifestFile.length + manifest.sections.reduce((n, s) => n + s.chunks.reduce((m, c) => m + c[3], 0), 0);

  /** The plaintext of refs [from, to) in order; at most `perStream` windows ahead, each holding a permit of `limit`. */
  const readRefs = (
    from: number,
    to: number,
    counters: RemoteCounters,
    limit: ReadLimit,
    perStream: number,
    frames = false,
  ): Readable => {
    let gen: AsyncGenerator<Buffer> | undefined;
    const release = createBufferReleaser();
    async function* chunks(): AsyncGenerator<Buffer> {
      let next = from; // first reference not yet asked for
      let queued: Read[] = [];
      // one window per permit: its reads in order, each read's blobs as its fetch brings them
      const pending: { window: ReadWindow; blobs: Promise<Buffer[]>[]; ready: boolean[] }[] = [];
      // Frames (checked) are handed on together while they are at hand, up to FRAME_BATCH_BYTES:
      // one write into zstd's pipe for many pieces of a few KB instead of one each.
      let batch: Buffer[] = [];
      let batchBytes = 0;
      const flush = () => {
        const out = batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchBytes);
        batch = [];
        batchBytes = 0;
        return out;
      };
      /** `wait`: this stream may wait for a permit (it has nothing coming otherwise) */
      const fill = async (wait: boolean) => {
        while (pending.length < perStream && next < to) {
          // Wait for a permit only when this stream has nothing coming; otherwise read ahead only
          // with a permit nobody waits for (another section's session would starve).
          if (wait && pending.length === 0) await limit.acquire(o.signal);
          else if (!limit.tryAcquire()) return;
          let window: ReadWindow;
          try {
            if (queued.length === 0 || expiring()) {
              if (expiring()) await refresh();
              queued = readsOf(plan, next, to);
            }
            window = takeWindow(queued);
          } catch (error) {
            limit.release();
            throw error;
          }
          const last = window.reads[window.reads.length - 1]!;
          next = last.first + last.offsets.length;
          const blobs = fetchWindow(window);
          const ready = blobs.map(() => false);
          // awaited in order below; an early failure must not go unhandled
          blobs.forEach((b, i) => {
            b.then(
              () => {
                ready[i] = true;
              },
              () => {
                ready[i] = true;
              },
            );
          });
          pending.push({ window, blobs, ready });
        }
      };
      try {
        await fill(true);
        while (pending.length > 0) {
          const entry = pending[0]!;
          const { reads } = entry.window;
          for (let r = 0; r < reads.length; r++) {
            const read = reads[r]!;
            // about to wait for storage: what is checked already goes on first
            if (batchBytes > 0 && !entry.ready[r]) yield flush();
            const got = await entry.blobs[r]!;
            for (let k = 0; k < got.length; k++) {
              const blob = got[k]!;
              const { section, index } = places[read.first + k]!;
              counters.onFileBytes?.(blob.length);
              const plain = frames
                ? openRefFrame(manifest, section, index, blob)
                : openRef(manifest, section, index, blob);
              if (!frames) counters.onSqlBytes?.(plain.length);
              release(plain.length);
              if (r === reads.length - 1 && k === got.length - 1) {
                // the window is used up: its permit goes on (to a stream waiting for one first)
                pending.shift();
                limit.release();
                await fill(false);
              }
              if (!frames) {
                yield plain;
                continue;
              }
              batch.push(plain);
              batchBytes += plain.length;
              if (batchBytes >= FRAME_BATCH_BYTES) yield flush();
            }
          }
          if (pending[0] === entry) {
            pending.shift();
            limit.release();
          }
          // may wait for a permit: nothing checked is held back meanwhile
          if (batchBytes > 0 && (pending.length === 0 || !pending[0]!.ready[0])) yield flush();
          await fill(true);
        }
        if (batchBytes > 0) yield flush();
      } finally {
        // stopped early (a failure, a destroyed stream): the permits of windows not used go back
        for (const _ of pending) limit.release();
        pending.length = 0;
      }
    }
    return new Readable({
      highWaterMark: 1 << 20,
      async read() {
        gen ??= chunks();
        try {
          const next = await gen.next();
          if (!next.done) counters.onSqlChunk?.(next.value);
          this.push(next.done ? null : next.value);
        } catch (error) {
          this.destroy(error as Error);
        }
      },
      destroy(error, callback) {
        void gen?.return(undefined);
        callback(error);
      },
    });
  };

  const sectionStart: number[] = [];
  let refCount = 0;
  for (const s of manifest.sections) {
    sectionStart.push(refCount);
    refCount += s.chunks.length;
  }

  return {
    manifest,
    header,
    storedBytes,
    manifestBytes: manifestFile.length,
    async checkStored() {
      const probe = async () => {
        readsOf(plan, 0, places.length);
        // per pack: the furthest byte a chunk of this backup needs, and its first chunk there
        const need = new Map<number, { end: number; first: number }>();
        let ref = 0;
        for (const [pack, , end, offsets] of plan.runs) {
          const seen = need.get(pack);
          if (!seen) need.set(pack, { end, first: ref });
          else seen.end = Math.max(seen.end, end);
          ref += offsets.length;
        }
        const todo = [...need];
        const worker = async () => {
          for (let next = todo.shift(); next; next = todo.shift()) {
            const [pack, { end, first }] = next;
            try {
              await withStorageRetry(
                () => getRange(plan.packs[pack]!, end - 1, end, o.agents, o.signal),
                retry,
                o.signal,
              );
            } catch (error) {
              if (!(error instanceof StorageRequestError) || error.expired) throw error;
              throw missing(first, error);
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(READS_IN_FLIGHT, todo.length) }, worker));
      };
      await probe().catch(async (error: unknown) => {
        // links that expired on the way: asked for again once
        if (!(error instanceof StorageRequestError && error.expired)) throw error;
        await refresh();
        await probe();
      });
    },
    open(counters = {}) {
      const inFlight = Math.max(1, o.inFlight ?? READS_IN_FLIGHT);
      counters.onFileBytes?.(manifestFile.length);
      return readRefs(0, places.length, counters, createReadLimit(inFlight), inFlight);
    },
    openSection(section, counters, limit, opts = {}) {
      const from = sectionStart[section];
      if (from === undefined) throw new RangeError(`no section ${section}`);
      const to = from + manifest.sections[section]!.chunks.length;
      const ahead = Math.min(limit.size, SECTION_WINDOWS_AHEAD);
      return readRefs(from, to, counters, limit, ahead, opts.frames === true);
    },
  };
}

/**
 * A bound on the ranged reads in flight (and so on the memory they hold) shared by every section
 * a parallel restore reads at once. A permit is held from the read's request until the last of
 * its chunks was handed on; a released permit goes to a stream waiting for one first.
 */
export type ReadLimit = {
  readonly size: number;
  acquire(signal?: AbortSignal): Promise<void>;
  tryAcquire(): boolean;
  release(): void;
};

export function createReadLimit(size: number): ReadLimit {
  let free = size;
  const waiting: (() => void)[] = [];
  return {
    size,
    tryAcquire() {
      if (free === 0 || waiting.length > 0) return false;
      free--;
      return true;
    },
    acquire(signal) {
      if (free > 0 && waiting.length === 0) {
        free--;
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const i = waiting.indexOf(grant);
          if (i >= 0) waiting.splice(i, 1);
          reject(signal!.reason);
        };
        const grant = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        waiting.push(grant);
      });
    },
    release() {
      const next = waiting.shift();
      if (next) next();
      else free++;
    },
  };
}

async function withStorageRetry<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const again = error instanceof StorageRequestError ? error.retryable : isTransient(error);
      if (attempt >= policy.attempts || !again) throw error;
      await sleep(backoffDelay(attempt, policy), signal);
    }
  }
}

/** A whole (small) object: the manifest. */
async function getWhole(url: string, signal: AbortSignal | undefined): Promise<Buffer> {
  const res = await fetch(url, { signal: signal ?? null }).catch((error: unknown) => {
    if (signal?.aborted) throw error;
    throw new StorageRequestError(`storage unreachable: ${(error as Error).message}`, undefined, undefined, {
      cause: error,
    });
  });
  if (res.status !== 200) {
    const text = await res.text();
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
    throw new StorageRequestError(
      `storage answered ${res.status}${code ? ` ${code}` : ''}`,
      res.status,
      code,
    );
  }
  return Buffer.from(await res.arrayBuffer());
}
