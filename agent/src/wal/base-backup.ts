// A PostgreSQL base backup for point-in-time recovery: `pg_basebackup` writes the cluster as one
// tar to stdout, which the ordinary backup job compresses, encrypts and uploads in parts exactly
// as it does a dump (no plaintext on disk). Its WAL is not included (-X none): the WAL streamer
// archives it through the replication slot. pg_basebackup's --verbose lines give the range the
// backup covers; once the backup is complete it is registered as a base backup with that range.
import { spawn } from 'node:child_process';
import type { DatabaseWork } from '@resistro/contract';
import { runBackupJob } from '../backup/job.ts';
import type { AgentContext } from '../context.ts';
import { DumpError, type DumpProcess, type Engine } from '../engines/engine.ts';
import { getEngine } from '../engines/index.ts';
import { TailBuffer } from '../engines/process.ts';
import { UserError } from '../errors.ts';
import { parseLsn, pgBin, pgEnv, psqlRow, walName } from './tools.ts';

export type BaseRange = { timeline: string; start: number; end: number; consistentAt: Date };

/** Where the server's WAL stands now, and on which timeline (8 hex digits). */
const POSITION_SQL = 'select pg_current_wal_lsn(), (select timeline_id from pg_control_checkpoint())';

async function walPosition(t: Parameters<typeof psqlRow>[0], binDir?: string) {
  const [lsn, timeline] = await psqlRow(t, POSITION_SQL, binDir);
  return { lsn: parseLsn(lsn ?? ''), timeline: Number(timeline).toString(16).toUpperCase().padStart(8, '0') };
}

function failure(message: string, exitCode: number | null, signal: NodeJS.Signals | null, stderr: string) {
  return new DumpError(
    'tool_failed',
    message,
    'Check that the database user may replicate (REPLICATION attribute) and that pg_hba.conf allows a replication connection from this host.',
    { tool: 'pg_basebackup', exitCode, signal, stderr },
  );
}

/** The postgres engine with its dump replaced by pg_basebackup's tar stream. */
export function baseBackupEngine(range: { value?: BaseRange }, binDir?: string): Engine {
  const postgres = getEngine('postgres');
  return {
    ...postgres,
    parallelDump: undefined,
    async dump(t): Promise<DumpProcess> {
      const tool = pgBin('pg_basebackup', binDir);
      // The range registered is taken around the backup: a start at or before its checkpoint and an
      // end at or after its end point. Wider than exact only asks recovery for a little more WAL,
      // which the slot (created before) has kept; recovery itself reads the true range from the
      // backup_label inside the tar. (pg_basebackup prints its range only when it fetches WAL.)
      const before = await walPosition(t, binDir);
      // -D - -Ft: one tar on stdout; -X none: WAL comes from the streamer; fast checkpoint: start now
      const args = ['-h', t.host, '-p', String(t.port), '-U', t.user, '-D', '-', '-Ft', '-X', 'none'];
      args.push('--checkpoint=fast', '--verbose', '--no-password', '--label=resistro');
      const child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'], env: pgEnv(t) });
      const tail = new TailBuffer();
      child.stderr.on('data', (b: Buffer) => tail.push(b));
      const done = new Promise<void>((resolve, reject) => {
        child.once('error', (e) =>
          reject(failure(`pg_basebackup could not start: ${e.message}`, null, null, '')),
        );
        child.once('close', (code, signal) => {
          if (code !== 0) {
            const text = tail.toString();
            reject(
              failure(
                `pg_basebackup failed (${signal ?? `exit ${code}`}): ${text.trim().slice(-1500)}`,
                code,
                signal,
                text,
              ),
            );
            return;
          }
          walPosition(t, binDir).then(
            (after) => {
              range.value = {
                timeline: after.timeline,
                start: before.lsn,
                end: after.lsn,
                consistentAt: new Date(),
              };
              resolve();
            },
            (e: Error) =>
              reject(
                failure(`the WAL position after the base backup is unknown: ${e.message}`, null, null, ''),
              ),
          );
        });
      });
      done.catch(() => {});
      return { stdout: child.stdout, done, kill: () => child.kill('SIGTERM'), pid: child.pid };
    },
  };
}

/**
 * Takes a base backup of `work`'s cluster through the backup job and registers it. Throws a
 * UserError when the backup fails (the job already reported it to the control plane).
 */
export async function takeBaseBackup(
  ctx: AgentContext,
  work: DatabaseWork,
  opts: { segmentSize: number; binDir?: string },
): Promise<{ backupId: string; range: BaseRange }> {
  const range: { value?: BaseRange } = {};
  const outcome = await runBackupJob(ctx, work, {
    trigger: 'manual',
    engine: () => baseBackupEngine(range, opts.binDir),
  });
  if (outcome.status !== 'succeeded' || !range.value) {
    const why = outcome.status === 'failed' ? (outcome.error as Error).message : outcome.status;
    throw new UserError(
      `The base backup of "${work.name}" failed: ${why}`,
      'Check that the database user may replicate (REPLICATION attribute) and that pg_hba.conf allows a replication connection from this host.',
    );
  }
  const r = range.value;
  await ctx.api.registerBaseBackup(work.id, {
    backupId: outcome.backupId,
    stream: r.timeline,
    startPosition: formatRange(r.start),
    endPosition: formatRange(r.end),
    startOffset: r.start,
    endOffset: r.end,
    firstSegment: walName(r.timeline, r.start, opts.segmentSize),
    consistentAt: r.consistentAt.toISOString(),
  });
  return { backupId: outcome.backupId, range: r };
}

function formatRange(lsn: number): string {
  return `${Math.floor(lsn / 2 ** 32)
    .toString(16)
    .toUpperCase()}/${(lsn % 2 ** 32).toString(16).toUpperCase()}`;
}
