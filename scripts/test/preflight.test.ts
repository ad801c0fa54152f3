import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  type Lookup,
  missingRequirements,
  preflightMessage,
  selectedProjects,
  systemLookup,
} from './preflight.ts';

const root = mkdtempSync(join(tmpdir(), 'resistro-preflight-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A directory of empty executables with these names, to put on an injected PATH. */
function binDir(name: string, programs: string[]): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const p of programs) {
    writeFileSync(join(dir, p), '#!/bin/sh\n');
    chmodSync(join(dir, p), 0o755);
  }
  return dir;
}

/** A whole machine: programs on PATH, plus files that exist (server binaries, the browser). */
function machine(programs: string[], files: string[] = [], env: Record<string, string> = {}): Lookup {
  const onDisk = systemLookup({ PATH: binDir(`bin-${programs.join('-') || 'none'}`, programs), ...env }, []);
  return {
    ...onDisk,
    exists: (p) => files.includes(p),
    list: (dir) =>
      files.filter((f) => f.startsWith(`${dir}/`)).map((f) => f.slice(dir.length + 1).split('/')[0]!),
  };
}

const EVERYTHING = [
  'pg_dump',
  'psql',
  'mariadbd',
  'mariadb-install-db',
  'mariadb',
  'mariadb-dump',
  'zstd',
  'debootstrap',
  'qemu-aarch64-static',
  'sqlite3',
  'redis-server',
  'redis-cli',
  'openssl',
];
const FILES = ['/usr/lib/postgresql/15/bin/postgres', '/usr/bin/chromium'];

describe('npm test preflight', () => {
  test('finds nothing missing on a machine with every server, client and the browser', () => {
    expect(preflightMessage(selectedProjects([]), machine(EVERYTHING, FILES))).toBeUndefined();
  });

  test('names a missing MariaDB and Chromium with one apt command that installs both', () => {
    const l = machine(
      [
        'pg_dump',
        'psql',
        'zstd',
        'debootstrap',
        'qemu-aarch64-static',
        'sqlite3',
        'redis-server',
        'redis-cli',
        'openssl',
      ],
      ['/usr/lib/postgresql/15/bin/postgres'],
    );
    const message = preflightMessage(selectedProjects([]), l)!;
    expect(message).toContain('MariaDB server');
    expect(message).toContain('MariaDB client tools');
    expect(message).toContain('Chromium');
    expect(message).not.toContain('PostgreSQL');
    expect(message).toContain('apt-get install -y mariadb-server mariadb-client chromium');
  });

  test('names missing PostgreSQL server binaries and zstd', () => {
    const l = machine(
      ['pg_dump', 'psql', 'mariadbd', 'mariadb-install-db', 'mariadb', 'mariadb-dump', 'redis-server'],
      ['/usr/bin/chromium', '/usr/lib/postgresql/README'],
    );
    const names = missingRequirements(selectedProjects([]), l).flatMap((r) => r.apt);
    expect(names).toEqual([
      'postgresql',
      'sqlite3',
      'redis-server',
      'redis-tools',
      'openssl',
      'zstd',
      'debootstrap',
      'qemu-user-static',
    ]);
  });

  test('looks for the browser where CHROMIUM_PATH says', () => {
    const files = ['/usr/lib/postgresql/15/bin/postgres', '/opt/chrome/chrome'];
    expect(missingRequirements(['integration'], machine(EVERYTHING, files)).map((r) => r.apt)).toEqual([
      ['chromium'],
    ]);
    expect(
      missingRequirements(
        ['integration'],
        machine(EVERYTHING, files, { CHROMIUM_PATH: '/opt/chrome/chrome' }),
      ),
    ).toEqual([]);
  });

  test('asks nothing of the suites that need no servers', () => {
    const bare = machine([]);
    expect(selectedProjects(['--project', 'unit', '--project=web'])).toEqual(['unit', 'web']);
    expect(preflightMessage(['unit', 'web'], bare)).toBeUndefined();
    expect(missingRequirements(['engines'], bare).flatMap((r) => r.apt)).toEqual([
      'postgresql',
      'postgresql-client',
      'mariadb-server',
      'mariadb-client',
      'sqlite3',
      'redis-server',
      'redis-tools',
    ]);
  });

  test('a program counts only when it is in a PATH directory', () => {
    const l = systemLookup({ PATH: `${binDir('one', ['zstd'])}:${join(root, 'absent')}` }, []);
    expect(l.onPath('zstd')).toBe(true);
    expect(l.onPath('mariadbd')).toBe(false);
  });
});
