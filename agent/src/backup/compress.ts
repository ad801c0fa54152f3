// zstd compression of the dump. Two ways, chosen once per run (RESISTRO_COMPRESSOR):
//
// - the `zstd` program (preferred when installed): the dump tool's stdout pipe is handed straight
//   to zstd's stdin, so the plaintext never passes through Node at all; zstd runs on its own core
//   and Node only sees the compressed stream. Measured (ANCHORS.md, bench): ~1.1–1.2× the bare dump.
// - `node:zlib` zstd on the main thread (fallback): no extra program needed, but the compression
//   then shares the event loop with encryption and upload; measured ~1.8–1.9× the bare dump on two
//   cores.
// Both write one standard zstd frame; the file format records only "zstd", and restores read both.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Readable } from 'node:stream';
import { createZstdCompress, constants as zlib } from 'node:zlib';
import type { Compressor } from '../config.ts';
import { TailBuffer } from '../engines/process.ts';
import { createBufferReleaser } from '../memory.ts';

export type ZstdProgram = { path: string; version: string };

export type RunningCompressor = {
  /** compressed bytes */
  stdout: Readable;
  /** resolves when the compressor finished cleanly; rejects otherwise */
  done: Promise<void>;
  kill(): void;
  /** "zstd 1.5.4 (program)" or "node:zlib zstd" */
  readonly description: string;
};

export class CompressorError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CompressorError';
  }
}

let cachedProgram: ZstdProgram | null | undefined;

/** The `zstd` program on PATH with its version, or undefined. Looked up once per process. */
export async function findZstdProgram(
  searchPath = process.env.PATH ?? '/usr/bin:/bin',
): Promise<ZstdProgram | undefined> {
  if (cachedProgram !== undefined) return cachedProgram ?? undefined;
  cachedProgram = null;
  for (const dir of searchPath.split(delimiter).filter(Boolean)) {
    const path = join(dir, 'zstd');
    try {
      accessSync(path, constants.X_OK);
    } catch {
      continue;
    }
    const version = await new Promise<string | undefined>((resolve) => {
      const child = spawn(path, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
      });
      child.once('error', () => resolve(undefined));
      child.once('close', (code) => resolve(code === 0 ? /v(\d+\.\d+\.\d+)/.exec(out)?.[1] : undefined));
    });
    if (version) {
      cachedProgram = { path, version };
      break;
    }
  }
  return cachedProgram ?? undefined;
}

export function hasNodeZstd(): boolean {
  return typeof createZstdCompress === 'function';
}

/**
 * Starts compressing `input` (the dump tool's stdout). With the zstd program, `input` must be a
 * child process pipe nobody has read from yet: its file descriptor is passed to zstd.
 */
export async function startCompressor(
  input: Readable,
  level: number,
  choice: Compressor,
): Promise<RunningCompressor> {
  const program = choice === 'node' ? undefined : await findZstdProgram();
  if (choice === 'zstd' && !program) {
    throw new CompressorError(
      'RESISTRO_COMPRESSOR=zstd, but the zstd program is not installed (apt-get install -y zstd)',
    );
  }
  const handle = (input as unknown as { _handle?: { fd?: number } })._handle;
  // Bytes already read into Node's buffer would be lost to zstd: then go through Node instead.
  const untouched =
    handle?.fd !== undefined && handle.fd >= 0 && input.readableLength === 0 && !input.readableDidRead;
  if (program && untouched) return startProgram(program, input, level);
  if (program) return startProgramPiped(program, input, level);
  if (!hasNodeZstd()) {
    throw new CompressorError(
      `this Node.js (${process.version}) has no zstd in node:zlib and the zstd program is not installed`,
    );
  }
  return startNode(input, level);
}

function programArgs(level: number): string[] {
  // -q: no progress on stderr; -c: to stdout; --ultra is needed above 19 only, and we stop at 19.
  // One thread: measured on two cores, -T2 gained nothing (the dump and the database server need
  // the other core), and one thread keeps zstd's memory small.
  return ['-q', '-c', `-${Math.min(Math.max(level, 1), 19)}`];
}

function watchProgram(child: ReturnType<typeof spawn>, description: string): RunningCompressor {
  const tail = new TailBuffer(2048);
  child.stderr?.on('data', (b: Buffer) => tail.push(b));
  let exited = false;
  let killed = false;
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (error) =>
      reject(new CompressorError(`could not run zstd: ${error.message}`, { cause: error })),
    );
    child.once('close', (code, signal) => {
      exited = true;
      if (code === 0 && !killed) resolve();
      else {
        const why = killed ? 'was stopped' : signal ? `was killed by ${signal}` : `exited with code ${code}`;
        reject(
          new CompressorError(`zstd ${why}${tail.toString().trim() ? `: ${tail.toString().trim()}` : ''}`),
        );
      }
    });
  });
  done.catch(() => {});
  return {
    stdout: child.stdout!,
    done,
    kill() {
      if (exited) return;
      killed = true;
      child.kill('SIGKILL');
    },
    description,
  };
}

function startProgram(program: ZstdProgram, input: Readable, level: number): RunningCompressor {
  const child = spawn(program.path, programArgs(level), { stdio: [input, 'pipe', 'pipe'] });
  // Our copy of the pipe must go: if zstd dies, the dump tool then gets EPIPE instead of blocking
  // forever on a pipe that a reader (us) still holds open.
  input.destroy();
  return watchProgram(child, `zstd ${program.version} (program)`);
}

function startProgramPiped(program: ZstdProgram, input: Readable, level: number): RunningCompressor {
  const child = spawn(program.path, programArgs(level), { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.on('error', () => {}); // zstd's exit status tells what happened
  input.pipe(child.stdin!);
  return watchProgram(child, `zstd ${program.version} (program, piped)`);
}

function startNode(input: Readable, level: number): RunningCompressor {
  const zstd = createZstdCompress({ params: { [zlib.ZSTD_c_compressionLevel]: level } });
  let failure: Error | undefined;
  const done = new Promise<void>((resolve, reject) => {
    zstd.once('error', (error) => {
      failure = error;
      reject(new CompressorError(`zstd compression failed: ${error.message}`, { cause: error }));
    });
    zstd.once('end', () => (failure ? undefined : resolve()));
  });
  done.catch(() => {});
  input.on('error', (error) => zstd.destroy(error));
  // The plaintext passes through Node here: free its buffers as it goes (see memory.ts).
  const release = createBufferReleaser();
  input.on('data', (chunk: Buffer) => release(chunk.length));
  input.pipe(zstd);
  return {
    stdout: zstd,
    done,
    kill() {
      input.unpipe(zstd);
      zstd.destroy(new CompressorError('compression stopped'));
    },
    description: 'node:zlib zstd',
  };
}
