// `resistro restore --pitr` for MySQL/MariaDB backups: the dump (--file, or --backup from the
// service), then the binary log's segments (--segments DIR) replayed to --time, --position or
// --latest. See restore/pitr-mysql.ts for the order of the steps and why.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_PORTS } from '@resistro/contract';
import { binlogOffset, planSegmentSource } from '../binlog/plane-store.ts';
import type { ReplayStop } from '../binlog/replay.ts';
import { directoryStore } from '../binlog/store.ts';
import type { CommandInput } from '../command.ts';
import { createAgentContext, findDatabase } from '../context.ts';
import { heartbeat } from '../daemon/heartbeat.ts';
import { UsageError } from '../errors.ts';
import type { EncryptionKey } from '../format/index.ts';
import { checkInputFile } from '../input-file.ts';
import { decryptionKey } from '../key-file.ts';
import { downloadBackup } from '../restore/download.ts';
import { describeStop, type MysqlPitrOptions, restoreMysqlToPoint } from '../restore/pitr-mysql.ts';
import { parseLogPositionOption, parseTargetTime } from '../restore/target-time.ts';
import { passwordFor } from './restore.ts';

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

/**
 * `--pitr --from <database>`: the control plane picks the newest dump consistent before the target
 * and every log segment up to it (or refuses, naming a gap); the agent downloads the dump, checks
 * every segment, restores, replays.
 */
export async function runPitrFromPlane(input: CommandInput): Promise<number> {
  const { options, config, log, env, signal, out } = input;
  const stop = parseStop(options, log);
  const database = options.database as string | undefined;
  const user = options.user as string | undefined;
  if (!database || !user)
    throw new UsageError(
      'restore --pitr needs --database <name> and --user <user>',
      'The database is the (empty) one the dump and the log are restored into.',
    );
  const ctx = await createAgentContext(config, log);
  const from = String(options.from);
  let databaseId = from;
  if (!UUID.test(from)) {
    const work = findDatabase((await heartbeat(ctx)).databases, from);
    if (!work)
      throw new UsageError(
        `this agent has no database "${from}"`,
        'Give the database id from the dashboard (Databases → the database), or a name `resistro status` lists.',
      );
    databaseId = work.id;
  }
  const query =
    'time' in stop
      ? { time: stop.time.toISOString() }
      : 'position' in stop
        ? { offset: binlogOffset(stop.position.file, stop.position.pos) }
        : { latest: 'true' as const };
  const plan = await ctx.api.pitrRestorePlan(databaseId, query);
  const engine = plan.engine;
  if (engine !== 'mariadb' && engine !== 'mysql')
    throw new UsageError(
      `database ${from} is ${plan.engine}; this form of restore --pitr is for MySQL/MariaDB`,
      'Run "resistro restore --help" for point-in-time recovery of PostgreSQL.',
    );
  log.info(
    'restore.pitr-plan',
    `starting from the dump of ${plan.baseBackup.consistentAt} (${plan.baseBackup.endPosition}); ${plan.segments.length} log segments to ${describeStop(stop)}`,
    { backupId: plan.baseBackup.backupId, segments: plan.segments.length },
  );
  const dir = await mkdtemp(join(tmpdir(), 'resistro-pitr-'));
  try {
    const path = await downloadBackup(plan.baseBackup.backupId, dir, ctx.api, log, signal);
    const password = await passwordFor(engine, env, Boolean(options['no-password']));
    const port = options.port as string | undefined;
    const target: MysqlPitrOptions['target'] = {
      engine,
      host: (options.host as string | undefined) ?? 'localhost',
      port: port ? Number(port) : DEFAULT_PORTS[engine],
      database,
      user,
      password,
    };
    const result = await restoreMysqlToPoint({
      dumpPath: path,
      dumpSize: await checkInputFile(path),
      key: decryptionKey(config, options['key-file'] as string | undefined),
      target,
      source: planSegmentSource(plan),
      stop,
      replace: Boolean(options.replace),
      log,
      signal,
    });
    out(
      `restored database ${from} to ${describeStop(stop)} into ${plan.engine} ${target.host}:${target.port}/${target.database} (dump ${plan.baseBackup.backupId} and ${plan.segments.length} log segments, ${result.logBytes} bytes of binlog replayed)\n`,
    );
    return 0;
  } finally {
    ctx.agents.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
