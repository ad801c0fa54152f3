// The agent's state directory (RESISTRO_STATE_DIR, default /var/lib/resistro-agent):
//   identity.json   the agent's X25519 key pair (its identity towards the control plane)
//   config.json     the last configuration received in a heartbeat, so schedules run offline
//   schedule.json   the last schedule slot handled per database
//   running/        one record per backup in progress (to report it failed after a crash)
//   reports/        outcomes waiting for the control plane to come back
//   spool/          encrypted backups waiting for the control plane or storage to come back
//   locks/          one lock file per database: at most one backup of a database at a time
//   tmp/            ciphertext of large upload parts in flight (never plaintext)
// SECURITY: the directory is 0700 and files 0600: identity.json holds a private key.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export type StateDir = {
  root: string;
  path(...parts: string[]): string;
  /** the sub-directory, created (0700) if missing */
  dir(name: string): string;
};

export function openStateDir(root: string): StateDir {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const made = new Set<string>();
  return {
    root,
    path: (...parts) => join(root, ...parts),
    dir(name) {
      const path = join(root, name);
      if (!made.has(name)) {
        mkdirSync(path, { recursive: true, mode: 0o700 });
        made.add(name);
      }
      return path;
    },
  };
}

/** Writes JSON atomically (temporary file, then rename), mode 0600. */
export async function writeJson(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

export function writeJsonSync(path: string, value: unknown): void {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

/** The parsed JSON, or undefined when the file is missing or unreadable as JSON. */
export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function readJsonSync<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/**
 * True when `pid` runs and (where /proc tells) is a Node process: after a reboot a pid in an old
 * lock or record may belong to something else entirely.
 */
function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /node|resistro/.test(cmdline);
  } catch {
    return true;
  }
}

export type Lock = { release(): Promise<void> };

/**
 * A lock shared by every resistro process on this machine (the daemon and a `resistro backup` run
 * by hand): a file created exclusively, holding the owner's pid. A lock whose owner is gone (the
 * agent was killed) is taken over. Returns undefined when a live process holds it.
 */
export async function tryLock(path: string): Promise<Lock | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return {
        async release() {
          await rm(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (owner === process.pid || (Number.isInteger(owner) && owner > 0 && isAlive(owner))) return undefined;
      // The owner died: remove its lock and try again (another process may win the race).
      await rm(path, { force: true });
    }
  }
  return undefined;
}

/** pid of the live process holding the lock, if any */
export async function lockOwner(path: string): Promise<number | undefined> {
  const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
  return Number.isInteger(owner) && owner > 0 && isAlive(owner) ? owner : undefined;
}

export { isAlive as isProcessAlive };
