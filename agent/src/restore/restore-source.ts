// `resistro restore` for the sources whose backups are files: a SQLite database written to a file,
// a Redis snapshot (and AOF) written into a folder with how to restart Redis on it, a directory
// tree (or chosen paths of it) unpacked into a folder.
import { isAbsolute, resolve } from 'node:path';
import type { CommandInput } from '../command.ts';
import { type DatabaseTarget, EngineError, type EngineName, getEngine } from '../engines/index.ts';
import { UsageError } from '../errors.ts';
import type { EncryptionKey } from '../format/index.ts';
import { FormatError } from '../format/index.ts';
import { formatBytes, formatDuration, type Logger } from '../log.ts';
import { createProgress } from '../progress.ts';
import { openSqlStream } from './restore.ts';

export async function restoreSource(o: {
  engineName: EngineName;
  path: string;
  key: EncryptionKey;
  size: number;
  options: CommandInput['options'];
  log: Logger;
  signal: AbortSignal;
  out: (s: string) => void;
}): Promise<number> {
  const { engineName, options, log } = o;
  const targetFile = options['target-file'] as string | undefined;
  const targetDir = options['target-dir'] as string | undefined;
  const paths = (options.path as string[] | undefined) ?? [];
  let target: DatabaseTarget;
  let where: string;
  if (engineName === 'sqlite') {
    if (!targetFile)
      throw new UsageError(
        'this is a SQLite backup: restore it with --target-file <path of the database file>',
        'Example: resistro restore --file b.resistro --target-file /srv/app/restored.sqlite',
      );
    where = resolve(targetFile);
    target = {
      engine: 'sqlite',
      host: 'localhost',
      port: 0,
      database: where,
      user: '',
      source: { kind: 'sqlite', path: where },
    };
  } else {
    if (!targetDir)
      throw new UsageError(
        `this is a ${engineName === 'redis' ? 'Redis' : 'directory'} backup: restore it with --target-dir <folder>`,
        'The folder is created if needed; it must be empty unless you add --replace.',
      );
    where = resolve(targetDir);
    target = { engine: engineName, host: 'localhost', port: 0, database: where, user: '' };
  }
  if (paths.length > 0 && engineName !== 'directory')
    throw new UsageError('--path chooses paths of a directory backup only', 'Leave --path out.');
  for (const p of paths)
    if (!isAbsolute(p))
      throw new UsageError(
        `--path ${p} must be absolute, as it was backed up`,
        'Example: --path /srv/uploads/2026',
      );

  const started = performance.now();
  const restoring = createProgress(log, `restoring to ${where}`, o.size);
  let bytes = 0;
  const input = await openSqlStream(o.path, o.key, {
    onFileBytes: (n) => restoring.add(n),
    onSqlBytes: (n) => {
      bytes += n;
    },
  });
  const onAbort = () => input.destroy(o.signal.reason as Error);
  o.signal.addEventListener('abort', onAbort, { once: true });
  let report: { notes: string[] } | undefined;
  try {
    report =
      (await getEngine(engineName).restore(target, input, {
        replace: Boolean(options.replace),
        targetDir: where,
        ...(paths.length > 0 && { paths }),
      })) ?? undefined;
  } catch (error) {
    if (error instanceof EngineError && error.code === 'input_failed' && error.cause instanceof FormatError)
      throw error.cause;
    throw error;
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    restoring.done();
  }
  const ms = performance.now() - started;
  log.info('restore.done', `restored ${formatBytes(bytes)} to ${where} in ${formatDuration(ms)}`, {
    durationMs: Math.round(ms),
  });
  o.out(`restored ${o.path} (${engineName}) to ${where}\n`);
  for (const note of report?.notes ?? []) o.out(`${note}\n`);
  return 0;
}
