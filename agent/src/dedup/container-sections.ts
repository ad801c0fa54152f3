// The sections of a version 3 file (FORMAT.md §13.7) read one by one, for a parallel restore of a
// downloaded deduplicated backup (restore --file): each section's records lie back to back, so
// where each begins follows from the manifest's blob lengths alone. Every record is checked as the
// single-stream reader checks it (its length against the manifest, then its blob under the chunk's
// key and id) before anything of it goes on; the file's length must be exactly what the manifest
// says, or it is refused before any section is read.
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { ChunkCorruptError, type EncryptionKey, TrailingDataError, TruncatedError } from '../format/index.ts';
import { chunkLabel, openContainer, openRef, openRefFrame } from './container.ts';
import type { Manifest } from './manifest.ts';

/** how much of the file one read takes in (many records at once) */
const READ_WINDOW = 1 << 20;

export type ContainerSections = {
  manifest: Manifest;
  /** bytes before the first record (prefix and manifest) */
  bodyStart: number;
  /** section `index`'s plaintext; `frames`: each chunk as a zstd frame (blob.ts openChunkFrame) */
  read(index: number, o: { frames: boolean; onFileBytes?: (n: number) => void }): Readable;
};

export async function openContainerSections(path: string, key: EncryptionKey): Promise<ContainerSections> {
  const c = await openContainer(path, key);
  await c.fh.close();
  const { manifest } = c;
  const starts: number[] = [];
  let pos = c.bodyStart;
  for (const s of manifest.sections) {
    starts.push(pos);
    pos += s.chunks.reduce((n, ref) => n + 4 + ref[3], 0);
  }
  if (pos > c.size) throw new TruncatedError(`the file ends ${pos - c.size} bytes before its last chunk`);
  if (pos < c.size) throw new TrailingDataError(`${c.size - pos} bytes follow the last chunk`);

  return {
    manifest,
    bodyStart: c.bodyStart,
    read(index, o) {
      const section = manifest.sections[index];
      if (!section) throw new RangeError(`no section ${index}`);
      const chunks = section.chunks;
      async function* records(): AsyncGenerator<Buffer> {
        const fh = await open(path, 'r');
        try {
          let at = starts[index]!;
          let window = Buffer.alloc(0);
          let windowStart = 0;
          const bytesAt = async (from: number, n: number): Promise<Buffer> => {
            if (from < windowStart || from + n > windowStart + window.length) {
              const fresh = Buffer.allocUnsafe(Math.max(n, READ_WINDOW));
              const { bytesRead } = await fh.read(fresh, 0, fresh.length, from);
              window = fresh.subarray(0, bytesRead);
              windowStart = from;
              if (bytesRead < n) throw new TruncatedError('the file was cut short while it was read');
            }
            return window.subarray(from - windowStart, from - windowStart + n);
          };
          for (let i = 0; i < chunks.length; i++) {
            const length = (await bytesAt(at, 4)).readUInt32BE(0);
            if (length !== chunks[i]![3])
              throw new ChunkCorruptError(
                `${chunkLabel(manifest, index, i)} is missing or out of place: the record holds ${length} bytes, the manifest says ${chunks[i]![3]}`,
                i,
              );
            const blob = await bytesAt(at + 4, length);
            at += 4 + length;
            o.onFileBytes?.(4 + length);
            yield o.frames ? openRefFrame(manifest, index, i, blob) : openRef(manifest, index, i, blob);
          }
        } finally {
          await fh.close();
        }
      }
      let gen: AsyncGenerator<Buffer> | undefined;
      return new Readable({
        highWaterMark: 1 << 20,
        async read() {
          gen ??= records();
          try {
            const next = await gen.next();
            this.push(next.done ? null : next.value);
          } catch (error) {
            this.destroy(error as Error);
          }
        },
        destroy(error, callback) {
          void gen?.return(undefined);
          callback(error);
        },
      });
    },
  };
}
