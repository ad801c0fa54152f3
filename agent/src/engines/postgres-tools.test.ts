import { describe, expect, test } from 'vitest';
import { EngineError } from './engine.ts';
import {
  findPgTools,
  type PgTool,
  parsePgVersion,
  pgMajor,
  pgMajorFromVersionNum,
  selectPgDump,
  selectPsql,
} from './postgres-tools.ts';
import type { ToolHost } from './tools.ts';

/** A made-up machine: directory listings, the executables on it, and what `--version` prints. */
function fakeHost(machine: {
  dirs: Record<string, string[]>;
  versions: Record<string, string>;
  searchPath?: string;
}): ToolHost {
  return {
    listDir: (dir) => machine.dirs[dir] ?? [],
    isExecutable: (path) => path in machine.versions,
    realDir: (dir) => (dir === '/bin' ? '/usr/bin' : dir),
    versionOutput: async (path) => machine.versions[path],
    searchPath: machine.searchPath ?? '/usr/local/bin:/usr/bin:/bin',
  };
}

const debianWithThree = fakeHost({
  dirs: { '/usr/lib/postgresql': ['12', '15', '17', 'README'], '/usr': ['bin', 'lib', 'share'] },
  versions: {
    '/usr/lib/postgresql/12/bin/pg_dump': 'pg_dump (PostgreSQL) 12.22 (Debian 12.22-1.pgdg120+1)',
    '/usr/lib/postgresql/15/bin/pg_dump': 'pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)',
    '/usr/lib/postgresql/17/bin/pg_dump': 'pg_dump (PostgreSQL) 17.6 (Debian 17.6-1.pgdg120+1)',
    // Debian's pg_wrapper on PATH answers with the newest version it finds
    '/usr/bin/pg_dump': 'pg_dump (PostgreSQL) 17.6 (Debian 17.6-1.pgdg120+1)',
  },
});

const tool = (major: number): PgTool => ({
  name: 'pg_dump',
  version: `${major}.1`,
  path: `/pg/${major}/pg_dump`,
  major,
});

describe('finding pg_dump', () => {
  test('finds one pg_dump per installed major version, newest first, preferring version directories over PATH', async () => {
    const tools = await findPgTools(debianWithThree, 'pg_dump');
    expect(tools.map((t) => [t.major, t.path])).toEqual([
      [17, '/usr/lib/postgresql/17/bin/pg_dump'],
      [15, '/usr/lib/postgresql/15/bin/pg_dump'],
      [12, '/usr/lib/postgresql/12/bin/pg_dump'],
    ]);
    expect(tools[1]?.version).toBe('15.18');
  });

  test('finds PGDG RPM directories and a pg_dump only on PATH, each /usr/bin and /bin only once', async () => {
    const host = fakeHost({
      dirs: { '/usr': ['pgsql-16', 'bin'] },
      versions: {
        '/usr/pgsql-16/bin/pg_dump': 'pg_dump (PostgreSQL) 16.4',
        '/opt/pg/bin/pg_dump': 'pg_dump (PostgreSQL) 9.6.24',
        '/usr/bin/pg_dump': 'pg_dump (PostgreSQL) 13.16',
        '/bin/pg_dump': 'pg_dump (PostgreSQL) 13.16',
      },
      searchPath: '/opt/pg/bin:/usr/bin:/bin',
    });
    const tools = await findPgTools(host, 'pg_dump');
    expect(tools.map((t) => [t.major, t.path])).toEqual([
      [16, '/usr/pgsql-16/bin/pg_dump'],
      [13, '/usr/bin/pg_dump'],
      [9.6, '/opt/pg/bin/pg_dump'],
    ]);
  });

  test('ignores a pg_dump that does not run', async () => {
    const host = fakeHost({ dirs: { '/usr/lib/postgresql': ['15'] }, versions: {} });
    host.isExecutable = () => true;
    expect(await findPgTools(host, 'pg_dump')).toEqual([]);
  });
});

describe('choosing pg_dump for a server', () => {
  test('takes the exact major version when installed', () => {
    expect(selectPgDump([tool(17), tool(15), tool(12)], 15).major).toBe(15);
  });

  test('takes the lowest newer major when the exact one is missing', () => {
    expect(selectPgDump([tool(17), tool(15), tool(12)], 13).major).toBe(15);
    expect(selectPgDump([tool(17), tool(12)], 9.6).major).toBe(12);
  });

  test('takes a 9.6 pg_dump for a 9.6 server', () => {
    expect(selectPgDump([tool(15), tool(9.6)], 9.6).major).toBe(9.6);
  });

  test('none fits: an error naming the version to install, with the apt command', () => {
    let err: unknown;
    try {
      selectPgDump([tool(15), tool(12)], 18);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EngineError);
    const e = err as EngineError;
    expect(e.code).toBe('tool_too_old');
    expect(e.message).toBe(
      'the PostgreSQL server is version 18, but no pg_dump 18 or newer is installed (found: 15, 12)',
    );
    expect(e.hint).toContain('apt-get install -y postgresql-client-18');
  });

  test('no pg_dump at all: tool_missing, still naming the version', () => {
    expect(() => selectPgDump([], 15)).toThrowError(/no pg_dump 15 or newer is installed \(found: none\)/);
  });

  test('psql: the newest, or an install hint', () => {
    expect(selectPsql([tool(17), tool(15)]).major).toBe(17);
    expect(() => selectPsql([])).toThrowError(EngineError);
  });
});

describe('PostgreSQL version numbers', () => {
  test.each([
    [90624, 9.6],
    [90224, 9.2],
    [100023, 10],
    [150018, 15],
    [180000, 18],
  ])('server_version_num %i is major %d', (num, major) => {
    expect(pgMajorFromVersionNum(num)).toBe(major);
  });

  test.each([
    ['pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)', '15.18', 15],
    ['psql (PostgreSQL) 9.6.24', '9.6.24', 9.6],
    ['pg_dump (PostgreSQL) 17beta1', '17beta1', 17],
    ['pg_dump (PostgreSQL) 10.5', '10.5', 10],
  ])('%s is version %s, major %d', (output, version, major) => {
    expect(parsePgVersion(output)).toBe(version);
    expect(pgMajor(version)).toBe(major);
  });

  test('output of something else has no version', () => {
    expect(parsePgVersion('bash: pg_dump: command not found')).toBeUndefined();
  });
});
