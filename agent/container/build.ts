// `npm run agent:image`: the agent's container image (agent/container/Containerfile). Builds the
// self-contained executable, stages it with its SHA-256 in a small build context (never the whole
// repository) and runs podman build, or docker build where there is no podman.
//
// No registry is reachable on this project's machines, so with podman the base image is a local
// Debian 12 imported once from the debootstrap root filesystem of scripts/test/rootfs.ts
// (localhost/debian-bookworm-min:1); elsewhere pass --base debian:bookworm-slim (the
// Containerfile's default, which docker uses).
//
//   npm run agent:image -- [--arch x64|arm64] [--tag NAME] [--base IMAGE] [--pg-majors "17 16 15"]
//                          [--pgdg http://apt.postgresql.org/pub/repos/apt] [--skip-executable]
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureRootfs } from '../../scripts/test/rootfs.ts';
import { ARCHES, type Arch, buildExecutables } from '../sea/build.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const DIST = join(HERE, '..', 'dist');
export const CONTAINERFILE = join(HERE, 'Containerfile');
export const LOCAL_BASE = 'localhost/debian-bookworm-min:2';
const VERSION = (JSON.parse(readFileSync(join(HERE, '..', 'package.json'), 'utf8')) as { version: string })
  .version;
export const DEFAULT_TAG = `localhost/resistro-agent:${VERSION}`;

export type ImageOptions = {
  arch?: Arch;
  tag?: string;
  base?: string;
  /** PostgreSQL client majors, e.g. "17 16 15" (Debian 12 alone has 15) */
  pgMajors?: string;
  /** PostgreSQL's apt repository, for majors Debian lacks */
  pgdg?: string;
  /** use agent/dist/resistro-linux-<arch> as it is */
  skipExecutable?: boolean;
};

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/**
 * podman with the flags that work on this project's machines (Debian's podman 4.3 as root: runc,
 * because crun fails on hybrid cgroups and on rlimits; cgroupfs; host network, as there is no
 * bridge to a registry anyway), or plain docker.
 */
export function containerEngine(): { cmd: string; global: string[]; build: string[]; run: string[] } {
  if (has('podman')) {
    const root = process.getuid?.() === 0;
    const global = root && has('runc') ? ['--runtime', 'runc', '--cgroup-manager=cgroupfs'] : [];
    const limits = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
    return {
      cmd: 'podman',
      global,
      build: ['--network', 'host', ...limits],
      run: ['--network', 'host', ...limits],
    };
  }
  if (has('docker')) return { cmd: 'docker', global: [], build: [], run: [] };
  throw new Error('neither podman nor docker is installed: apt-get install -y podman runc');
}

/** The local Debian 12 base image, imported from the debootstrap root filesystem when missing. */
function ensureLocalBase(engine: ReturnType<typeof containerEngine>): string {
  const exists = spawnSync(engine.cmd, [...engine.global, 'image', 'exists', LOCAL_BASE]);
  if (exists.status === 0) return LOCAL_BASE;
  const rootfs = ensureRootfs();
  console.log(`importing ${rootfs} as ${LOCAL_BASE}`);
  execFileSync(
    'sh',
    [
      '-c',
      // apt's caches and package lists would stay in the base layer for good; the build fetches fresh lists
      `tar -C "$1" --exclude=./.resistro-complete --exclude='./var/cache/apt/*' --exclude='./var/lib/apt/lists/*' -c . | ${engine.cmd} ${engine.global.join(' ')} import - "$2"`,
      'sh',
      rootfs,
      LOCAL_BASE,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return LOCAL_BASE;
}

/** Builds the image and returns its tag. */
export async function buildImage(opts: ImageOptions = {}): Promise<string> {
  const arch = opts.arch ?? (process.arch === 'arm64' ? 'arm64' : 'x64');
  const tag = opts.tag ?? DEFAULT_TAG;
  const engine = containerEngine();
  const name = `resistro-linux-${arch}`;
  if (!opts.skipExecutable) await buildExecutables([arch]);
  if (!existsSync(join(DIST, name))) {
    throw new Error(`${join(DIST, name)} is missing: node agent/sea/build.ts --arch ${arch}`);
  }
  const base = opts.base ?? (engine.cmd === 'podman' ? ensureLocalBase(engine) : undefined);
  const context = mkdtempSync(join(tmpdir(), 'resistro-image-'));
  try {
    copyFileSync(join(DIST, name), join(context, name));
    copyFileSync(join(DIST, `${name}.sha256`), join(context, `${name}.sha256`));
    const args = [
      ...engine.global,
      'build',
      ...engine.build,
      '-f',
      CONTAINERFILE,
      '--build-arg',
      `ARCH=${arch}`,
      ...(base ? ['--build-arg', `BASE=${base}`] : []),
      ...(opts.pgMajors ? ['--build-arg', `PG_MAJORS=${opts.pgMajors}`] : []),
      ...(opts.pgdg ? ['--build-arg', `PGDG=${opts.pgdg}`] : []),
      '-t',
      tag,
      context,
    ];
    console.log(`${engine.cmd} ${args.join(' ')}`);
    const r = spawnSync(engine.cmd, args, { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${engine.cmd} build failed (exit ${r.status})`);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  return tag;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const known = ['--arch', '--tag', '--base', '--pg-majors', '--pgdg', '--skip-executable'];
  const unknown = argv.filter(
    (a, i) => a.startsWith('--') && !known.includes(a) && !known.includes(argv[i - 1] ?? ''),
  );
  const arch = value('--arch') as Arch | undefined;
  if (unknown.length || (arch && !ARCHES.includes(arch))) {
    console.error(
      unknown.length ? `unknown option ${unknown[0]}` : `unknown --arch ${arch}: one of ${ARCHES.join(', ')}`,
    );
    console.error(
      'usage: npm run agent:image -- [--arch x64|arm64] [--tag NAME] [--base IMAGE] [--pg-majors "17 16 15"] [--pgdg URL] [--skip-executable]',
    );
    process.exit(2);
  }
  try {
    const tag = await buildImage({
      arch,
      tag: value('--tag'),
      base: value('--base'),
      pgMajors: value('--pg-majors'),
      pgdg: value('--pgdg'),
      skipExecutable: argv.includes('--skip-executable'),
    });
    console.log(`built ${tag}`);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
