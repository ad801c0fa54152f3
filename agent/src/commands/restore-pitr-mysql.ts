// `resistro restore --pitr` for MySQL/MariaDB backups: the dump (--file, or --backup from the
// service), then the binary log's segments (--segments DIR) replayed to --time, --position or
// --latest. See restore/pitr-mysql.ts for the order of the steps and why.
import { resolve } from 'node:path';
import { DEFAULT_PORTS } from '@resistro/contract';
import type { ReplayStop } from '../binlog/replay.ts';
import { directoryStore } from '../binlog/store.ts';
import type { CommandInput } from '../command.ts';
import { UsageError } from '../errors.ts';
import type { EncryptionKey } from '../format/index.ts';
import { checkInputFile } from '../input-file.ts';
import { describeStop, restoreMysqlToPoint } from '../restore/pitr-mysql.ts';
import { parseLogPositionOption, parseTargetTime } from '../restore/target-time.ts';

/** --time | --position | --latest: exactly one. */
export function parseStop(options: CommandInput['options'], log: CommandInput['log']): ReplayStop {
  const given = [options.time !== undefined, options.position !== undefined, options.latest === true].filter(
    Boolean,
  );
  if (given.length !== 1)
    throw new UsageError(
      'restore --pitr needs exactly one of --time "<date time>", --position <file:pos> or --latest',
      'Example: resistro restore --pitr --time "2026-12-01 15:30:00+01" --file dump.resistro --segments ./binlog …',
    );
  if (options.latest === true) return { latest: true };
  if (options.position !== undefined) return { position: parseLogPositionOption(String(options.position)) };
  const { time, zoneGiven } = parseTargetTime(String(options.time));
  if (!zoneGiven)
    log.info(
      'restore.pitr-time',
      `--time has no zone: read as this machine's local time, ${time.toISOString()}`,
    );
  return { time };
}

export async function runMysqlPitr(
  input: CommandInput,
  dump: { path: string; engine: 'mysql' | 'mariadb'; key: EncryptionKey; password: string | undefined },
): Promise<number> {
  const { options, log, signal, out } = input;
  const stop = parseStop(options, log);
  const segments = options.segments as string | undefined;
  if (!segments)
    throw new UsageError(
      'restore --pitr needs --segments <directory> with the binary log segments',
      "Point it at a copy of the database's log segments (files named <binlog>.<start>-<end>.resistro).",
    );
  const database = options.database as string;
  const port = options.port as string | undefined;
  const target = {
    engine: dump.engine,
    host: (options.host as string | undefined) ?? 'localhost',
    port: port ? Number(port) : DEFAULT_PORTS[dump.engine],
    database,
    user: options.user as string,
    password: dump.password,
  };
  const size = await checkInputFile(dump.path);
  const result = await restoreMysqlToPoint({
    dumpPath: dump.path,
    dumpSize: size,
    key: dump.key,
    target,
    source: directoryStore(resolve(segments)),
    stop,
    replace: Boolean(options.replace),
    log,
    signal,
  });
  out(
    `restored ${dump.path} and the binary log up to ${describeStop(stop)} into ${dump.engine} ${target.host}:${target.port}/${target.database}${result.reachesUntil ? ` (newest change replayed from ${new Date(result.reachesUntil * 1000).toISOString()} or before)` : ''}\n`,
  );
  return 0;
}
