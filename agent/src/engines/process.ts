// Child-process plumbing shared by the engines: start a tool, keep the tail of its stderr, turn its
// exit into a resolved promise or an EngineError/DumpError with a hint, and feed it stdin without
// ever letting a failed input look like a complete one.
import { type ChildProcess, spawn as nodeSpawn, type SpawnOptions } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { childEnv } from '../child-env.ts';
import { DumpError, EngineError, type EngineErrorCode } from './engine.ts';

export type SpawnFn = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export const defaultSpawn: SpawnFn = nodeSpawn;

export const STDERR_TAIL_BYTES = 4096;
/** how long a tool gets to exit after SIGTERM before SIGKILL */
const KILL_GRACE_MS = 5000;
/** cap on what runTool collects from stdout (it runs small queries only) */
const MAX_QUERY_OUTPUT = 1 << 20;

/** Keeps only the last `limit` bytes written to it. */
export class TailBuffer {
  readonly limit: number;
  #chunks: Buffer[] = [];
  #size = 0;

  constructor(limit = STDERR_TAIL_BYTES) {
    this.limit = limit;
  }

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    while (this.#chunks.length > 1 && this.#size - this.#chunks[0]!.length >= this.limit) {
      this.#size -= this.#chunks.shift()!.length;
    }
  }

  toString(): string {
    const bytes = Buffer.concat(this.#chunks);
    let start = Math.max(0, bytes.length - this.limit);
    // Do not start in the middle of a UTF-8 sequence.
    while (start < bytes.length && start > 0 && (bytes[start]! & 0xc0) === 0x80) start++;
    return bytes.subarray(start).toString('utf8');
  }
}

/** What an engine makes of a tool's stderr: a code, a one-line summary, and what to do. */
export type Explanation = { code: EngineErrorCode; summary: string; hint: string };

export type ToolSpec = {
  /** display name, e.g. "pg_dump" */
  tool: string;
  path: string;
  args: string[];
  /** added to the agent's environment, which children get without the RESISTRO_* settings */
  env?: Record<string, string>;
  /** a stderr line that means failure even when the exit code is 0 */
  errorLine: RegExp;
  /** engine-specific reading of stderr; undefined when nothing is recognised */
  explain(stderr: string): Explanation | undefined;
  /** runs once after the tool is gone (e.g. removes a temporary option file) */
  cleanup?: () => Promise<void>;
  spawn: SpawnFn;
  /** failures become DumpErrors instead of plain EngineErrors */
  isDump?: boolean;
};

export type RunningTool = {
  stdout: Readable;
  stdin: Writable | null;
  done: Promise<void>;
  kill(signal?: NodeJS.Signals): void;
  pid: number | undefined;
};

type Exit = { code: number | null; signal: NodeJS.Signals | null } | { error: Error };

/** `stdin`: a pipe to write to, nothing, or another process's output pipe handed over as it is. */
export function startTool(spec: ToolSpec, stdin: 'pipe' | 'ignore' | Readable = 'ignore'): RunningTool {
  const child = spec.spawn(spec.path, spec.args, { stdio: [stdin, 'pipe', 'pipe'], env: childEnv(spec.env) });
  const tail = new TailBuffer();
  let firstErrorLine: string | undefined;
  let partial = '';
  const scan = (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (!firstErrorLine && spec.errorLine.test(line)) firstErrorLine = line.trim();
  };
  child.stderr?.on('data', (b: Buffer) => {
    tail.push(b);
    scan(b.toString('utf8'));
  });
  const stderrClosed = new Promise<void>((resolve) => {
    if (!child.stderr) return resolve();
    child.stderr.once('close', resolve);
    child.stderr.once('error', () => resolve());
  });

  let requestedSignal: NodeJS.Signals | undefined;
  let exited = false;
  const exit = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      resolve({ code, signal });
    });
    child.once('error', (error) => resolve({ error }));
  });

  const done = (async () => {
    const result = await exit;
    if ('error' in result) {
      await spec.cleanup?.().catch(() => {});
      throw new EngineError(
        'tool_missing',
        `could not start ${spec.tool} (${spec.path}): ${result.error.message}`,
        `Check that ${spec.tool} is installed and executable by the agent's user.`,
        { cause: result.error },
      );
    }
    // Read stderr to its end, but do not hang if a grandchild inherited it.
    await Promise.race([stderrClosed, new Promise((r) => setTimeout(r, 2000).unref())]);
    scan('\n');
    await spec.cleanup?.().catch(() => {});
    if (result.code === 0 && !requestedSignal && !firstErrorLine) return;
    throw toolFailure(spec, { ...result, requestedSignal, firstErrorLine, stderr: tail.toString() });
  })();
  // The caller awaits `done`; this only stops an unobserved rejection from crashing the agent.
  done.catch(() => {});

  return {
    stdout: child.stdout!,
    stdin: child.stdin,
    done,
    pid: child.pid,
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (exited || child.pid === undefined) return;
      requestedSignal ??= signal;
      child.kill(signal);
      if (signal !== 'SIGKILL') {
        setTimeout(() => {
          if (!exited) child.kill('SIGKILL');
        }, KILL_GRACE_MS).unref();
      }
    },
  };
}

function toolFailure(
  spec: ToolSpec,
  f: {
    code: number | null;
    signal: NodeJS.Signals | null;
    requestedSignal: NodeJS.Signals | undefined;
    firstErrorLine: string | undefined;
    stderr: string;
  },
): EngineError {
  const stderr = f.stderr.trim();
  let how: string;
  if (f.requestedSignal) how = `was stopped with signal ${f.requestedSignal} (on request)`;
  else if (f.signal) how = `was killed by signal ${f.signal}`;
  else if (f.code !== 0) how = `exited with code ${f.code}`;
  else how = 'reported an error (exit code 0)';

  const killed = Boolean(f.requestedSignal || f.signal);
  const explained = killed ? undefined : spec.explain(stderr);
  const lastLine = stderr.split('\n').filter(Boolean).at(-1);
  const summary = explained?.summary ?? f.firstErrorLine ?? lastLine ?? 'no error output';
  const code: EngineErrorCode = killed ? 'killed' : (explained?.code ?? 'tool_failed');
  const hint = killed
    ? f.requestedSignal
      ? 'The run was cancelled (see the error that caused it); nothing from this run was kept.'
      : 'Something outside the agent killed the tool (out-of-memory killer, a timeout, an operator); check the system log.'
    : (explained?.hint ??
      `Read ${spec.tool}'s error output above; it names the failing statement or object.`);
  const message = `${spec.tool} ${how}: ${summary}${stderr ? `\n--- ${spec.tool} stderr (last ${STDERR_TAIL_BYTES / 1024} KB) ---\n${stderr}` : ''}`;

  if (spec.isDump) {
    return new DumpError(code, message, hint, {
      tool: spec.tool,
      exitCode: f.code,
      signal: f.signal ?? f.requestedSignal ?? null,
      stderr,
    });
  }
  return new EngineError(code, message, hint, { stderr });
}

/** Runs a tool to completion and returns its stdout (small outputs only: queries, --version). */
export async function runTool(spec: ToolSpec, input?: string): Promise<string> {
  const running = startTool(spec, input === undefined ? 'ignore' : 'pipe');
  const chunks: Buffer[] = [];
  let size = 0;
  running.stdout.on('data', (b: Buffer) => {
    size += b.length;
    if (size <= MAX_QUERY_OUTPUT) chunks.push(b);
  });
  if (input !== undefined && running.stdin) {
    running.stdin.on('error', () => {}); // an early exit is reported through `done`
    running.stdin.end(input);
  }
  await running.done;
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Pipes `input` into the tool's stdin with back-pressure. If `input` fails, the tool is killed
 * BEFORE its stdin closes: a client that saw a clean end of input would commit a partial restore.
 * Resolves when the input was fully handed over or the tool stopped reading; rejects with the
 * input's error.
 */
export function feedStdin(running: RunningTool, input: Readable): Promise<void> {
  const stdin = running.stdin;
  if (!stdin) return Promise.reject(new Error('feedStdin: the tool was started without a stdin pipe'));
  // An input stopped before it got here (a parallel restore failing elsewhere) would never end:
  // the tool would wait for more input forever. Kill it instead, as for an input that fails.
  if (input.destroyed || input.errored) {
    running.kill('SIGKILL');
    stdin.on('error', () => {});
    stdin.destroy();
    return Promise.reject(input.errored ?? new Error('the input was closed before it was read'));
  }
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve();
    };
    // `on`, not `once`: a second error (a stop after a damaged chunk) must not go unhandled.
    input.on('error', (error) => {
      running.kill('SIGKILL');
      input.unpipe(stdin);
      settle(error);
    });
    // EPIPE when the client exits early: its exit status tells the real story.
    stdin.on('error', () => settle());
    stdin.once('close', () => {
      input.unpipe(stdin);
      settle();
    });
    stdin.once('finish', () => settle());
    input.pipe(stdin);
  });
}
