// Point-in-time restore, the binlog half: from the dump's position on, every stored segment is
// fetched and checked first (a missing or damaged one refuses the restore, naming it, before the
// database is touched by the log), then each binlog file is rebuilt from its segments and replayed
// by the vendor's own tool, `mariadb-binlog`/`mysqlbinlog` (reading stdin) piped into one client:
//   --start-position (the dump's), --stop-datetime or --stop-position (the target),
//   --database (only the dumped database's changes), --rewrite-db (into a database of another name).
// Event times in the binlog have whole seconds, and mariadb-binlog reads --stop-datetime in the
// local time zone: it runs with TZ=UTC and the target is rounded down to its second, so nothing
// after the target is ever replayed.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseTarget, EngineOptions } from '../engines/engine.ts';
import { mysqlAccess } from '../engines/mysql.ts';
import type { LogPosition } from '../engines/mysql-log-position.ts';
import { selectMysqlTool } from '../engines/mysql-tools.ts';
import { startTool } from '../engines/process.ts';
import type { EncryptionKey } from '../format/index.ts';
import type { Logger } from '../log.ts';
import { compareBinlogNames, nextBinlogName } from './events.ts';
import { decodeSegment, type LogSegmentMeta, SegmentError, segmentName } from './segment-file.ts';
import { type SegmentRef, type SegmentSource, sortSegments } from './store.ts';

export type ReplayStop = { time: Date } | { position: { file: string; pos: number } } | { latest: true };

export type ReplayFile = {
  name: string;
  segments: { ref: SegmentRef; meta: LogSegmentMeta; path: string }[];
};

export type ReplayPlan = {
  files: ReplayFile[];
  /** time of the newest event the chosen segments hold (seconds; 0: none) */
  reachesUntil: number;
  dir: string;
  cleanup(): Promise<void>;
};

const missing = (what: string) =>
  new SegmentError(
    `log segment ${what} is missing`,
    'The binary log has a gap there: restore to a point before it, or from a backup taken after it.',
  );

/**
 * Fetches and checks every segment from `from` to `stop` into a private temporary directory (still
 * encrypted). Refuses, naming the segment, when one is missing, damaged, or not the one listed.
 */
export async function prepareReplay(opts: {
  source: SegmentSource;
  key: EncryptionKey;
  from: LogPosition;
  stop: ReplayStop;
  log: Logger;
}): Promise<ReplayPlan> {
  const refs = sortSegments(await opts.source.list());
  const byFile = new Map<string, SegmentRef[]>();
  for (const ref of refs) byFile.set(ref.stream, [...(byFile.get(ref.stream) ?? []), ref]);
  const lastFile = refs.at(-1)?.stream;
  const stopSecond = 'time' in opts.stop ? Math.floor(opts.stop.time.getTime() / 1000) : undefined;
  // SECURITY: the segments stay encrypted on disk; the directory is private to the agent's user.
  const dir = await mkdtemp(join(tmpdir(), 'resistro-binlog-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const files: ReplayFile[] = [];
  let reachesUntil = 0;
  try {
    let name: string | undefined = opts.from.file;
    let done = false;
    while (name && !done) {
      const list = byFile.get(name) ?? [];
      const file: ReplayFile = { name, segments: [] };
      let expected = 0;
      let final = false;
      for (const ref of list) {
        if (ref.start !== expected)
          throw missing(segmentName({ stream: name, start: expected, end: ref.start }));
        const path = join(dir, `${files.length}-${file.segments.length}.resistro`);
        let bytes: Buffer;
        try {
          bytes = await opts.source.fetch(ref);
        } catch (error) {
          throw new SegmentError(
            `log segment ${segmentName(ref)} could not be fetched: ${(error as Error).message}`,
            'It is listed but not in storage (deleted?): restore to a point before it, or from a backup taken after it.',
            { cause: error },
          );
        }
        const { meta } = await decodeSegment(bytes, opts.key, ref);
        await writeFile(path, bytes, { mode: 0o600 });
        file.segments.push({ ref, meta, path });
        expected = meta.end;
        final = meta.final;
        reachesUntil = Math.max(reachesUntil, meta.lastEventAt);
        if (stopSecond !== undefined && meta.lastEventAt >= stopSecond) done = true;
        if ('position' in opts.stop && opts.stop.position.file === name && meta.end >= opts.stop.position.pos)
          done = true;
        if (done) break;
      }
      if (name === opts.from.file && expected < opts.from.pos)
        throw missing(segmentName({ stream: name, start: expected, end: opts.from.pos }));
      if ('position' in opts.stop && opts.stop.position.file === name && expected < opts.stop.position.pos)
        throw missing(segmentName({ stream: name, start: expected, end: opts.stop.position.pos }));
      files.push(file);
      if (done) break;
      const later = lastFile !== undefined && compareBinlogNames(lastFile, name) > 0;
      if (!later) break;
      // A later file exists, so this one must have ended in a rotate: anything after is a gap.
      if (!final) throw missing(`${name} from byte ${expected} to its end`);
      name = nextBinlogName(name);
      if (name && !byFile.has(name)) throw missing(`${name} (the whole file)`);
    }
    if ('position' in opts.stop && !done)
      throw missing(`${opts.stop.position.file} up to byte ${opts.stop.position.pos}`);
  } catch (error) {
    await cleanup();
    throw error;
  }
  opts.log.info(
    'restore.binlog-checked',
    `${files.reduce((n, f) => n + f.segments.length, 0)} log segments in ${files.length} binlog files checked`,
  );
  return { files, reachesUntil, dir, cleanup };
}

/** UTC "YYYY-MM-DD HH:MM:SS", rounded down to the second, as mariadb-binlog reads it with TZ=UTC. */
export function binlogDatetime(time: Date): string {
  return new Date(Math.floor(time.getTime() / 1000) * 1000).toISOString().replace('T', ' ').slice(0, 19);
}

/** Replays a checked plan into `target` (which already holds the dump). */
export async function replayBinlog(opts: {
  plan: ReplayPlan;
  key: EncryptionKey;
  engine: 'mariadb' | 'mysql';
  target: DatabaseTarget;
  /** the database the dump and the log are of (the log also holds every other database's changes) */
  sourceDatabase: string;
  from: LogPosition;
  stop: ReplayStop;
  engineOptions?: EngineOptions;
}): Promise<{ logBytes: number }> {
  const access = mysqlAccess(opts.engine, opts.engineOptions);
  const binlogTool = await selectMysqlTool(
    access.toolHost,
    opts.engine === 'mariadb' ? ['mariadb-binlog', 'mysqlbinlog'] : ['mysqlbinlog', 'mariadb-binlog'],
  );
  const client = await selectMysqlTool(access.toolHost, access.prefer.client);
  const running = startTool(
    await access.specFor(opts.target, client, [
      '--connect-timeout=15',
      '--batch',
      `--database=${opts.target.database}`,
    ]),
    'pipe',
  );
  running.stdout.resume();
  const stdin = running.stdin!;
  stdin.on('error', () => {}); // the client's exit status tells
  let logBytes = 0;
  try {
    const { files } = opts.plan;
    for (const [index, file] of files.entries()) {
      const args: string[] = [`--database=${opts.sourceDatabase}`];
      if (opts.sourceDatabase !== opts.target.database)
        args.push(`--rewrite-db=${opts.sourceDatabase}->${opts.target.database}`);
      if (index === 0) args.push(`--start-position=${opts.from.pos}`);
      if ('time' in opts.stop) args.push(`--stop-datetime=${binlogDatetime(opts.stop.time)}`);
      if ('position' in opts.stop && index === files.length - 1)
        args.push(`--stop-position=${opts.stop.position.pos}`);
      args.push('-');
      const decoder = startTool(
        {
          tool: binlogTool.name,
          path: binlogTool.path,
          args,
          env: { TZ: 'UTC' },
          errorLine: /^ERROR:/,
          explain: () => undefined,
          spawn: access.spawn,
        },
        'pipe',
      );
      decoder.stdout.pipe(stdin, { end: false });
      decoder.stdin!.on('error', () => {}); // it stops reading at the stop point: expected
      for (const segment of file.segments) {
        const { log } = await decodeSegment(await readFile(segment.path), opts.key, segment.ref);
        logBytes += log.length;
        if (!decoder.stdin!.write(log))
          await new Promise((r) => decoder.stdin!.once('drain', r).once('close', r));
      }
      decoder.stdin!.end();
      await Promise.all([decoder.done, new Promise((r) => decoder.stdout.once('end', r))]);
      decoder.stdout.unpipe(stdin);
    }
    stdin.end();
    await running.done;
  } catch (error) {
    running.kill('SIGKILL');
    await running.done.catch(() => {});
    throw error;
  }
  return { logBytes };
}
