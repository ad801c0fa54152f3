// A stock Debian 12 server without Node.js, for the tests that install and run the agent's
// executable as a customer would: a root filesystem from Debian's own packages (debootstrap), with
// the database clients a server has and nothing of this project. Built once per machine (a few
// minutes, mostly downloads) and kept in /var/tmp; each test runs on a copy-on-write overlay of it
// inside a private mount namespace, so nothing it writes outlives the test and nothing needs
// unmounting.
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a database server has: its dump tools, curl for the one-line install, CA certificates. */
export const ROOTFS_PACKAGES = ['postgresql-client-15', 'mariadb-client', 'zstd', 'ca-certificates', 'curl'];
const CACHE = '/var/tmp/resistro-rootfs';

export function debianMirror(): string {
  try {
    const sources = readFileSync('/etc/apt/sources.list.d/debian.sources', 'utf8');
    const uri = /^URIs:\s*(\S+\/debian)\s*$/m.exec(sources)?.[1];
    if (uri) return uri;
  } catch {
    // no deb822 sources: the default mirror
  }
  return 'http://deb.debian.org/debian';
}

/**
 * `debootstrap <args> bookworm <dir> <mirror>` once per machine: built beside `dir` and renamed
 * into place when complete, so an interrupted or concurrent build is never taken for a finished one.
 */
export function debootstrapOnce(dir: string, args: string[], what: string): string {
  if (existsSync(join(dir, '.resistro-complete'))) return dir;
  if (process.getuid?.() !== 0) throw new Error(`building ${what} needs root`);
  if (spawnSync('sh', ['-c', 'command -v debootstrap']).status !== 0) {
    throw new Error('debootstrap is missing: apt-get install -y debootstrap');
  }
  mkdirSync(CACHE, { recursive: true });
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  const r = spawnSync('debootstrap', [...args, 'bookworm', partial, debianMirror()], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    rmSync(partial, { recursive: true, force: true });
    throw new Error(`debootstrap failed (${r.status}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  }
  writeFileSync(join(partial, '.resistro-complete'), `${args.join(' ')}\n`);
  if (existsSync(join(dir, '.resistro-complete'))) {
    rmSync(partial, { recursive: true, force: true }); // another run finished first
  } else {
    rmSync(dir, { recursive: true, force: true });
    renameSync(partial, dir);
  }
  return dir;
}

/** The root filesystem (chroot, mounts), built when missing. Needs root and debootstrap. */
export function ensureRootfs(): string {
  const key = createHash('sha256').update(ROOTFS_PACKAGES.join(',')).digest('hex').slice(0, 10);
  return debootstrapOnce(
    join(CACHE, `bookworm-${key}`),
    ['--variant=minbase', `--include=${ROOTFS_PACKAGES.join(',')}`],
    'the test root filesystem',
  );
}

/** arm64 Debian's libraries (libc, libstdc++), unpacked only, for qemu-user: built when missing. */
export function ensureArm64Libraries(): string {
  return debootstrapOnce(
    join(CACHE, 'bookworm-arm64-foreign'),
    ['--foreign', '--arch=arm64', '--variant=minbase'],
    'the arm64 libraries',
  );
}

export type Rootfs = {
  /** where the files the commands wrote are (the overlay's upper layer) */
  upper: string;
  /** runs `sh -c command` as root inside the root filesystem, with only `env` set */
  run(command: string, env?: Record<string, string>, input?: string): SpawnSyncReturns<string>;
};

/** A writable copy-on-write view of the root filesystem, its changes kept in `work`. */
export function overlayRootfs(lower: string, work: string): Rootfs {
  const upper = join(work, 'upper');
  const scratch = join(work, 'scratch');
  const merged = join(work, 'merged');
  for (const d of [upper, scratch, merged]) mkdirSync(d, { recursive: true });
  const enter = [
    `mount -t overlay overlay -o lowerdir="$1",upperdir="$2",workdir="$3" "$4"`,
    'mount --rbind /dev "$4/dev"',
    'mount -t proc proc "$4/proc"',
    'mount -t tmpfs tmpfs "$4/tmp"',
    'root="$4"; shift 4',
    'exec chroot "$root" /bin/sh -c "$@"',
  ].join(' && ');
  return {
    upper,
    run(command, env = {}, input) {
      return spawnSync(
        'unshare',
        [
          '--mount',
          '--propagation',
          'private',
          'sh',
          '-c',
          enter,
          'sh',
          lower,
          upper,
          scratch,
          merged,
          command,
        ],
        {
          encoding: 'utf8',
          input,
          env: {
            PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
            HOME: '/root',
            ...env,
          },
          maxBuffer: 64 * 1024 * 1024,
        },
      );
    },
  };
}
