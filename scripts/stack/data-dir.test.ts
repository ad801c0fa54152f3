import { existsSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { type DataDirHost, prepareServerDataDir } from './data-dir.ts';

const root = mkdtempSync(join(tmpdir(), 'resistro-data-dir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A root machine where the server's user cannot enter `closed` (a checkout in a 0700 folder). */
function host(
  closed: string,
  tempBase = join(root, 'tmp'),
  persistentBase = join(root, 'var-lib'),
): DataDirHost {
  return {
    isRoot: true,
    // chown to ourselves works for any user running the test
    userIds: (user) => (user === 'postgres' ? { uid: process.getuid!(), gid: process.getgid!() } : undefined),
    canEnter: (_user, dir) => !dir.startsWith(closed),
    tempBase,
    persistentBase,
  };
}

describe('server data directories', () => {
  test('keeps the data where asked when the server user can reach it', () => {
    const wanted = join(root, 'open/checkout/.test-data/pg');
    const d = prepareServerDataDir(wanted, 'postgres', { temporary: true }, host(join(root, 'closed')));
    expect(d).toMatchObject({ dir: wanted, relocated: false });
    expect(lstatSync(wanted).isDirectory()).toBe(true);
    expect(lstatSync(wanted).mode & 0o777).toBe(0o700);
  });

  test('moves a test cluster out of a closed checkout to the temp folder, links it, and removes it on stop', () => {
    const closed = join(root, 'closed1');
    const wanted = join(closed, 'clone/.test-data/x/data');
    const d = prepareServerDataDir(wanted, 'postgres', { temporary: true }, host(closed));
    expect(d.relocated).toBe(true);
    expect(d.dir.startsWith(join(root, 'tmp'))).toBe(true);
    expect(readlinkSync(wanted)).toBe(d.dir);
    // callers write through the link (pg_hba.conf) and find it in the real directory
    writeFileSync(join(wanted, 'pg_hba.conf'), 'local all all trust\n');
    expect(existsSync(join(d.dir, 'pg_hba.conf'))).toBe(true);
    d.remove();
    expect(existsSync(d.dir)).toBe(false);
    expect(lstatSync(wanted, { throwIfNoEntry: false })).toBeUndefined();
  });

  test('a persistent server (npm start) finds the same relocated data again and keeps it on stop', () => {
    const closed = join(root, 'closed2');
    const wanted = join(closed, 'clone/.data/postgres');
    const first = prepareServerDataDir(wanted, 'postgres', { temporary: false }, host(closed));
    expect(first.dir.startsWith(join(root, 'var-lib'))).toBe(true);
    writeFileSync(join(first.dir, 'PG_VERSION'), '15\n');
    first.remove();
    const again = prepareServerDataDir(wanted, 'postgres', { temporary: false }, host(closed));
    expect(again.dir).toBe(first.dir);
    expect(existsSync(join(again.dir, 'PG_VERSION'))).toBe(true);
  });

  test('never moves or deletes data already in an unreachable folder', () => {
    const closed = join(root, 'closed3');
    const wanted = join(closed, 'clone/.data/postgres');
    mkdirSync(wanted, { recursive: true });
    writeFileSync(join(wanted, 'PG_VERSION'), '15\n');
    expect(() => prepareServerDataDir(wanted, 'postgres', { temporary: false }, host(closed))).toThrow(
      /cannot reach/,
    );
    expect(existsSync(join(wanted, 'PG_VERSION'))).toBe(true);
  });

  test('says so when the server user can reach neither place', () => {
    const closed = join(root, 'closed4');
    const tempBase = join(closed, 'private-tmp');
    expect(() =>
      prepareServerDataDir(join(closed, 'clone/d'), 'postgres', { temporary: true }, host(closed, tempBase)),
    ).toThrow(/hint: /);
  });

  test('refuses to run as root without the system user', () => {
    expect(() =>
      prepareServerDataDir(join(root, 'open/m'), 'mysql', { temporary: true }, host(join(root, 'closed'))),
    ).toThrow(/no `mysql` system user/);
  });
});
