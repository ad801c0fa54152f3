// Finding installed client tools and reading their versions. The file system and the `--version`
// call are injectable so the selection logic can be tested on made-up machines.
import { accessSync, constants, readdirSync, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { ToolInfo } from './engine.ts';
import { defaultSpawn, runTool, type SpawnFn } from './process.ts';

export type ToolHost = {
  /** entries of a directory, [] when it does not exist */
  listDir(dir: string): string[];
  isExecutable(path: string): boolean;
  /** the canonical path of a directory (/bin and /usr/bin are one on merged-/usr systems) */
  realDir(dir: string): string;
  /** raw `--version` output, undefined when the tool does not run */
  versionOutput(path: string): Promise<string | undefined>;
  /** the PATH to search */
  searchPath: string;
};

export function nodeToolHost(spawn: SpawnFn = defaultSpawn): ToolHost {
  return {
    listDir(dir) {
      try {
        return readdirSync(dir);
      } catch {
        return [];
      }
    },
    isExecutable(path) {
      try {
        accessSync(path, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    },
    realDir(dir) {
      try {
        return realpathSync(dir);
      } catch {
        return dir;
      }
    },
    async versionOutput(path) {
      try {
        return await runTool({
          tool: path,
          path,
          args: ['--version'],
          errorLine: /(?!)/, // never: only the exit code counts
          explain: () => undefined,
          spawn,
        });
      } catch {
        return undefined;
      }
    },
    searchPath: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
  };
}

/** Every executable called `name` in the given directories, then on PATH; first occurrence wins. */
export function findExecutables(host: ToolHost, name: string, extraDirs: string[] = []): string[] {
  const dirs = [...extraDirs, ...host.searchPath.split(delimiter).filter(Boolean)];
  const seenDirs = new Set<string>();
  const found: string[] = [];
  for (const dir of dirs) {
    const real = host.realDir(dir);
    if (seenDirs.has(real)) continue;
    seenDirs.add(real);
    const path = join(dir, name);
    if (host.isExecutable(path)) found.push(path);
  }
  return found;
}

/** Runs `--version` on each path and keeps those that answer. */
export async function describeTools(
  host: ToolHost,
  name: string,
  paths: string[],
  parseVersion: (output: string) => string | undefined,
): Promise<ToolInfo[]> {
  const tools: ToolInfo[] = [];
  for (const path of paths) {
    const output = await host.versionOutput(path);
    const version = output && parseVersion(output);
    if (version) tools.push({ name, version, path });
  }
  return tools;
}
