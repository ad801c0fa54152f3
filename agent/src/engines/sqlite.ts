// SQLite: a consistent copy of a live database file with `VACUUM INTO` (one read transaction, so
// writers that commit meanwhile are simply not in the copy; never a plain file copy, which can
// catch a half-written page or miss the WAL), `PRAGMA integrity_check` on the copy, then the copy's
// bytes are the dump. Restore writes a file next to the target, checks it, and renames it into
// place, refusing to replace a file some process has open unless told to.
import { constants } from 'node:fs';
import { access, chmod, open, readdir, readlink, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { runConnectionCheck } from './check.ts';
import {
  type DatabaseTarget,
  type DumpProcess,
  type Engine,
  EngineError,
  type EngineOptions,
  type RestoreOptions,
  type ToolInfo,
} from './engine.ts';
import { fileDump, noServerDatabases, privateTempDir } from './file-dump.ts';
import { defaultSpawn, type Explanation, runTool, type SpawnFn } from './process.ts';
import { describeTools, findExecutables, nodeToolHost, type ToolHost } from './tools.ts';

const MAGIC = 'SQLite format 3\0';
/** how long the copy waits for a writer's lock before giving up */
const BUSY_TIMEOUT_MS = 30_000;

export function sqlitePath(t: DatabaseTarget): string {
  return t.source?.kind === 'sqlite' ? t.source.path : t.database;
}

/** A string as an SQL literal for sqlite3 (no backslash escapes in SQLite). */
export function sqliteString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function explainSqlite(path: string, stderr: string): Explanation | undefined {
  if (/database is locked|SQLITE_BUSY/i.test(stderr))
    return {
      code: 'tool_failed',
      summary: `"${path}" stayed locked by a writer for ${BUSY_TIMEOUT_MS / 1000} s`,
      hint: 'A transaction held the database longer than that; the backup runs again at its next time.',
    };
  if (/unable to open|Permission denied|readonly/i.test(stderr))
    return {
      code: 'permission_denied',
      summary: `the agent cannot open "${path}"`,
      hint: "Give the agent's user read access to the file and write access to its folder (SQLite needs it for the -wal/-shm files).",
    };
  if (/file is not a database|malformed|corrupt/i.test(stderr))
    return {
      code: 'integrity_failed',
      summary: `"${path}" is not a readable SQLite database`,
      hint: 'Check the path; if it is the right file, it is damaged: run sqlite3 <file> "PRAGMA integrity_check".',
    };
  return undefined;
}

export function createSqliteEngine(opts: EngineOptions = {}): Engine {
  const spawn: SpawnFn = opts.spawn ?? defaultSpawn;
  const host: ToolHost = opts.toolHost ?? nodeToolHost(spawn);

  async function detectTools(): Promise<ToolInfo[]> {
    return describeTools(
      host,
      'sqlite3',
      findExecutables(host, 'sqlite3'),
      (o) => /^(\d+\.\d+(\.\d+)?)/.exec(o)?.[1],
    );
  }
  async function sqlite3(): Promise<ToolInfo> {
    const [tool] = await detectTools();
    if (!tool)
      throw new EngineError(
        'tool_missing',
        'could not start sqlite3: it is not installed',
        'Install the SQLite shell: apt-get install -y sqlite3',
      );
    return tool;
  }
  /** Runs SQL (from stdin, so paths never need shell quoting) against one file. */
  async function run(file: string, sql: string, args: string[] = []): Promise<string> {
    const tool = await sqlite3();
    return runTool(
      {
        tool: 'sqlite3',
        path: tool.path,
        args: ['-batch', '-bail', ...args, file],
        errorLine: /^(Error|Parse error|Runtime error)/,
        explain: (stderr) => explainSqlite(file, stderr),
        spawn,
      },
      `.timeout ${BUSY_TIMEOUT_MS}\n${sql}\n`,
    );
  }
  async function requireDatabase(path: string): Promise<void> {
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile())
      // SECURITY/data: sqlite3 would create an empty database at a mistyped path and back that up.
      throw new EngineError(
        'database_missing',
        `no SQLite database at "${path}"`,
        'Check the path in the dashboard; it must be the database file itself, absolute.',
      );
    const fd = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
      throw new EngineError(
        'permission_denied',
        `the agent cannot read "${path}": ${e.code}`,
        "Give the agent's user read access to the file.",
        { cause: e },
      );
    });
    try {
      const head = Buffer.alloc(16);
      const { bytesRead } = await fd.read(head, 0, 16, 0);
      if (bytesRead > 0 && head.toString('latin1') !== MAGIC)
        throw new EngineError(
          'integrity_failed',
          `"${path}" is not a SQLite database`,
          'Check the path: the file does not start with the SQLite header.',
        );
    } finally {
      await fd.close();
    }
  }
  async function integrityCheck(file: string): Promise<void> {
    const out = (await run(file, 'PRAGMA integrity_check;', ['-readonly'])).trim();
    if (out !== 'ok')
      throw new EngineError(
        'integrity_failed',
        `PRAGMA integrity_check failed on the copy of the database: ${out.split('\n').slice(0, 5).join('; ')}`,
        'The database itself is damaged; nothing was uploaded. Run sqlite3 <file> "PRAGMA integrity_check" and repair it (.recover).',
      );
  }

  return {
    name: 'sqlite',
    ...noServerDatabases('SQLite'),
    detectTools,
    async serverVersion(t) {
      await requireDatabase(sqlitePath(t));
      return (await run(sqlitePath(t), 'SELECT sqlite_version();', ['-readonly'])).trim();
    },
    async dump(t): Promise<DumpProcess> {
      const path = sqlitePath(t);
      await requireDatabase(path);
      const temp = await privateTempDir('sqlite');
      try {
        const copy = join(temp.dir, 'copy.sqlite');
        await run(path, `VACUUM INTO ${sqliteString(copy)};`);
        await integrityCheck(copy);
        return fileDump(copy, 'sqlite3', temp.remove);
      } catch (error) {
        await temp.remove();
        throw error;
      }
    },
    async isEmpty(t) {
      const info = await stat(sqlitePath(t)).catch(() => undefined);
      return !info || info.size === 0;
    },
    async restore(t, input: Readable, o: RestoreOptions = {}) {
      const target = sqlitePath(t);
      const existing = await stat(target).catch(() => undefined);
      if (existing && existing.size > 0) {
        const users = await processesUsing(target);
        if (!o.replace)
          throw new EngineError(
            users.length > 0 ? 'target_in_use' : 'target_not_empty',
            `"${target}" already exists${users.length > 0 ? ` and is open in process ${users.join(', ')}` : ''}; refusing to overwrite it`,
            users.length > 0
              ? 'Stop the application that uses it, or restore to another path; add --replace to overwrite it anyway.'
              : 'Restore to another path, or add --replace to overwrite it.',
          );
      }
      await access(dirname(target), constants.W_OK).catch((e) => {
        throw new EngineError(
          'permission_denied',
          `cannot write into ${dirname(target)}`,
          "Restore as a user who may write there (the agent's user or root).",
          { cause: e },
        );
      });
      // Written beside the target and renamed: the target is never half-written.
      const part = join(dirname(target), `.${basename(target)}.resistro-restore-${process.pid}`);
      try {
        const fd = await open(part, 'wx', 0o600);
        await pipeline(input, fd.createWriteStream()).catch((e) => {
          throw new EngineError(
            'input_failed',
            `reading the backup failed: ${(e as Error).message}`,
            'Nothing was restored; check the backup file.',
            { cause: e },
          );
        });
        await requireDatabase(part);
        await integrityCheck(part);
        if (existing) await chmod(part, existing.mode & 0o7777);
        // A -wal/-shm of the old database would be replayed into the new one: remove them.
        await rm(`${target}-wal`, { force: true });
        await rm(`${target}-shm`, { force: true });
        await rename(part, target);
      } finally {
        await rm(part, { force: true });
      }
    },
    async checkConnection(t) {
      const path = sqlitePath(t);
      return runConnectionCheck(
        { host: 'localhost', port: 0, user: '', database: path },
        {
          connect: async () => {
            await requireDatabase(path);
            return (await run(path, 'SELECT sqlite_version();', ['-readonly'])).trim();
          },
          // a file has no grants to check: reading it (tried above) is all the copy needs
          privileges: async () => [],
          dumpTool: async () => {
            const tool = await sqlite3();
            return { name: 'sqlite3', version: tool.version };
          },
        },
      );
    },
  };
}

/** The processes that have `file` open (Linux /proc); empty where /proc cannot be read. */
export async function processesUsing(file: string): Promise<number[]> {
  const real = await realpath(file).catch(() => file);
  const found: number[] = [];
  const pids = await readdir('/proc').catch(() => [] as string[]);
  for (const pid of pids) {
    if (!/^\d+$/.test(pid)) continue;
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const to = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      if (to === real || to === `${real}-wal`) {
        found.push(Number(pid));
        break;
      }
    }
  }
  return found;
}
