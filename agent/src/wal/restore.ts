// `resistro restore --pitr --from <db> --data-dir DIR --time … | --lsn … | --latest` for
// PostgreSQL: the right base backup (the control plane's plan), decrypted and unpacked into an
// empty data directory, recovery settings that fetch WAL through `resistro wal-fetch` and stop at
// the target, and a manifest of the planned segments. A segment the plan needs that is missing or
// damaged stops recovery with its name (wal-fetch exits with a code PostgreSQL treats as fatal).
import { spawn } from 'node:child_process';
import { chmod, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PitrRestorePlan } from '@resistro/contract';
import { UsageError, UserError } from '../errors.ts';
import { decryptFile, type EncryptionKey } from '../format/index.ts';
import type { Logger } from '../log.ts';
import { downloadBackup } from '../restore/download.ts';
import type { AgentApi } from '../upload/client.ts';

export const MANIFEST = 'resistro-pitr.json';

export type PgPitrTarget = { time: Date } | { lsn: number; text: string } | { latest: true };

export type Manifest = {
  databaseId: string;
  timeline: string;
  /** every segment the plan lists, in order, with its ciphertext checksum */
  segments: { name: string; sha256: string }[];
};

/** The shell command PostgreSQL runs for each WAL file: this program's own wal-fetch. */
export function walFetchCommand(databaseId: string, manifestPath: string): string {
  // node + script when run from source, the single executable otherwise
  const script = process.argv[1];
  const self =
    script && /\.(ts|js|mjs)$/.test(script)
      ? [process.execPath, '--no-warnings', script]
      : [process.execPath];
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const args = [
    'wal-fetch',
    '--database',
    databaseId,
    '--manifest',
    quote(manifestPath),
    '--file',
    '"%f"',
    '--dest',
    '"%p"',
  ];
  return [...self.map(quote), ...args].join(' ');
}

function conf(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function recoverySettings(
  plan: PitrRestorePlan,
  target: PgPitrTarget,
  restoreCommand: string,
): string {
  const lines = [
    '# written by resistro restore --pitr',
    `restore_command = ${conf(restoreCommand)}`,
    `recovery_target_timeline = ${conf(String(Number.parseInt(plan.baseBackup.stream, 16)))}`,
    "recovery_target_action = 'promote'",
  ];
  // PostgreSQL's own notation: it refuses ISO 8601's "T…Z" here
  const pgTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '+00');
  if ('time' in target) lines.push(`recovery_target_time = ${conf(pgTime(target.time))}`);
  else if ('lsn' in target) lines.push(`recovery_target_lsn = ${conf(target.text)}`);
  else lines.push('# latest: recovery runs to the end of the archived WAL');
  return `${lines.join('\n')}\n`;
}

async function ensureEmptyDir(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (info && !info.isDirectory())
    throw new UsageError(`${dir} is not a directory`, 'Give --data-dir a new or empty directory.');
  if (info && (await readdir(dir)).length > 0)
    throw new UsageError(
      `${dir} is not empty`,
      'A point-in-time restore writes a whole new data directory: give a new or empty one, never the running cluster’s.',
    );
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

function untar(tarPath: string, dir: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('tar', ['-x', '-f', tarPath, '-C', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolvePromise()
        : reject(
            new UserError(
              `unpacking the base backup failed: ${err.trim()}`,
              'Check the free space of the data directory.',
            ),
          ),
    );
  });
}

export async function restorePgToPoint(opts: {
  api: AgentApi;
  databaseId: string;
  dataDir: string;
  target: PgPitrTarget;
  key: EncryptionKey;
  log: Logger;
  signal: AbortSignal;
}): Promise<{ plan: PitrRestorePlan; dataDir: string }> {
  const dataDir = resolve(opts.dataDir);
  const query =
    'time' in opts.target
      ? { time: opts.target.time.toISOString() }
      : 'lsn' in opts.target
        ? { offset: opts.target.lsn }
        : { latest: 'true' as const };
  // the plan first: a gap or a target outside the window refuses before anything is written
  const plan = await opts.api.pitrRestorePlan(opts.databaseId, query);
  if (plan.engine !== 'postgres')
    throw new UsageError(
      `this database is ${plan.engine}; --data-dir is for PostgreSQL`,
      'For MySQL/MariaDB give --database and --user instead (resistro restore --help).',
    );
  await ensureEmptyDir(dataDir);
  const work = join(tmpdir(), `resistro-pitr-${process.pid}-${Date.now()}`);
  await mkdir(work, { recursive: true, mode: 0o700 });
  try {
    opts.log.info(
      'restore.pitr-plan',
      `base backup of ${plan.baseBackup.consistentAt} (${plan.baseBackup.startPosition}), then ${plan.segments.length} WAL segments`,
      { backupId: plan.baseBackup.backupId, segments: plan.segments.length },
    );
    const file = await downloadBackup(plan.baseBackup.backupId, work, opts.api, opts.log, opts.signal);
    const tar = join(work, 'base.tar');
    await decryptFile(file, tar, opts.key, { decompress: true });
    await rm(file, { force: true });
    await untar(tar, dataDir);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const manifest: Manifest = {
    databaseId: opts.databaseId,
    timeline: plan.baseBackup.stream,
    segments: plan.segments.map((s) => ({ name: s.name, sha256: s.sha256 })),
  };
  const manifestPath = join(dataDir, MANIFEST);
  await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  const settings = recoverySettings(plan, opts.target, walFetchCommand(opts.databaseId, manifestPath));
  await writeFile(join(dataDir, 'postgresql.auto.conf'), settings, { flag: 'a', mode: 0o600 });
  await writeFile(join(dataDir, 'recovery.signal'), '', { mode: 0o600 });
  return { plan, dataDir };
}
