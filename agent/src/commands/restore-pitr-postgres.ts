// `resistro restore --pitr --from <database> --data-dir DIR --time … | --lsn … | --latest
// [--start <PostgreSQL bin folder>] [--port N]`: see wal/restore.ts.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandInput } from '../command.ts';
import { createAgentContext, findDatabase } from '../context.ts';
import { heartbeat } from '../daemon/heartbeat.ts';
import { UsageError, UserError } from '../errors.ts';
import { decryptionKey } from '../key-file.ts';
import { parseTargetTime } from '../restore/target-time.ts';
import { type PgPitrTarget, restorePgToPoint } from '../wal/restore.ts';
import { parseLsn } from '../wal/tools.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parseTarget(options: CommandInput['options'], log: CommandInput['log']): PgPitrTarget {
  const given = [options.time !== undefined, options.lsn !== undefined, options.latest === true].filter(
    Boolean,
  );
  if (given.length !== 1)
    throw new UsageError(
      'restore --pitr --data-dir needs exactly one of --time "<date time>", --lsn <X/Y> or --latest',
      'Example: resistro restore --pitr --from shop --data-dir /var/lib/postgresql/15/restored --time "2026-12-01 15:30:00+01"',
    );
  if (options.latest === true) return { latest: true };
  if (options.lsn !== undefined) {
    const text = String(options.lsn);
    try {
      return { lsn: parseLsn(text), text };
    } catch {
      throw new UsageError(
        `--lsn ${text} is not an LSN`,
        'Write it as PostgreSQL prints it, e.g. 0/3000060.',
      );
    }
  }
  const { time, zoneGiven } = parseTargetTime(String(options.time));
  if (!zoneGiven)
    log.info(
      'restore.pitr-time',
      `--time has no zone: read as this machine's local time, ${time.toISOString()}`,
    );
  return { time };
}

/** Starts the restored cluster and waits until recovery reached its target and promoted. */
async function startAndWait(binDir: string, dataDir: string, port: string | undefined): Promise<string> {
  const logFile = join(dataDir, 'resistro-recovery.log');
  const args = ['-D', dataDir, '-l', logFile, '-w', '-t', '3600', 'start'];
  if (port) args.push('-o', `-p ${Number(port)}`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(join(binDir, 'pg_ctl'), args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`pg_ctl start exited ${code}`)),
    );
  }).catch(async (error: Error) => {
    const tail = await readFile(logFile, 'utf8').catch(() => '');
    throw new UserError(
      `the restored server did not start: ${error.message}\n${tail.slice(-2000)}`,
      'Read the log above; a WAL segment named there is missing or damaged.',
    );
  });
  for (;;) {
    const text = await readFile(logFile, 'utf8').catch(() => '');
    const fatal = /FATAL: +(.*)/.exec(text);
    if (fatal)
      throw new UserError(
        `recovery stopped: ${fatal[1]}`,
        'The log names the WAL segment; restore to a point before it.',
      );
    if (
      /database system is ready to accept connections/.test(text.split('archive recovery complete')[1] ?? '')
    )
      return logFile;
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function runPgPitr(input: CommandInput): Promise<number> {
  const { options, config, log, signal, out } = input;
  const from = options.from as string | undefined;
  const dataDir = options['data-dir'] as string;
  if (!from)
    throw new UsageError(
      'restore --pitr --data-dir needs --from <database id or name>',
      'The database whose WAL is archived.',
    );
  const target = parseTarget(options, log);
  const ctx = await createAgentContext(config, log);
  try {
    let databaseId = from;
    if (!UUID.test(from)) {
      const work = findDatabase((await heartbeat(ctx)).databases, from);
      if (!work)
        throw new UsageError(
          `this agent has no database "${from}"`,
          'Give the database id from the dashboard, or a name `resistro status` lists.',
        );
      databaseId = work.id;
    }
    const { plan } = await restorePgToPoint({
      api: ctx.api,
      databaseId,
      dataDir,
      target,
      key: decryptionKey(config, options['key-file'] as string | undefined),
      log,
      signal,
    });
    const what =
      'time' in target
        ? target.time.toISOString()
        : 'lsn' in target
          ? target.text
          : 'the latest archived point';
    const start = options.start as string | undefined;
    if (start) {
      const logFile = await startAndWait(start, dataDir, options.port as string | undefined);
      out(
        `restored ${from} to ${what} into ${dataDir}; the server runs and has promoted (log: ${logFile})\n`,
      );
    } else {
      out(
        `restored the base backup of ${plan.baseBackup.consistentAt} into ${dataDir}; recovery replays ${plan.segments.length} WAL segments to ${what}.\n` +
          `Start it as the PostgreSQL user (the directory must belong to it), e.g.:\n` +
          `  chown -R postgres: ${dataDir} && runuser -u postgres -- pg_ctl -D ${dataDir} -l ${dataDir}/recovery.log start\n` +
          `The server promotes when it reaches the target; a missing or damaged WAL segment stops it with the segment's name.\n`,
      );
    }
    return 0;
  } finally {
    ctx.agents.destroy();
  }
}
