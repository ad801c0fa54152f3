// Appends many small buffers to a file with few system calls: the encrypt stream emits three
// buffers per 64 KiB chunk (length, ciphertext, tag); they are gathered here up to 1 MiB.
import { type FileHandle, open } from 'node:fs/promises';

const STAGE_SIZE = 1024 * 1024;

export class BufferedFileWriter {
  readonly path: string;
  #handle: FileHandle | undefined;
  #stage = Buffer.allocUnsafe(STAGE_SIZE);
  #staged = 0;
  /** bytes handed to write() so far */
  bytes = 0;

  private constructor(path: string, handle: FileHandle) {
    this.path = path;
    this.#handle = handle;
  }

  /** Creates the file exclusively, mode 0600 (it holds ciphertext, but still: nobody else's business). */
  static async create(path: string): Promise<BufferedFileWriter> {
    return new BufferedFileWriter(path, await open(path, 'wx', 0o600));
  }

  async write(data: Buffer): Promise<void> {
    this.bytes += data.length;
    if (data.length >= STAGE_SIZE) {
      await this.flush();
      await this.#writeAll(data);
      return;
    }
    if (this.#staged + data.length > STAGE_SIZE) await this.flush();
    data.copy(this.#stage, this.#staged);
    this.#staged += data.length;
  }

  async flush(): Promise<void> {
    if (this.#staged === 0) return;
    const staged = this.#stage.subarray(0, this.#staged);
    this.#staged = 0;
    await this.#writeAll(staged);
  }

  async #writeAll(data: Buffer): Promise<void> {
    if (!this.#handle) throw new Error(`${this.path} is closed`);
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await this.#handle.write(data, offset, data.length - offset);
      offset += bytesWritten;
    }
  }

  /** Flushes, fsyncs when asked, closes. */
  async close(sync = false): Promise<void> {
    if (!this.#handle) return;
    try {
      await this.flush();
      if (sync) await this.#handle.sync();
    } finally {
      await this.#handle.close();
      this.#handle = undefined;
    }
  }

  /** Closes without flushing (the file is about to be deleted). */
  async abandon(): Promise<void> {
    this.#staged = 0;
    await this.#handle?.close().catch(() => {});
    this.#handle = undefined;
  }
}
