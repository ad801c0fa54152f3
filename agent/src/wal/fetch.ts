// `resistro wal-fetch %f %p`: PostgreSQL's restore_command during a point-in-time restore. Fetches
// one WAL file from storage, checks its checksum, decrypts it and writes it where PostgreSQL asks.
// Exit codes follow restore_command's rules: 0 the file is there; 1 no such file (PostgreSQL then
// ends recovery normally, e.g. past the archive's end or for a history file that never existed);
// 255 (above 125, which PostgreSQL treats as fatal) for a file the plan needs that is missing or
// damaged: recovery stops naming it, never silently early.
import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { ApiClientError } from '@resistro/contract';
import type { EncryptionKey } from '../format/index.ts';
import type { AgentApi } from '../upload/client.ts';
import type { Manifest } from './restore.ts';
import { decodeWal } from './segment.ts';

export const FETCH_OK = 0;
export const FETCH_NOT_FOUND = 1;
export const FETCH_FATAL = 255;

export async function walFetch(opts: {
  api: AgentApi;
  key: EncryptionKey;
  databaseId: string;
  manifestPath: string;
  file: string;
  dest: string;
  say: (line: string) => void;
}): Promise<number> {
  const manifest: Manifest = JSON.parse(await readFile(opts.manifestPath, 'utf8'));
  const planned = manifest.segments.find((s) => s.name === opts.file);
  const fatal = (why: string) => {
    opts.say(`resistro wal-fetch: WAL segment ${opts.file} ${why}; recovery stops here`);
    return FETCH_FATAL;
  };
  let found: Awaited<ReturnType<AgentApi['pitrSegment']>>;
  try {
    found = await opts.api.pitrSegment(opts.databaseId, opts.file);
  } catch (error) {
    if (error instanceof ApiClientError && error.code === 'not_found')
      return planned ? fatal('is missing from the registry') : FETCH_NOT_FOUND;
    return fatal(`could not be fetched: ${(error as Error).message}`);
  }
  const res = await fetch(found.url).catch((e: Error) => e);
  if (res instanceof Error) return fatal(`could not be downloaded: ${res.message}`);
  if (res.status === 404) return fatal('is missing from storage');
  if (!res.ok) return fatal(`could not be downloaded (storage answered ${res.status})`);
  const bytes = Buffer.from(await res.arrayBuffer());
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const expected = planned?.sha256 ?? found.segment.sha256;
  if (sha256 !== found.segment.sha256 && sha256 !== expected) return fatal('is damaged (checksum differs)');
  let wal: Buffer;
  try {
    wal = await decodeWal(bytes, opts.key, opts.file);
  } catch (error) {
    return fatal(`is damaged: ${(error as Error).message}`);
  }
  const tmp = `${opts.dest}.resistro-${process.pid}`;
  await writeFile(tmp, wal, { mode: 0o600 });
  await rename(tmp, opts.dest);
  return FETCH_OK;
}
