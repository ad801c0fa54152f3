// The offline spool: encrypted backups that could not be uploaded (control plane or storage
// unreachable) wait here and are delivered when the connection returns (deliver.ts).
//
// An entry is two files: `<id>.resistro` holds the ciphertext from byte `tailOffset` on (all of it
// when no upload had started; the rest when storage went away midway, after `parts` were already
// uploaded), and `<id>.json` says what it is. The sidecar is written last, atomically: an entry
// without one is a crash leftover and is removed. The spool has a size cap: when a new backup does
// not fit, the oldest entries are dropped, each with a warning. An entry is otherwise deleted only
// after the control plane confirmed the backup.
// SECURITY: only ciphertext is ever written here; files are 0600 in a 0700 directory.
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { PartChecksum } from '@resistro/contract';
import { UserError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { formatBytes } from '../log.ts';
import { type Lock, readJson, tryLock, writeJson } from '../state.ts';
import { BufferedFileWriter } from './file-writer.ts';

/** `checksum`: the part's base64 digest it was uploaded with, when its upload checks them. */
export type UploadedPart = { partNumber: number; etag: string; checksum?: string };
export type BackupTrigger = 'schedule' | 'manual' | 'retry';

export type SpoolEntry = {
  version: 1;
  id: string;
  databaseId: string;
  databaseName: string;
  trigger: BackupTrigger;
  requestId?: string;
  /** when the dump began: the backup is dated by it, however late it is delivered */
  startedAt: string;
  durationMs: number;
  keyId: string;
  sizeBytes: number;
  sha256: string;
  /** the upload already begun, if any; `parts` 1..n cover bytes [0, tailOffset) */
  upload: {
    backupId: string;
    partSize: number;
    parts: UploadedPart[];
    tailOffset: number;
    /** how storage checks the parts (absent: from a service or agent before part checksums) */
    checksum?: PartChecksum;
  } | null;
  spooledAt: string;
  /** why it was spooled, for the log and `resistro status` */
  reason: string;
};

export type SpoolEntryStart = Omit<
  SpoolEntry,
  'version' | 'id' | 'durationMs' | 'keyId' | 'sizeBytes' | 'sha256' | 'spooledAt'
>;

/** A backup that must wait in the spool does not fit (or the spool is turned off). */
export class SpoolFullError extends UserError {
  constructor(message: string, hint: string) {
    super(message, hint, { code: 'spool_full' });
    this.name = 'SpoolFullError';
  }
}

const SPOOL_FULL_HINT =
  'Raise RESISTRO_SPOOL_MAX_BYTES (the disk must hold it), or let the agent reach the control plane and storage again so that the waiting backups are delivered.';

export type DroppedEntry = SpoolEntry;

/** The ciphertext tail of one entry being written. Commit or discard it. */
export class SpoolWriter {
  readonly id: string;
  readonly #spool: Spool;
  readonly #file: BufferedFileWriter;
  readonly #start: SpoolEntryStart;
  #baseline: number;

  constructor(spool: Spool, id: string, file: BufferedFileWriter, start: SpoolEntryStart, baseline: number) {
    this.#spool = spool;
    this.id = id;
    this.#file = file;
    this.#start = start;
    this.#baseline = baseline;
  }

  get bytes(): number {
    return this.#file.bytes;
  }

  async write(data: Buffer): Promise<void> {
    if (this.#baseline + this.#file.bytes + data.length > this.#spool.maxBytes) {
      this.#baseline = await this.#spool.makeRoom(this.#file.bytes + data.length, this.id);
    }
    await this.#file.write(data);
  }

  async commit(final: {
    durationMs: number;
    keyId: string;
    sizeBytes: number;
    sha256: string;
  }): Promise<SpoolEntry> {
    await this.#file.close(true);
    const entry: SpoolEntry = {
      version: 1,
      id: this.id,
      ...this.#start,
      ...final,
      spooledAt: new Date().toISOString(),
    };
    await writeJson(this.#spool.sidecarPath(this.id), entry);
    return entry;
  }

  async discard(): Promise<void> {
    await this.#file.abandon();
    await rm(this.#spool.tailPath(this.id), { force: true });
  }
}

export class Spool {
  readonly dir: string;
  readonly maxBytes: number;
  readonly #log: Logger;
  readonly #onDrop: (entry: DroppedEntry) => Promise<void>;

  constructor(opts: {
    dir: string;
    maxBytes: number;
    log: Logger;
    onDrop?: (entry: DroppedEntry) => Promise<void>;
  }) {
    this.dir = opts.dir;
    this.maxBytes = opts.maxBytes;
    this.#log = opts.log;
    this.#onDrop = opts.onDrop ?? (async () => {});
  }

  tailPath(id: string): string {
    return join(this.dir, `${id}.resistro`);
  }
  sidecarPath(id: string): string {
    return join(this.dir, `${id}.json`);
  }
  lockPath(id: string): string {
    return join(this.dir, `${id}.lock`);
  }

  /** Throws when the spool is turned off: a backup that cannot be uploaded then has nowhere to wait. */
  assertEnabled(): void {
    if (this.maxBytes > 0) return;
    throw new SpoolFullError(
      'the control plane or storage is unreachable and the offline spool is turned off (RESISTRO_SPOOL_MAX_BYTES=0)',
      'Set RESISTRO_SPOOL_MAX_BYTES to a size (e.g. 10G) so that backups wait on this server while the connection is down, and check the connection to RESISTRO_ENDPOINT.',
    );
  }

  async begin(start: SpoolEntryStart): Promise<SpoolWriter> {
    this.assertEnabled();
    const id = randomUUID();
    const file = await BufferedFileWriter.create(this.tailPath(id));
    return new SpoolWriter(this, id, file, start, await this.usage(id));
  }

  /** Committed entries, oldest first. */
  async list(): Promise<SpoolEntry[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const entries: SpoolEntry[] = [];
    for (const name of names) {
      if (!name.endsWith('.json') || name.includes('.tmp')) continue;
      const entry = await readJson<SpoolEntry>(join(this.dir, name));
      if (entry?.version === 1 && typeof entry.id === 'string') entries.push(entry);
    }
    return entries.sort(
      (a, b) => a.spooledAt.localeCompare(b.spooledAt) || a.startedAt.localeCompare(b.startedAt),
    );
  }

  /** Bytes on disk, optionally leaving one entry's tail out. */
  async usage(except?: string): Promise<number> {
    let total = 0;
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      if (!name.endsWith('.resistro') || (except && name === `${except}.resistro`)) continue;
      total += (await stat(join(this.dir, name)).catch(() => ({ size: 0 }))).size;
    }
    return total;
  }

  /**
   * Drops the oldest entries until `needed` more bytes fit under the cap; returns the bytes the
   * other entries still take. An entry being delivered right now is left alone.
   */
  async makeRoom(needed: number, writing: string): Promise<number> {
    if (needed > this.maxBytes) {
      throw new SpoolFullError(
        `this backup (over ${formatBytes(needed)}) does not fit into the offline spool (RESISTRO_SPOOL_MAX_BYTES = ${formatBytes(this.maxBytes)})`,
        SPOOL_FULL_HINT,
      );
    }
    let others = await this.usage(writing);
    for (const entry of await this.list()) {
      if (others + needed <= this.maxBytes) break;
      const lock = await tryLock(this.lockPath(entry.id));
      if (!lock) continue;
      try {
        const size = (await stat(this.tailPath(entry.id)).catch(() => ({ size: 0 }))).size;
        this.#log.warn(
          'spool.dropped',
          `offline spool full: dropped the oldest waiting backup of "${entry.databaseName}" from ${entry.startedAt} (${formatBytes(size)})`,
          { databaseId: entry.databaseId, startedAt: entry.startedAt, spoolEntry: entry.id },
        );
        await this.remove(entry.id);
        await this.#onDrop(entry).catch(() => {});
        others -= size;
      } finally {
        await lock.release();
      }
    }
    if (others + needed > this.maxBytes) {
      throw new SpoolFullError(
        `the offline spool is full (RESISTRO_SPOOL_MAX_BYTES = ${formatBytes(this.maxBytes)})`,
        SPOOL_FULL_HINT,
      );
    }
    return others;
  }

  async update(entry: SpoolEntry): Promise<void> {
    await writeJson(this.sidecarPath(entry.id), entry);
  }

  /** Removes an entry: the sidecar first, so a crash in between leaves a leftover, not a broken entry. */
  async remove(id: string): Promise<void> {
    await rm(this.sidecarPath(id), { force: true });
    await rm(this.tailPath(id), { force: true });
  }

  lock(id: string): Promise<Lock | undefined> {
    return tryLock(this.lockPath(id));
  }

  /**
   * Removes tails without a sidecar (a crash while spooling) that no live process is writing.
   * Only call this when no backup runs in this process.
   */
  async sweep(activeIds: ReadonlySet<string> = new Set()): Promise<number> {
    let removed = 0;
    const names = readdirSync(this.dir);
    for (const name of names) {
      const m = /^([0-9a-f-]{36})\.resistro$/.exec(name);
      if (!m || activeIds.has(m[1]!) || names.includes(`${m[1]}.json`)) continue;
      const stats = await stat(join(this.dir, name)).catch(() => undefined);
      // Leave tails that are still growing (another process is spooling right now).
      if (!stats || Date.now() - stats.mtimeMs < 10 * 60_000) continue;
      await rm(join(this.dir, name), { force: true });
      removed++;
    }
    return removed;
  }
}
