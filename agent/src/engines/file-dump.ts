// Shared by the engines whose dump is a file the agent prepares first (a SQLite copy) or a tar
// stream (Redis files, directories): a DumpProcess over a running tool or a finished file, and the
// temporary folder that goes away when the stream is done, however it ends.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DumpError, type DumpProcess, EngineError } from './engine.ts';
import type { RunningTool } from './process.ts';

/** A private temporary folder (mode 0700 from mkdtemp) and its removal. */
export async function privateTempDir(tag: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `resistro-${tag}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Streams a finished file; `cleanup` runs once the stream ended, failed or was killed. */
export function fileDump(
  path: string,
  tool: string,
  cleanup: () => Promise<void>,
  notes: string[] = [],
): DumpProcess {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  let killed = false;
  const done = new Promise<void>((resolve, reject) => {
    stream.once('end', resolve);
    stream.once('close', () => {
      if (killed)
        reject(
          new DumpError(
            'killed',
            `${tool} was stopped on request`,
            'The run was cancelled; nothing from it was kept.',
            {
              tool,
              exitCode: null,
              signal: 'SIGTERM',
              stderr: '',
            },
          ),
        );
    });
    stream.once('error', reject);
  }).finally(cleanup);
  done.catch(() => {});
  return {
    stdout: stream,
    done,
    notes,
    pid: undefined,
    kill() {
      killed = true;
      stream.destroy();
    },
  };
}

/** A running tool as a DumpProcess, with a cleanup after it exited. */
export function toolDump(
  running: RunningTool,
  cleanup: () => Promise<void>,
  notes: string[] = [],
): DumpProcess {
  const done = running.done.finally(cleanup);
  done.catch(() => {});
  return { stdout: running.stdout, done, notes, pid: running.pid, kill: () => running.kill() };
}

/**
 * The server-side database operations of the SQL engines (the dashboard's restore into a new
 * database): a file source has none; they are restored into files with `resistro restore`.
 */
export function noServerDatabases(engine: string) {
  return {
    async databaseExists(): Promise<boolean> {
      return false;
    },
    async createDatabase(): Promise<void> {
      throw new EngineError(
        'tool_failed',
        `a ${engine} source has no databases to create`,
        'Restore it into files with resistro restore --target-file / --target-dir.',
      );
    },
    async dropDatabase(): Promise<void> {},
    async dataDirectory(): Promise<string | undefined> {
      return undefined;
    },
  };
}
