// The backup file a command reads (--file) and the file decrypt writes (--output), checked before
// any work starts, so that a wrong path gets a message about the path, never about the backup.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError, UserError } from './errors.ts';

/** The size of a readable regular file at `path`. */
export async function checkInputFile(path: string): Promise<number> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT')
      throw new UserError(`there is no file ${path}`, 'Check the path given to --file.', { cause: error });
    if (error.code === 'EACCES')
      throw new UserError(`${path} cannot be read (permission denied)`, 'Run as a user that may read it.', {
        cause: error,
      });
    throw error;
  });
  if (info.isDirectory())
    throw new UsageError(`${path} is a folder, not a backup file`, 'Give --file the .resistro file itself.');
  if (!info.isFile())
    throw new UsageError(
      `${path} is not a regular file`,
      'Download the backup to a file first, then give that file to --file.',
    );
  return info.size;
}

/** Refuses outputs that would destroy something or cannot be written, before decrypting. */
export async function checkOutputFile(path: string, opts: { force: boolean; input: string }): Promise<void> {
  if (path === '-')
    throw new UsageError(
      'decrypt writes a file, not standard output: the file appears only once the whole backup verified',
      'Give --output a file name; to load a backup straight into a database use `resistro restore`.',
    );
  if (resolve(path) === resolve(opts.input))
    throw new UsageError('--output names the backup file itself', 'Choose another name for the plain SQL.');
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory())
    throw new UsageError(`${path} is a folder`, 'Give --output a file name inside it, e.g. shop.sql.');
  if (existing && !opts.force)
    throw new UsageError(
      `${path} exists; decrypt does not overwrite files`,
      'Choose another --output, or add --force to replace it.',
    );
  const folder = dirname(resolve(path));
  await access(folder, constants.W_OK).catch((error: NodeJS.ErrnoException) => {
    throw new UserError(
      error.code === 'ENOENT'
        ? `cannot write ${path}: the folder ${folder} does not exist`
        : `cannot write ${path}: the folder ${folder} is not writable`,
      error.code === 'ENOENT'
        ? 'Create the folder first, or choose another --output.'
        : 'Choose a folder you may write to.',
      { cause: error },
    );
  });
}
