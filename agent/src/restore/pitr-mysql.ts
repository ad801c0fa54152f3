// `resistro restore --pitr` for MySQL/MariaDB: a dump, then the binary log from the dump's position
// up to the target, in one command. Order matters because MySQL cannot roll back DDL: every log
// segment the target needs is fetched and checked before anything is written, then the dump is
// checked and restored (restoreFile), then the log is replayed.

import { prepareReplay, type ReplayStop, replayBinlog } from '../binlog/replay.ts';
import type { SegmentSource } from '../binlog/store.ts';
import type { DatabaseTarget } from '../engines/engine.ts';
import { type LogPosition, parseLogPosition } from '../engines/mysql-log-position.ts';
import { UserError } from '../errors.ts';
import type { EncryptionKey } from '../format/index.ts';
import { formatBytes, type Logger } from '../log.ts';
import { restoreFile } from './into-database.ts';
import { peekBackupFile } from './restore.ts';

export type MysqlPitrOptions = {
  /** the dump to start from (a local .resistro file) */
  dumpPath: string;
  dumpSize: number;
  key: EncryptionKey;
  target: DatabaseTarget & { engine: 'mysql' | 'mariadb' };
  source: SegmentSource;
  stop: ReplayStop;
  replace: boolean;
  log: Logger;
  signal: AbortSignal;
};

/** Where the dump stands in the binlog and which database it is of, from its first lines. */
export async function dumpStart(
  path: string,
  key: EncryptionKey,
): Promise<{ position: LogPosition; database: string }> {
  const { head } = await peekBackupFile(path, key);
  const position = parseLogPosition(head, '');
  const database = /^-- Host: .*\bDatabase: (.+)$/m.exec(head)?.[1]?.trim();
  if (!position || !database) {
    throw new UserError(
      'this backup does not record where it stands in the binary log',
      'Point-in-time recovery needs a dump taken while the server wrote a binary log (log_bin), by a current resistro agent. Take a new backup, then restore to a time after it.',
      { code: 'no_log_position' },
    );
  }
  return { position, database };
}

export async function restoreMysqlToPoint(
  o: MysqlPitrOptions,
): Promise<{ logBytes: number; reachesUntil: number }> {
  const start = await dumpStart(o.dumpPath, o.key);
  if ('time' in o.stop && o.stop.time.getTime() > Date.now())
    throw new UserError(
      `the target time ${o.stop.time.toISOString()} is in the future`,
      'Give a time in the past, or --latest for everything stored.',
      { code: 'target_in_future' },
    );
  o.log.info(
    'restore.pitr',
    `dump of "${start.database}" stands at ${start.position.file}:${start.position.pos}; checking the binary log up to ${describeStop(o.stop)}`,
  );
  const plan = await prepareReplay({
    source: o.source,
    key: o.key,
    from: start.position,
    stop: o.stop,
    log: o.log,
  });
  try {
    if ('time' in o.stop && plan.reachesUntil < Math.floor(o.stop.time.getTime() / 1000)) {
      o.log.warn(
        'restore.pitr-short',
        `the newest stored change is from ${new Date(plan.reachesUntil * 1000).toISOString()}; nothing after it is in storage`,
        {
          hint: 'If the database was written to after that, the agent may be behind: check its lag in the dashboard.',
        },
      );
    }
    await restoreFile({
      path: o.dumpPath,
      size: o.dumpSize,
      key: o.key,
      target: o.target,
      replace: o.replace,
      jobs: 1,
      log: o.log,
      signal: o.signal,
    });
    o.signal.throwIfAborted();
    const { logBytes } = await replayBinlog({
      plan,
      key: o.key,
      engine: o.target.engine,
      target: o.target,
      sourceDatabase: start.database,
      from: start.position,
      stop: o.stop,
    });
    o.log.info(
      'restore.pitr-replayed',
      `replayed ${formatBytes(logBytes)} of binary log up to ${describeStop(o.stop)}`,
      {
        logBytes,
      },
    );
    return { logBytes, reachesUntil: plan.reachesUntil };
  } finally {
    await plan.cleanup();
  }
}

export function describeStop(stop: ReplayStop): string {
  if ('time' in stop) return stop.time.toISOString();
  if ('position' in stop) return `${stop.position.file}:${stop.position.pos}`;
  return 'the newest stored change';
}
