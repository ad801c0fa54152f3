// Directories: one or more absolute paths, with include/exclude patterns, as one tar stream (GNU
// tar, POSIX format) keeping owners, modes, times, symlinks and hard links. The agent walks the
// tree itself so the patterns mean the same everywhere and sockets, devices and FIFOs are left out
// with a note (they are not data and cannot be restored meaningfully). Files that change while tar
// reads them are reported as notes. Restore unpacks the whole tree, or chosen paths, into a folder.
import { constants, type Dirent } from 'node:fs';
import { access, lstat, mkdir, readdir, stat } from 'node:fs/promises';
import { join, matchesGlob, relative } from 'node:path';
import type { Readable } from 'node:stream';
import type { SourceSettings } from '@resistro/contract';
import { runConnectionCheck } from './check.ts';
import {
  type DatabaseTarget,
  type DumpProcess,
  type Engine,
  EngineError,
  type EngineOptions,
  type RestoreOptions,
  type ToolInfo,
  targetNotEmpty,
} from './engine.ts';
import { noServerDatabases, toolDump } from './file-dump.ts';
import { defaultSpawn, feedStdin, type SpawnFn } from './process.ts';
import { findTar, tarCreate, tarExtract, tolerateChangedFiles } from './tar.ts';
import { nodeToolHost, type ToolHost } from './tools.ts';

type DirectorySource = Extract<SourceSettings, { kind: 'directory' }>;

export function directorySource(t: DatabaseTarget): DirectorySource {
  if (t.source?.kind === 'directory') return t.source;
  throw new EngineError(
    'database_missing',
    'this directory source has no paths',
    'Add the paths in the dashboard.',
  );
}

/**
 * A pattern with a slash matches the path below the listed folder (`cache/**`, `tmp/*.part`);
 * one without matches any entry's name (`*.log`, `node_modules`).
 */
export function matchesPattern(pattern: string, rel: string, name: string): boolean {
  return pattern.includes('/') ? matchesGlob(rel, pattern.replace(/^\//, '')) : matchesGlob(name, pattern);
}

export type WalkResult = { entries: string[]; notes: string[] };

/** Every entry to archive, parents before children, plus notes on what was left out. */
export async function walkSource(src: DirectorySource): Promise<WalkResult> {
  const entries: string[] = [];
  const notes: string[] = [];
  const seen = new Set<string>();
  const add = (p: string) => {
    if (!seen.has(p)) {
      seen.add(p);
      entries.push(p);
    }
  };
  for (const root of src.paths) {
    const info = await lstat(root).catch(() => undefined);
    if (!info)
      throw new EngineError(
        'database_missing',
        `the path "${root}" does not exist`,
        'Check the paths of this source in the dashboard.',
      );
    // the folders above a root are not backed up; the root itself is, with its metadata
    const visit = async (abs: string, rel: string, isDir: boolean) => {
      if (!isDir) return void add(abs);
      add(abs);
      let children: Dirent[];
      try {
        children = await readdir(abs, { withFileTypes: true });
      } catch (e) {
        throw new EngineError(
          'permission_denied',
          `cannot read the folder "${abs}": ${(e as NodeJS.ErrnoException).code}`,
          "Give the agent's user read access, or run the agent as root to keep every owner.",
          { cause: e },
        );
      }
      children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const c of children) {
        const childAbs = join(abs, c.name);
        const childRel = rel ? `${rel}/${c.name}` : c.name;
        if (src.exclude.some((p) => matchesPattern(p, childRel, c.name))) continue;
        if (c.isSocket() || c.isBlockDevice() || c.isCharacterDevice() || c.isFIFO()) {
          const what = c.isSocket() ? 'socket' : c.isFIFO() ? 'FIFO' : 'device';
          notes.push(`skipped ${what} ${childAbs}`);
          continue;
        }
        if (c.isDirectory()) await visit(childAbs, childRel, true);
        else if (src.include.length === 0 || src.include.some((p) => matchesPattern(p, childRel, c.name)))
          add(childAbs);
      }
    };
    if (info.isSocket() || info.isBlockDevice() || info.isCharacterDevice() || info.isFIFO()) {
      notes.push(`skipped special file ${root}`);
      continue;
    }
    await visit(root, '', info.isDirectory());
  }
  return { entries, notes };
}

export function createDirectoryEngine(opts: EngineOptions = {}): Engine {
  const spawn: SpawnFn = opts.spawn ?? defaultSpawn;
  const host: ToolHost = opts.toolHost ?? nodeToolHost(spawn);
  return {
    name: 'directory',
    ...noServerDatabases('directory'),
    async detectTools(): Promise<ToolInfo[]> {
      return [await findTar(host)].filter(Boolean);
    },
    async serverVersion(t) {
      directorySource(t);
      return `GNU tar ${(await findTar(host)).version}`;
    },
    async dump(t): Promise<DumpProcess> {
      const src = directorySource(t);
      const tool = await findTar(host);
      const { entries, notes } = await walkSource(src);
      // Names relative to /, NUL-separated and taken verbatim: a file called "-C" is a file.
      const running = tarCreate(
        tool,
        ['--no-recursion', '--directory=/', '--null', '--verbatim-files-from', '--files-from=-'],
        spawn,
      );
      running.stdin!.on('error', () => {});
      running.stdin!.end(Buffer.from(entries.map((e) => `${relative('/', e) || '.'}\0`).join('')));
      const dump = toolDump(running, async () => {}, notes);
      return { ...dump, done: tolerateChangedFiles(dump.done, notes), notes };
    },
    async isEmpty(t) {
      const dir = t.database;
      return (await readdir(dir).catch(() => [])).length === 0;
    },
    async restore(t, input: Readable, o: RestoreOptions = {}) {
      const dir = o.targetDir;
      if (!dir)
        throw new EngineError(
          'database_missing',
          'a directory backup is restored into a folder',
          'Pass --target-dir <folder> (empty, or add --replace).',
        );
      await mkdir(dir, { recursive: true });
      if ((await readdir(dir)).length > 0 && !o.replace)
        throw targetNotEmpty({ ...t, database: dir, host: 'localhost', port: 0 });
      await access(dir, constants.W_OK).catch((e) => {
        throw new EngineError(
          'permission_denied',
          `cannot write into ${dir}`,
          'Restore as root (to keep owners) or as a user who may write there.',
          { cause: e },
        );
      });
      const tool = await findTar(host);
      const members = (o.paths ?? []).map((p) => relative('/', p));
      const running = tarExtract(tool, dir, ['--', ...members], spawn);
      running.stdout.resume();
      await feedStdin(running, input).catch((e) => {
        throw new EngineError(
          'input_failed',
          `reading the backup failed: ${(e as Error).message}`,
          'The restore was stopped; check the backup file.',
          { cause: e },
        );
      });
      await running.done;
    },
    async checkConnection(t) {
      const src = t.source?.kind === 'directory' ? t.source : undefined;
      return runConnectionCheck(
        { host: 'localhost', port: 0, user: '', database: src?.paths.join(', ') ?? '' },
        {
          connect: async () => {
            const s = directorySource(t);
            for (const p of s.paths) {
              const info = await stat(p).catch(() => undefined);
              if (!info)
                throw new EngineError(
                  'database_missing',
                  `the path "${p}" does not exist`,
                  'Check the paths of this source.',
                );
              await access(p, constants.R_OK).catch((e) => {
                throw new EngineError(
                  'permission_denied',
                  `the agent cannot read "${p}"`,
                  "Give the agent's user read access.",
                  { cause: e },
                );
              });
            }
            return `GNU tar ${(await findTar(host)).version}`;
          },
          privileges: async () => {
            // the walk reads every folder: a folder the agent cannot enter shows here, not at 3 a.m.
            await walkSource(directorySource(t));
            return [];
          },
          dumpTool: async () => {
            const tool = await findTar(host);
            return { name: 'tar', version: tool.version };
          },
        },
      );
    },
  };
}
