// Where encrypted log segments go and come back from. The control plane's presigned batches are
// one implementation (control-plane-store.ts); a directory is the other: a customer's own copy of
// the segments (e.g. synced from the bucket), the tests and the benchmark.
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareBinlogNames, parseBinlogName } from './events.ts';
import type { LogSegmentMeta } from './segment-file.ts';

export type SegmentRef = Pick<LogSegmentMeta, 'stream' | 'start' | 'end'> &
  Partial<Pick<LogSegmentMeta, 'firstEventAt' | 'lastEventAt' | 'final'>> & {
    /** the store's own handle (object key, file name) */
    id: string;
  };

export interface SegmentStore {
  /** Stores one encrypted segment durably; rejects when it could not (the streamer retries). */
  put(meta: LogSegmentMeta, file: { bytes: Buffer; sha256: string }): Promise<void>;
}

export interface SegmentSource {
  /** every segment the store knows of, in log order */
  list(): Promise<SegmentRef[]>;
  /** the encrypted bytes of one segment; rejects (naming it) when it is gone */
  fetch(ref: SegmentRef): Promise<Buffer>;
}

const FILE_NAME = /^(.+)\.(\d+)-(\d+)\.resistro$/;

export function segmentFileName(meta: Pick<LogSegmentMeta, 'stream' | 'start' | 'end'>): string {
  return `${meta.stream}.${meta.start}-${meta.end}.resistro`;
}

export function sortSegments<T extends Pick<SegmentRef, 'stream' | 'start'>>(refs: T[]): T[] {
  return refs.sort((a, b) => compareBinlogNames(a.stream, b.stream) || a.start - b.start);
}

/** Segments as files in one directory, named <binlog file>.<start>-<end>.resistro. */
export function directoryStore(dir: string): SegmentStore & SegmentSource {
  return {
    async put(meta, file) {
      await mkdir(dir, { recursive: true });
      const name = segmentFileName(meta);
      const temporary = join(dir, `.${name}.partial`);
      await writeFile(temporary, file.bytes, { mode: 0o600 });
      await rename(temporary, join(dir, name));
    },
    async list() {
      const refs: SegmentRef[] = [];
      for (const name of await readdir(dir)) {
        const match = FILE_NAME.exec(name);
        if (!match || !parseBinlogName(match[1]!)) continue;
        refs.push({ id: name, stream: match[1]!, start: Number(match[2]), end: Number(match[3]) });
      }
      return sortSegments(refs);
    },
    fetch: (ref) => readFile(join(dir, ref.id)),
  };
}
