// GNU tar, for the engines whose backup is a set of files (directories, Redis): create with a list
// of names on stdin, extract into a folder. Its warnings about files that changed while they were
// read end a backup successfully, with notes, instead of failing it.

import type { ToolInfo } from './engine.ts';
import { DumpError, EngineError } from './engine.ts';
import { defaultSpawn, type RunningTool, type SpawnFn, startTool } from './process.ts';
import { describeTools, findExecutables, type ToolHost } from './tools.ts';

/** tar's exit 1 means "some files differ" (changed, shrank, vanished while read). */
const DIFFER_LINE =
  /file changed as we read it|File removed before we read it|file shrank by|Cannot stat: No such file|socket ignored/;

export async function findTar(host: ToolHost): Promise<ToolInfo> {
  const [tool] = await describeTools(
    host,
    'tar',
    findExecutables(host, 'tar'),
    (o) => /GNU tar\)? (\d+\.\d+(\.\d+)?)/.exec(o)?.[1],
  );
  if (!tool)
    throw new EngineError(
      'tool_missing',
      'could not start tar: GNU tar is not installed',
      'Install GNU tar: apt-get install -y tar',
    );
  return tool;
}

export function tarCreate(tool: ToolInfo, args: string[], spawn: SpawnFn = defaultSpawn): RunningTool {
  return startTool(
    {
      tool: 'tar',
      path: tool.path,
      args: ['--create', '--file=-', '--format=posix', ...args],
      env: { LC_ALL: 'C' },
      errorLine: /(?!)/,
      explain: () => undefined,
      spawn,
      isDump: true,
    },
    'pipe',
  );
}

/**
 * `done` of a tar that read a live tree: exit 1 with only "changed/removed while reading" lines is
 * a success whose lines become notes; anything else stays the failure it is.
 */
export function tolerateChangedFiles(done: Promise<void>, notes: string[]): Promise<void> {
  return done.catch((error: unknown) => {
    if (!(error instanceof DumpError) || error.exitCode !== 1) throw error;
    const lines = (error.stderr ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    if (
      lines.length === 0 ||
      !lines.every(
        (l) => DIFFER_LINE.test(l) || /^tar: Exiting with failure status due to previous errors$/.test(l),
      )
    )
      throw error;
    for (const l of lines) if (DIFFER_LINE.test(l)) notes.push(l.replace(/^tar: /, ''));
  });
}

export function tarExtract(
  tool: ToolInfo,
  dir: string,
  args: string[],
  spawn: SpawnFn = defaultSpawn,
): RunningTool {
  const asRoot = process.getuid?.() === 0;
  return startTool(
    {
      tool: 'tar',
      path: tool.path,
      args: [
        '--extract',
        '--file=-',
        `--directory=${dir}`,
        '--preserve-permissions',
        // as root, files get their owners back; anyone else cannot give files away
        asRoot ? '--same-owner' : '--no-same-owner',
        // a folder's time is set after its files were written into it
        '--delay-directory-restore',
        ...args,
      ],
      env: { LC_ALL: 'C' },
      errorLine: /(?!)/,
      explain: (stderr) =>
        /Not found in archive/.test(stderr)
          ? {
              code: 'tool_failed',
              summary: 'a chosen path is not in this backup',
              hint: 'List the backed-up paths with "tar -t" on a decrypted copy, or restore the whole tree.',
            }
          : /Permission denied|Cannot open/.test(stderr)
            ? {
                code: 'permission_denied',
                summary: `cannot write into ${dir}`,
                hint: 'Restore as root (to keep owners) or as a user who may write there.',
              }
            : undefined,
      spawn,
    },
    'pipe',
  );
}
