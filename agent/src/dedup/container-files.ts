// `resistro decrypt` and `resistro verify` of a version 3 (deduplicated) file: the same promises as
// for versions 1 and 2 (format/files.ts): the key is checked before anything is created, the output
// (mode 0600) appears only after every chunk authenticated.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EncryptionKey, FileHeader } from '../format/index.ts';
import { CONTAINER_VERSION, containerHeader, openContainer, readContainerSql } from './container.ts';

export type ContainerResult = { header: FileHeader; sqlBytes: number; chunks: number; sections: number };

async function summary(path: string, key: EncryptionKey) {
  const c = await openContainer(path, key); // the key, and the manifest, first
  await c.fh.close();
  return {
    header: { ...(await containerHeader(path)), version: CONTAINER_VERSION },
    chunks: c.manifest.sections.reduce((n, s) => n + s.chunks.length, 0),
    sections: c.manifest.sections.length,
  };
}

export async function decryptContainerFile(
  inPath: string,
  outPath: string,
  key: EncryptionKey,
  onBytes?: (n: number) => void,
): Promise<ContainerResult> {
  const info = await summary(inPath, key);
  const temporary = `${outPath}.${randomBytes(6).toString('hex')}.partial`;
  // SECURITY: a plaintext database dump: its owner only, created exclusively.
  const output = createWriteStream(temporary, { flags: 'wx', mode: 0o600, flush: true });
  let sqlBytes = 0;
  try {
    await pipeline(
      readContainerSql(inPath, key, {
        ...(onBytes && { onFileBytes: onBytes }),
        onSqlBytes: (n) => (sqlBytes += n),
      }),
      output,
    );
    await rename(temporary, outPath);
    return { ...info, sqlBytes };
  } catch (error) {
    output.destroy();
    await rm(temporary, { force: true });
    throw error;
  }
}

export async function verifyContainerFile(
  path: string,
  key: EncryptionKey,
  onBytes?: (n: number) => void,
): Promise<ContainerResult> {
  const info = await summary(path, key);
  let sqlBytes = 0;
  await pipeline(
    readContainerSql(path, key, {
      ...(onBytes && { onFileBytes: onBytes }),
      onSqlBytes: (n) => (sqlBytes += n),
    }),
    new Writable({
      write(_chunk, _e, cb) {
        cb();
      },
    }),
  );
  return { ...info, sqlBytes };
}
