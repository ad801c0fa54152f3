// zstd compression of the dump. Two ways, chosen once per run (RESISTRO_COMPRESSOR):
//
// - the `zstd` program (preferred when installed): the dump tool's stdout pipe is handed straight
//   to zstd's stdin, so the plaintext never passes through Node at all; zstd runs on its own core
//   and Node only sees the compressed stream. Measured (ANCHORS.md, bench): ~1.1–1.2× the bare dump.
// - `node:zlib` zstd on the main thread (fallback): no extra program needed, but the compression
//   then shares the event loop with encryption and upload; measured ~1.8–1.9× the bare dump on two
//   cores.
// Both write one standard zstd frame; the file format records only "zstd", and restores read both.
// The program is found and run by the same process layer as the dump tools (engines/tools.ts,
// engines/process.ts): the same PATH search, environment, stderr tail and exit handling.
import type { Readable } from 'node:stream';
import { createZstdCompress, constants as zlib } from 'node:zlib';
import type { Compressor } from '../config.ts';
import type { ToolInfo } from '../engines/index.ts';
import { defaultSpawn, type SpawnFn, startTool } from '../engines/process.ts';
import { describeTools, findExecutables, nodeToolHost, type ToolHost } from '../engines/tools.ts';
import { UserError } from '../errors.ts';
import { createBufferReleaser } from '../memory.ts';

export type RunningCompressor = {
  /** compressed bytes */
  stdout: Readable;
  /** resolves when the compressor finished cleanly; rejects otherwise */
  done: Promise<void>;
  kill(): void;
  /** "zstd 1.5.4 (program)" or "node:zlib zstd" */
  readonly description: string;
};

/** The zstd program, or compression inside Node. */
export type Compression = ToolInfo | 'node';

/** No compressor can run as configured: the user installs one or changes RESISTRO_COMPRESSOR. */
export class CompressorError extends UserError {
  constructor(message: string, hint: string, options?: ErrorOptions) {
    super(message, hint, { ...options, code: 'compressor_missing' });
    this.name = 'CompressorError';
  }
}

let cachedProgram: Promise<ToolInfo | undefined> | undefined;

/** The `zstd` program on PATH with its version, or undefined. Looked up once per process. */
export function findZstdProgram(host?: ToolHost): Promise<ToolInfo | undefined> {
  if (host) return lookUpZstd(host);
  cachedProgram ??= lookUpZstd(nodeToolHost());
  return cachedProgram;
}

async function lookUpZstd(host: ToolHost): Promise<ToolInfo | undefined> {
  const [first] = await describeTools(
    host,
    'zstd',
    findExecutables(host, 'zstd'),
    (output) => /v(\d+\.\d+\.\d+)/.exec(output)?.[1],
  );
  return first;
}

export function hasNodeZstd(): boolean {
  return typeof createZstdCompress === 'function';
}

/**
 * What compresses this run, decided before any dump starts: a missing compressor fails the backup
 * up front instead of killing a dump that already runs.
 */
export async function chooseCompression(choice: Compressor, host?: ToolHost): Promise<Compression> {
  const program = choice === 'node' ? undefined : await findZstdProgram(host);
  if (program) return program;
  if (choice === 'zstd') {
    throw new CompressorError(
      'RESISTRO_COMPRESSOR=zstd, but the zstd program is not installed',
      'Install it (apt-get install -y zstd, or dnf install -y zstd), or set RESISTRO_COMPRESSOR=auto to compress inside the agent when it is missing.',
    );
  }
  if (!hasNodeZstd()) {
    throw new CompressorError(
      `this Node.js (${process.version}) has no zstd in node:zlib and the zstd program is not installed`,
      'Install the zstd program (apt-get install -y zstd), or Node.js 22.15 or newer.',
    );
  }
  return 'node';
}

/**
 * Starts compressing `input` (the dump tool's stdout). With the zstd program, an `input` that is a
 * child process pipe nobody has read from yet is handed to zstd as its stdin.
 */
export function startCompressor(
  input: Readable,
  level: number,
  compression: Compression,
  spawn: SpawnFn = defaultSpawn,
): RunningCompressor {
  if (compression === 'node') return startNode(input, level);
  const handle = (input as unknown as { _handle?: { fd?: number } })._handle;
  // Bytes already read into Node's buffer would be lost to zstd: then pipe them through Node.
  const untouched =
    handle?.fd !== undefined && handle.fd >= 0 && input.readableLength === 0 && !input.readableDidRead;
  const tool = startTool(
    {
      tool: 'zstd',
      path: compression.path,
      // -q: no progress on stderr; -c: to stdout; --ultra is needed above 19 only, and we stop at 19.
      // One thread: measured on two cores, -T2 gained nothing (the dump and the database server
      // need the other core), and one thread keeps zstd's memory small.
      args: ['-q', '-c', `-${Math.min(Math.max(level, 1), 19)}`],
      errorLine: /(?!)/, // never: zstd's exit status tells
      explain: () => undefined,
      spawn,
    },
    untouched ? input : 'pipe',
  );
  if (untouched) {
    // Our copy of the pipe must go: if zstd dies, the dump tool then gets EPIPE instead of blocking
    // forever on a pipe that a reader (us) still holds open.
    input.destroy();
  } else {
    tool.stdin!.on('error', () => {}); // zstd's exit status tells what happened
    input.pipe(tool.stdin!);
  }
  return {
    stdout: tool.stdout,
    done: tool.done,
    kill: () => tool.kill('SIGKILL'),
    description: `zstd ${compression.version} (program${untouched ? '' : ', piped'})`,
  };
}

function startNode(input: Readable, level: number): RunningCompressor {
  const zstd = createZstdCompress({ params: { [zlib.ZSTD_c_compressionLevel]: level } });
  let failure: Error | undefined;
  const done = new Promise<void>((resolve, reject) => {
    zstd.once('error', (error) => {
      failure = error;
      reject(new Error(`zstd compression failed: ${error.message}`, { cause: error }));
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
      zstd.destroy(new Error('compression stopped'));
    },
    description: 'node:zlib zstd',
  };
}
