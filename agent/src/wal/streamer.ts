// Continuous WAL archiving of one PostgreSQL cluster: `pg_receivewal` over a replication slot the
// agent creates (the server keeps WAL until it is streamed, so nothing is lost while the agent is
// away) writes segments into a private spool; each finished segment is compressed, encrypted and
// uploaded (presigned PUTs in batches, in parallel), registered, then deleted from the spool. The
// segment still being written (.partial) is uploaded as a snapshot every quarter of the RPO, so
// the RPO is seconds, not one segment's worth of writes.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { PitrSegmentInput } from '@resistro/contract';
import type { DatabaseTarget } from '../engines/engine.ts';
import type { EncryptionKey } from '../format/index.ts';
import type { Logger } from '../log.ts';
import type { AgentApi } from '../upload/client.ts';
import { encodeWal, usedLength } from './segment.ts';
import { formatLsn, parseWalName, pgBin, pgEnv } from './tools.ts';

export const DEFAULT_SEGMENT_SIZE = 16 * 1024 * 1024;
const BATCH = 20;

export type WalStreamerOptions = {
  target: DatabaseTarget;
  databaseId: string;
  api: AgentApi;
  key: EncryptionKey;
  spoolDir: string;
  slot: string;
  rpoSeconds: number;
  log: Logger;
  binDir?: string;
  segmentSize?: number;
  /**
   * 'stream' (default): pg_receivewal over the slot fills the spool. 'archive': the server's
   * archive_command (`resistro wal-push`, wal/push-server.ts) drops finished segments into it.
   */
  receive?: 'stream' | 'archive';
};

export class WalStreamer {
  readonly #o: WalStreamerOptions;
  readonly #segmentSize: number;
  #child: ChildProcess | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #busy: Promise<void> = Promise.resolve();
  #partialUploaded = new Map<string, number>();
  /** when WAL not yet in storage was first seen; undefined when all is uploaded */
  #pendingSince: number | undefined;
  #lastError: string | undefined;
  /** why pg_receivewal stopped last (its connection, the slot); cleared once the slot is active again */
  #streamError: string | undefined;
  /** when pg_receivewal stopped first since it last streamed (Date.now()) */
  #downSince: number | undefined;
  uploadedSegments = 0;
  uploadedBytes = 0;
  walBytes = 0;

  constructor(o: WalStreamerOptions) {
    this.#o = o;
    this.#segmentSize = o.segmentSize ?? DEFAULT_SEGMENT_SIZE;
  }

  async start(): Promise<void> {
    await mkdir(this.#o.spoolDir, { recursive: true, mode: 0o700 });
    if (this.#o.receive !== 'archive') {
      await this.#receivewal(['--create-slot', '--if-not-exists'], true);
      this.#spawn();
    }
    const every = Math.max(500, Math.min(5000, (this.#o.rpoSeconds * 1000) / 4));
    this.#timer = setInterval(() => {
      this.#busy = this.#busy.then(() => this.flush(false)).catch(() => {});
    }, every);
  }

  /** Uploads every finished segment, and the partial one when `partial` or when due. */
  async flush(partial = true): Promise<void> {
    try {
      await this.#uploadFinished();
      await this.#uploadPartial(partial);
      this.#lastError = undefined;
    } catch (error) {
      this.#lastError = (error as Error).message;
      this.#o.log.warn('pitr.wal-upload', `WAL upload failed, retrying: ${this.#lastError}`);
    }
  }

  get spoolDir(): string {
    return this.#o.spoolDir;
  }

  /** A segment arrived in the spool (archive mode): upload it now rather than at the next tick. */
  kick(): void {
    if (this.#stopped) return;
    this.#busy = this.#busy.then(() => this.flush(false)).catch(() => {});
  }

  status() {
    return {
      lagSeconds: this.#pendingSince === undefined ? 0 : Math.round((Date.now() - this.#pendingSince) / 1000),
      error: this.#lastError,
      streamError: this.#streamError,
      downSince: this.#downSince,
    };
  }

  /** The slot was seen streaming again (slot.ts): the last pg_receivewal failure is over. */
  streaming(): void {
    this.#streamError = undefined;
    this.#downSince = undefined;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#child?.kill('SIGTERM');
    await this.#busy;
  }

  #args(): string[] {
    const t = this.#o.target;
    return ['-h', t.host, '-p', String(t.port), '-U', t.user, '--no-password', '-S', this.#o.slot];
  }

  #receivewal(extra: string[], once: boolean): Promise<void> {
    const tool = pgBin('pg_receivewal', this.#o.binDir);
    return new Promise((resolve, reject) => {
      const args = [...this.#args(), '-D', this.#o.spoolDir, ...extra];
      const child = spawn(tool, args, { stdio: ['ignore', 'ignore', 'pipe'], env: pgEnv(this.#o.target) });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => {
        stderr = (stderr + b.toString('utf8')).slice(-4000);
      });
      child.once('error', reject);
      child.once('close', (code) =>
        once && code !== 0
          ? reject(new Error(`pg_receivewal ${extra.join(' ')}: ${stderr.trim()}`))
          : resolve(),
      );
    });
  }

  #spawn(): void {
    if (this.#stopped) return;
    const tool = pgBin('pg_receivewal', this.#o.binDir);
    // --synchronous: flushed at once, so a partial snapshot holds every commit the server confirmed
    const args = [...this.#args(), '-D', this.#o.spoolDir, '--synchronous', '--no-loop'];
    const child = spawn(tool, args, { stdio: ['ignore', 'ignore', 'pipe'], env: pgEnv(this.#o.target) });
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString('utf8')).slice(-4000);
    });
    child.once('close', (code) => {
      if (this.#stopped) return;
      this.#downSince ??= Date.now();
      this.#streamError = `pg_receivewal stopped (exit ${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`;
      this.#o.log.warn('pitr.receivewal', `${this.#streamError}; starting it again in 5 s`);
      // the server no longer has the WAL after the spool's last file (the slot was dropped or lost
      // it): pg_receivewal would ask for it forever. What the spool holds is uploaded, then the
      // spool is emptied so the stream goes on from the slot's position; the control plane reports
      // the hole as a gap and asks for a new base backup.
      const skipAhead = /has already been removed/.test(stderr);
      // a slot someone dropped (the advice of a "slot about to fill" alert) is created again
      setTimeout(() => {
        if (this.#stopped) return;
        // The slot itself still points at the removed WAL (a slot recreated from before the hole, or
        // one the server invalidated): it is dropped and made anew, at the server's position.
        const next = skipAhead
          ? this.#skipToServer().then(() => this.#receivewal(['--drop-slot'], true).catch(() => {}))
          : Promise.resolve();
        next
          .then(() => this.#receivewal(['--create-slot', '--if-not-exists'], true))
          .catch(() => {})
          .finally(() => this.#spawn());
      }, 5000).unref();
    });
    this.#child = child;
  }

  /** Uploads the spool, then empties it (only once everything in it is in storage). */
  async #skipToServer(): Promise<void> {
    const done = this.#busy.then(() => this.flush(true));
    this.#busy = done.catch(() => {});
    await done;
    if (this.#lastError) throw new Error(this.#lastError);
    for (const f of await this.#spoolFiles())
      if (/^[0-9A-F]{24}(\.partial)?$/.test(f)) await unlink(join(this.#o.spoolDir, f));
    this.#partialUploaded.clear();
    this.#o.log.warn(
      'pitr.wal-skip',
      'the server no longer has the WAL after the last one stored: streaming goes on from its current position, the hole is reported as a gap and a new base backup follows',
    );
  }

  async #spoolFiles(): Promise<string[]> {
    return (await readdir(this.#o.spoolDir)).sort();
  }

  async #uploadFinished(): Promise<void> {
    const finished = (await this.#spoolFiles()).filter((f) => /^[0-9A-F]{24}$/.test(f));
    if (finished.length > 0 && this.#pendingSince === undefined) this.#pendingSince = Date.now();
    for (let i = 0; i < finished.length; i += BATCH) {
      const batch = await Promise.all(finished.slice(i, i + BATCH).map((name) => this.#encode(name, false)));
      await this.#upload(batch);
      for (const s of batch) {
        await unlink(join(this.#o.spoolDir, s.input.name));
        this.#partialUploaded.delete(s.input.name);
      }
    }
  }

  async #uploadPartial(force: boolean): Promise<void> {
    const partial = (await this.#spoolFiles()).find((f) => /^[0-9A-F]{24}\.partial$/.test(f));
    if (!partial) {
      this.#pendingSince = undefined;
      return;
    }
    const name = partial.slice(0, 24);
    const info = await stat(join(this.#o.spoolDir, partial));
    const uploadedAt = this.#partialUploaded.get(name) ?? 0;
    if (info.mtimeMs <= uploadedAt) {
      this.#pendingSince = undefined;
      return;
    }
    this.#pendingSince ??= info.mtimeMs;
    if (!force && Date.now() - uploadedAt < (this.#o.rpoSeconds * 1000) / 4) return;
    const encoded = await this.#encode(partial, true);
    await this.#upload([encoded]);
    this.#partialUploaded.set(name, info.mtimeMs);
    this.#pendingSince = undefined;
  }

  async #encode(file: string, partial: boolean) {
    const name = file.slice(0, 24);
    const at = parseWalName(name, this.#segmentSize)!;
    const path = join(this.#o.spoolDir, file);
    const info = await stat(path);
    const wal = await readFile(path);
    const end = partial ? at.start + Math.max(1, usedLength(wal)) : at.start + wal.length;
    const enc = await encodeWal({ timeline: at.timeline, name, start: at.start, partial }, wal, this.#o.key);
    const input: PitrSegmentInput = {
      stream: at.timeline,
      name,
      startPosition: formatLsn(at.start),
      endPosition: formatLsn(end),
      startOffset: at.start,
      endOffset: end,
      sizeBytes: enc.bytes.length,
      sha256: enc.sha256,
      md5: enc.md5,
      partial,
      closedAt: new Date(partial ? Date.now() : info.mtimeMs).toISOString(),
    };
    this.walBytes += partial ? 0 : wal.length;
    return { input, bytes: enc.bytes };
  }

  async #upload(batch: { input: PitrSegmentInput; bytes: Buffer }[]): Promise<void> {
    if (batch.length === 0) return;
    const { api, databaseId } = this.#o;
    const { urls } = await api.pitrUploadUrls(
      databaseId,
      batch.map((b) => b.input),
    );
    await Promise.all(
      urls.map(async (u, i) => {
        const res = await fetch(u.url, {
          method: 'PUT',
          body: new Uint8Array(batch[i]!.bytes),
          headers: u.headers,
        });
        if (!res.ok)
          throw new Error(`storage refused ${u.name}: ${res.status} ${(await res.text()).slice(0, 200)}`);
      }),
    );
    await api.registerPitrSegments(
      databaseId,
      batch.map((b) => b.input),
    );
    this.uploadedSegments += batch.length;
    this.uploadedBytes += batch.reduce((n, b) => n + b.bytes.length, 0);
  }
}
