// Where a database server keeps its data. PostgreSQL and MariaDB refuse to run as root, so when we
// are root they run as their own system user (`postgres`, `mysql`), and that user must be able to
// reach the data directory: every parent folder needs search permission for it. A checkout inside
// a folder only root can enter (mode 0700, as `mktemp -d` makes one) has no such path, and initdb
// stops with "could not change directory … Permission denied".
//
// Then the data goes where the server's user can reach it: a throw-away server's into a fresh
// directory under the system temp folder (removed when it stops), a persistent one's (`npm start`)
// into /var/lib/resistro-local/, named after the path that was asked for so a restart finds it
// again. A symlink at the requested path points there, so callers read and write the server's
// files (pg_hba.conf, postmaster.pid) where they expect them.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

export type ServerDataDir = {
  /** the directory the server really uses (the requested one, or where its symlink points) */
  dir: string;
  /** true when the data lives elsewhere and `requested` is a symlink to it */
  relocated: boolean;
  /** removes the relocated directory of a throw-away server (nothing otherwise) */
  remove(): void;
};

/** Where persistent servers' data goes when the requested folder is out of the server user's reach. */
export const PERSISTENT_BASE = '/var/lib/resistro-local';

export type DataDirHost = {
  isRoot: boolean;
  /** uid and gid of a system user, or undefined if there is none */
  userIds(user: string): { uid: number; gid: number } | undefined;
  /** whether `user` can search (traverse into) `dir` */
  canEnter(user: string, dir: string): boolean;
  tempBase: string;
  persistentBase: string;
};

export const systemHost: DataDirHost = {
  isRoot: process.getuid?.() === 0,
  userIds(user) {
    const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
    if (uid.status !== 0 || gid.status !== 0) return undefined;
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  },
  canEnter(user, dir) {
    // access(2) as that user resolves the whole path, so a closed parent anywhere fails it.
    return spawnSync('runuser', ['-u', user, '--', 'test', '-x', dir]).status === 0;
  },
  tempBase: tmpdir(),
  persistentBase: PERSISTENT_BASE,
};

/**
 * Makes the data directory of a server that runs as `user` (when we are root) and returns where
 * it is. `temporary` servers (test clusters) get a relocated directory that `remove()` deletes.
 */
export function prepareServerDataDir(
  requested: string,
  user: string,
  opts: { temporary: boolean },
  host: DataDirHost = systemHost,
): ServerDataDir {
  const wanted = resolve(requested);
  const here: ServerDataDir = { dir: wanted, relocated: false, remove() {} };
  if (!host.isRoot) {
    mkdirSync(wanted, { recursive: true, mode: 0o700 });
    return here;
  }
  const ids = host.userIds(user);
  if (!ids) throw new Error(`Running as root, but there is no \`${user}\` system user to run the server as.`);
  // Parents we create stay traversable for the server's user; the data directory is private.
  mkdirSync(dirname(wanted), { recursive: true, mode: 0o755 });
  const link = lstatSync(wanted, { throwIfNoEntry: false });
  if (!link?.isSymbolicLink() && host.canEnter(user, dirname(wanted))) {
    mkdirSync(wanted, { recursive: true, mode: 0o700 });
    chownSync(wanted, ids.uid, ids.gid);
    return here;
  }

  const base = opts.temporary ? host.tempBase : host.persistentBase;
  mkdirSync(base, { recursive: true, mode: 0o755 });
  if (!host.canEnter(user, base)) {
    throw new Error(
      `The ${user} user can reach neither ${dirname(wanted)} nor ${base}, so the server cannot keep its data anywhere.\n` +
        `hint: clone the project into a folder the ${user} user can enter (chmod o+x on its parents), or set TMPDIR to one`,
    );
  }
  const tag = createHash('sha256').update(wanted).digest('hex').slice(0, 12);
  const real = join(base, `resistro-${user}-${basename(wanted)}-${tag}`);
  mkdirSync(real, { recursive: true, mode: 0o700 });
  chownSync(real, ids.uid, ids.gid);
  if (link?.isSymbolicLink()) {
    if (readlinkSync(wanted) !== real) {
      unlinkSync(wanted);
      symlinkSync(real, wanted);
    }
  } else if (link?.isDirectory()) {
    // An empty folder someone made in advance becomes the link; data already in it (from a run by
    // a user who could reach it) is never moved or deleted.
    if (readdirSync(wanted).length > 0) {
      throw new Error(
        `${wanted} holds server data the ${user} user cannot reach (a parent folder is closed to it).\n` +
          `hint: make the parent folders traversable (chmod o+x), or move the checkout`,
      );
    }
    rmdirSync(wanted);
    symlinkSync(real, wanted);
  } else {
    symlinkSync(real, wanted);
  }
  return {
    dir: real,
    relocated: true,
    remove() {
      if (!opts.temporary) return;
      rmSync(real, { recursive: true, force: true });
      if (lstatSync(wanted, { throwIfNoEntry: false })?.isSymbolicLink()) unlinkSync(wanted);
    },
  };
}
