// Continuous protection for MySQL/MariaDB: the server's binary log, streamed as a replica would
// read it, cut into encrypted segments and stored.
//
// The receiver is the vendor's own client (`mariadb-binlog`/`mysqlbinlog --read-from-remote-server
// --raw --stop-never`): it writes the binlog files byte for byte into a spool directory, as the
// server has them, so positions in the spool are positions on the server. A cutter reads the spool
// every tick and cuts a segment at the last complete event when a file is finished (it ends in a
// rotate), when the RPO interval since the oldest unsent byte is over, or when 16 MiB are waiting.
// The cut offsets are kept in a state file, so a restart continues where the last stored segment
// ended (the receiver fetches the current file again from its start; the bytes are the same).
//
// SECURITY: the spool holds the binlog in plain text, as the server's own data directory does, on
// the same machine: a 0700 directory of the agent's user, and each finished file is removed once
// stored. Only encrypted segments leave the machine.
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatabaseTarget, EngineOptions } from '../engines/engine.ts';
import { mysqlAccess } from '../engines/mysql.ts';
import { selectMysqlTool } from '../engines/mysql-tools.ts';
import { startTool } from '../engines/process.ts';
import type { EncryptionKey } from '../format/index.ts';
import type { Logger } from '../log.ts';
import { sleep } from '../upload/retry.ts';
import { compareBinlogNames, nextBinlogName, parseBinlogName, scanEvents } from './events.ts';
import { retentionWarning } from './retention.ts';
import { encodeSegment, type LogSegmentMeta, MAX_SEGMENT_BYTES, segmentName } from './segment-file.ts';
import type { SegmentStore } from './store.ts';

export type BinlogStreamerOptions = {
  engine: 'mariadb' | 'mysql';
  /** the server and an account with REPLICATION SLAVE (and BINLOG MONITOR for the checks) */
  target: DatabaseTarget;
  spoolDir: string;
  key: EncryptionKey;
  store: SegmentStore;
  /** the longest a written event waits before it is cut into a segment (the RPO target) */
  cutIntervalMs: number;
  /** how often the spool is looked at; default 1 s */
  tickMs?: number;
  /** the binlog file to start from when the spool has no state (e.g. the last dump's position) */
  startFile?: string;
  /** the server id the receiver presents; must differ from every replica of the server */
  replicaServerId: number;
  log: Logger;
  engineOptions?: EngineOptions;
};

export type BinlogStreamStatus = {
  connected: boolean;
  /** binlog bytes stored as segments, and how many segments, since start */
  storedBytes: number;
  segments: number;
  /** the newest stored event's time (seconds since the epoch; 0: none yet) */
  storedUntil: number;
  /** how long the oldest byte not yet stored has waited (or the receiver has been away) */
  lagSeconds: number;
  /** the server's binlog retention; 0 = never expires; undefined = not known */
  retentionSeconds: number | undefined;
  lastError: string | undefined;
};

type SpoolState = { current?: string; files: Record<string, { cut: number; final: boolean }> };

const STATE_FILE = 'state.json';
const RETENTION_CHECK_MS = 10 * 60_000;

export class BinlogStreamer {
  readonly #o: BinlogStreamerOptions;
  readonly #access: ReturnType<typeof mysqlAccess>;
  #state: SpoolState = { files: {} };
  #stopped = false;
  #connected = false;
  #disconnectedSince: number | undefined = Date.now();
  #pendingSince: number | undefined;
  #kill: (() => void) | undefined;
  #loops: Promise<void>[] = [];
  #cutting: Promise<void> = Promise.resolve();
  #retentionCheckedAt = 0;
  #status: Omit<BinlogStreamStatus, 'connected' | 'lagSeconds'> = {
    storedBytes: 0,
    segments: 0,
    storedUntil: 0,
    retentionSeconds: undefined,
    lastError: undefined,
  };

  constructor(options: BinlogStreamerOptions) {
    this.#o = options;
    this.#access = mysqlAccess(options.engine, options.engineOptions);
  }

  async start(): Promise<void> {
    await mkdir(this.#o.spoolDir, { recursive: true, mode: 0o700 });
    this.#state = await readState(this.#o.spoolDir);
    this.#loops = [this.#receive(), this.#tick()];
  }

  /** Stops receiving and stores what the spool holds (complete events only). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#kill?.();
    await Promise.allSettled(this.#loops);
    await this.flush();
  }

  /** Cuts and stores every complete event in the spool now, whatever the interval. */
  flush(): Promise<void> {
    return this.#serialCut(true);
  }

  status(): BinlogStreamStatus {
    const now = Date.now();
    const pending = this.#pendingSince === undefined ? 0 : now - this.#pendingSince;
    const away = this.#connected || this.#disconnectedSince === undefined ? 0 : now - this.#disconnectedSince;
    return { ...this.#status, connected: this.#connected, lagSeconds: Math.max(pending, away) / 1000 };
  }

  async #receive(): Promise<void> {
    const names =
      this.#access.prefer.client[0] === 'mariadb'
        ? ['mariadb-binlog', 'mysqlbinlog']
        : ['mysqlbinlog', 'mariadb-binlog'];
    let failures = 0;
    while (!this.#stopped) {
      try {
        const file = this.#state.current ?? this.#o.startFile ?? (await this.#currentServerFile());
        const tool = await selectMysqlTool(this.#access.toolHost, names);
        const spec = await this.#access.specFor(
          this.#o.target,
          tool,
          [
            '--read-from-remote-server',
            '--raw',
            '--stop-never',
            `--stop-never-slave-server-id=${this.#o.replicaServerId}`,
            `--result-file=${this.#o.spoolDir}/`,
            file,
          ],
          false,
        );
        const running = startTool(spec);
        running.stdout.resume();
        this.#kill = () => running.kill();
        this.#connected = true;
        this.#disconnectedSince = undefined;
        this.#o.log.info('binlog.connected', `streaming the binary log from ${file}`, { file });
        await running.done;
        failures = 0;
      } catch (error) {
        if (this.#stopped) break;
        failures++;
        const message = (error as Error).message;
        this.#status.lastError = message;
        if (/Could not find first log file|purged binlog|binary log index file/i.test(message)) {
          // The server no longer has the file the chain needs: a gap. Continue from what it has;
          // the control plane sees the gap, and the next dump starts a new chain.
          const oldest = await this.#serverBinlogs().then(
            (files) => files[0],
            () => undefined,
          );
          this.#o.log.error(
            'binlog.gap',
            `the server purged binlog ${this.#state.current ?? this.#o.startFile} before it was stored; continuing from ${oldest ?? 'the current file'}`,
            {
              hint: "Raise binlog_expire_logs_seconds on the server above the agent's worst lag, and take a new backup now: point-in-time recovery cannot cross this gap.",
            },
          );
          this.#state.current = oldest;
          await writeState(this.#o.spoolDir, this.#state);
        } else {
          this.#o.log.warn('binlog.disconnected', `the binlog stream stopped: ${message.split('\n')[0]}`, {
            failures,
          });
        }
      } finally {
        this.#kill = undefined;
        if (this.#connected) this.#disconnectedSince = Date.now();
        this.#connected = false;
      }
      if (!this.#stopped) await sleep(Math.min(30_000, 500 * 2 ** Math.min(failures, 6))).catch(() => {});
    }
  }

  async #tick(): Promise<void> {
    while (!this.#stopped) {
      await this.#serialCut(false).catch((error) => {
        this.#status.lastError = (error as Error).message;
        this.#o.log.warn(
          'binlog.store-failed',
          `log segments could not be stored yet: ${(error as Error).message}`,
        );
      });
      if (Date.now() - this.#retentionCheckedAt > RETENTION_CHECK_MS) await this.#checkRetention();
      await sleep(this.#o.tickMs ?? 1000).catch(() => {});
    }
  }

  #serialCut(force: boolean): Promise<void> {
    const next = this.#cutting.then(() => this.#cut(force));
    this.#cutting = next.catch(() => {});
    return next;
  }

  async #cut(force: boolean): Promise<void> {
    const dir = this.#o.spoolDir;
    const names = (await readdir(dir)).filter((n) => parseBinlogName(n)).sort(compareBinlogNames);
    let pending = false;
    for (const name of names) {
      this.#state.files[name] ??= { cut: 0, final: false };
      const entry = this.#state.files[name];
      const later = names.some((n) => compareBinlogNames(n, name) > 0);
      for (;;) {
        if (entry.final) break;
        const size = (await stat(join(dir, name))).size;
        if (size <= entry.cut) break;
        const bytes = await readRange(
          join(dir, name),
          entry.cut,
          Math.min(size, entry.cut + MAX_SEGMENT_BYTES),
        );
        const scan = scanEvents(bytes, entry.cut);
        if (scan.end === entry.cut) break;
        this.#pendingSince ??= Date.now();
        const due =
          force ||
          scan.final ||
          later ||
          Date.now() - this.#pendingSince >= this.#o.cutIntervalMs ||
          scan.end - entry.cut >= MAX_SEGMENT_BYTES / 2;
        if (!due) {
          pending = true;
          break;
        }
        const meta: LogSegmentMeta = {
          engine: this.#o.engine,
          stream: name,
          start: entry.cut,
          end: scan.end,
          firstEventAt: scan.firstEventAt,
          lastEventAt: scan.lastEventAt,
          final: scan.final,
        };
        const log = bytes.subarray(0, scan.end - entry.cut);
        await this.#o.store.put(meta, await encodeSegment(meta, log, this.#o.key));
        entry.cut = scan.end;
        entry.final = scan.final;
        if (scan.final) this.#state.current = nextBinlogName(name);
        else this.#state.current ??= name;
        await writeState(dir, this.#state);
        this.#status.storedBytes += log.length;
        this.#status.segments++;
        this.#status.storedUntil = Math.max(this.#status.storedUntil, scan.lastEventAt);
        this.#o.log.debug('binlog.segment', `stored ${segmentName(meta)}`, {
          stream: name,
          start: meta.start,
          end: meta.end,
        });
      }
      // A file before the one being received that never got its rotate: the server purged the
      // rest before the agent had it (a gap, logged when it was found). What it had is stored.
      const abandoned =
        !entry.final &&
        this.#state.current !== undefined &&
        compareBinlogNames(name, this.#state.current) < 0 &&
        (await stat(join(dir, name))).size <= entry.cut;
      if (entry.final || abandoned) {
        await rm(join(dir, name), { force: true });
        delete this.#state.files[name];
        await writeState(dir, this.#state);
      }
    }
    if (!pending) this.#pendingSince = undefined;
  }

  async #checkRetention(): Promise<void> {
    this.#retentionCheckedAt = Date.now();
    try {
      const [seconds = '', days = ''] = (
        await this.#access
          .query(this.#o.target, 'SELECT @@binlog_expire_logs_seconds, @@expire_logs_days;', null)
          .catch(() => this.#access.query(this.#o.target, "SELECT '', @@expire_logs_days;", null))
      ).split('\t');
      const retention =
        seconds !== '' && Number(seconds) > 0 ? Number(seconds) : Math.round(Number(days || 0) * 86_400);
      this.#status.retentionSeconds = retention;
      const warning = retentionWarning(retention, this.status().lagSeconds, this.#o.cutIntervalMs / 1000);
      if (warning)
        this.#o.log.warn('binlog.retention', warning.message, {
          hint: warning.hint,
          retentionSeconds: retention,
        });
    } catch (error) {
      this.#o.log.debug(
        'binlog.retention',
        `could not read the binlog retention: ${(error as Error).message}`,
      );
    }
  }

  async #serverBinlogs(): Promise<string[]> {
    const rows = await this.#access.query(this.#o.target, 'SHOW BINARY LOGS;', null);
    return rows
      .split('\n')
      .map((line) => line.split('\t')[0]!)
      .filter((n) => parseBinlogName(n));
  }

  /** No state and no dump position: start with the file the server writes now. */
  async #currentServerFile(): Promise<string> {
    const files = await this.#serverBinlogs();
    const current = files.at(-1);
    if (!current) throw new Error('the server lists no binary logs (is log_bin on?)');
    return current;
  }
}

async function readRange(path: string, from: number, to: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(to - from);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, from);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function readState(dir: string): Promise<SpoolState> {
  try {
    const state = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as SpoolState;
    return { current: state.current, files: state.files ?? {} };
  } catch {
    return { files: {} };
  }
}

async function writeState(dir: string, state: SpoolState): Promise<void> {
  const temporary = join(dir, `${STATE_FILE}.partial`);
  await writeFile(temporary, JSON.stringify(state), { mode: 0o600 });
  await rename(temporary, join(dir, STATE_FILE));
}
