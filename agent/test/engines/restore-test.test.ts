// Test restores against real servers (PostgreSQL and MariaDB): a backup carries per-table row counts
// and hashes taken while dumping; a test restore into a scratch database passes when the copy
// matches them and the customer's checks hold, fails naming the table when the copy was altered
// before the comparison, and always drops the scratch database, leaving the source untouched.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { promisify } from 'node:util';
import type { CustomCheck } from '@resistro/contract';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runParallelPipeline } from '../../src/backup/parallel.ts';
import { runPipeline } from '../../src/backup/pipeline.ts';
import { createTableScanner, statsObject } from '../../src/backup/table-scan.ts';
import type { DatabaseTarget } from '../../src/engines/index.ts';
import { encodeStatsLine, generateSymmetricKey, parseEncryptionKey } from '../../src/format/index.ts';
import { encryptToBuffer } from '../../src/format/testing.ts';
import { createLogger } from '../../src/log.ts';
import { checkBackupFile } from '../../src/restore/restore.ts';
import { runRestoreTest } from '../../src/verify/restore-test.ts';
import type { EngineUnderTest } from './contract.ts';
import { dumpToString, makeTestDataDir } from './helpers.ts';
import { setupMariadbEngine } from './mariadb-setup.ts';
import { type PostgresUnderTest, setupPostgresEngine } from './postgres-setup.ts';

const execFileAsync = promisify(execFile);
const keyText = generateSymmetricKey();
const key = parseEncryptionKey(keyText);
const CLI = join(import.meta.dirname, '../../src/cli.ts');

/** `resistro …` as a user runs it: its own process, the key and the password in the environment. */
function cli(args: string[], password: string, envKey = 'PGPASSWORD') {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--no-warnings', CLI, ...args],
      {
        env: {
          PATH: process.env.PATH,
          HOME: files.dir,
          RESISTRO_ENV_FILE: '/dev/null',
          RESISTRO_ENCRYPTION_KEY: keyText,
          RESISTRO_LOG_FORMAT: 'text',
          RESISTRO_LOG_LEVEL: 'warn',
          [envKey]: password,
        },
      },
      (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
    );
  });
}
const log = createLogger({ level: 'error', json: true, write: () => {} });
let files: { dir: string; remove(): void };

beforeAll(() => {
  files = makeTestDataDir('restore-test');
});
afterAll(() => files?.remove());

const check = (sql: string, op: CustomCheck['expect']['op'], value: string): CustomCheck => ({
  id: randomUUID(),
  name: sql.slice(0, 40),
  sql,
  expect: { op, value },
});

const scratchName = () => `resistro_verify_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

function testOptions(e: EngineUnderTest, source: string, path: string, size: number) {
  return {
    path,
    size,
    backupId: randomUUID(),
    key,
    server: e.target(source),
    sourceDatabase: source,
    scratchDatabase: scratchName(),
    checks: [] as CustomCheck[],
    timeLimitMs: 300_000,
    log,
  };
}

describe('PostgreSQL', () => {
  let e: PostgresUnderTest;
  let admin: pg.Client;
  let path = '';
  let size = 0;
  const sql = async (database: string, text: string) => {
    const c = new pg.Client({ ...e.target(database), password: e.password });
    await c.connect();
    try {
      return (await c.query(text)).rows;
    } finally {
      await c.end();
    }
  };
  const databases = async () =>
    (await admin.query("select datname from pg_database where datname like 'resistro_verify_%'")).rows;

  beforeAll(async () => {
    e = await setupPostgresEngine();
    const t = e.target('postgres');
    admin = new pg.Client({ host: t.host, port: t.port, user: 'postgres', database: 'postgres' });
    await admin.connect();
    // The scratch database is created by the agent's own user.
    await admin.query('alter role resistro createdb');
    await e.createDatabase('vt_source');
    await e.seedAwkward('vt_source');
    await sql(
      'vt_source',
      `create table ledger (id int primary key, amount numeric not null);
       insert into ledger select i, case when i % 2 = 0 then 10 else -10 end from generate_series(1, 4000) i;
       create table "Mixed Case" (id int, t text); insert into "Mixed Case" values (1, E'tab\\there'), (2, null);
       create table nothing (id int);`,
    );
    path = join(files.dir, 'pg.resistro');
    const target = e.target('vt_source');
    // ledger gets a section of its own; the other tables share the '*' section.
    const plan = await e.engine.parallelDump!(target, { minSectionBytes: 64 * 1024 });
    const sink = createWriteStream(path);
    const result = await runParallelPipeline({
      plan,
      target,
      key,
      level: 3,
      compressor: 'auto',
      jobs: 2,
      sink,
      tableStats: true,
    });
    size = result.bytes;
  }, 120_000);
  afterAll(async () => {
    await admin?.end();
    await e?.stop();
  });

  it('the backup carries every table’s row count, equal to the source’s', async () => {
    const file = await checkBackupFile(path, key);
    expect(file.version).toBe(2);
    const rows = Object.fromEntries(file.tableStats!.tables.map((t) => [t.name, t.rows]));
    expect(rows).toMatchObject({
      'public.ledger': 4000,
      'public."Mixed Case"': 2,
      'public.nothing': 0,
      'public.kitchen_sink': Number((await sql('vt_source', 'select count(*) from kitchen_sink'))[0].count),
      'public.child': 2,
    });
  });

  it('passes: every table matches, the checks hold, the scratch database is gone, the source untouched', async () => {
    // pg_dump's \restrict key is random per dump: everything else must be equal.
    const dump = async () =>
      (await dumpToString(e.engine, e.target('vt_source'))).replace(/^\\(un)?restrict .*$/gm, '');
    const before = await dump();
    const phases: string[] = [];
    const o = testOptions(e, 'vt_source', path, size);
    const verdict = await runRestoreTest({
      ...o,
      checks: [
        check('select count(*) from ledger', '>', '0'),
        check('select sum(amount) from ledger;', '=', '0'),
      ],
      onPhase: (p) => phases.push(p),
    });
    expect(verdict).toMatchObject({
      status: 'passed',
      backupId: o.backupId,
      tables: { failed: 0, failures: [] },
    });
    expect(verdict.tables.checked).toBeGreaterThanOrEqual(6);
    expect(verdict.checks).toEqual([
      { id: o.checks[0]?.id ?? expect.any(String), passed: true, actual: '4000' },
      { id: expect.any(String), passed: true, actual: '0' },
    ]);
    expect(verdict.restoreMs).toBeGreaterThan(0);
    expect(phases).toEqual(['check', 'restore', 'verify', 'cleanup']);
    expect(await databases()).toEqual([]);
    expect(await dump()).toBe(before);
  });

  it('fails naming the table when rows were lost or changed in the restored copy', async () => {
    const verdict = await runRestoreTest({
      ...testOptions(e, 'vt_source', path, size),
      beforeVerify: async (scratch: DatabaseTarget) => {
        await sql(scratch.database, 'delete from ledger where id = 7');
        await sql(scratch.database, `update "Mixed Case" set t = 'changed' where id = 2`);
      },
    });
    expect(verdict.status).toBe('failed');
    expect(verdict.tables.failed).toBe(2);
    expect(verdict.tables.failures).toEqual(
      expect.arrayContaining([
        { table: 'public.ledger', reason: 'rows_differ', expectedRows: 4000, actualRows: 3999 },
        { table: 'public."Mixed Case"', reason: 'content_differs', expectedRows: 2, actualRows: 2 },
      ]),
    );
    expect(await databases()).toEqual([]);
  });

  it('a failing customer check fails the test with the value it saw; a broken query with its error', async () => {
    const verdict = await runRestoreTest({
      ...testOptions(e, 'vt_source', path, size),
      checks: [check('select count(*) from ledger', '>', '5000'), check('select nope from ledger', '=', '1')],
    });
    expect(verdict.status).toBe('failed');
    expect(verdict.tables.failed).toBe(0);
    expect(verdict.checks[0]).toMatchObject({ passed: false, actual: '4000' });
    expect(verdict.checks[1]?.passed).toBe(false);
    expect(verdict.checks[1]?.error).toMatch(/nope/);
  });

  it('a check cannot write: it runs read-only', async () => {
    const verdict = await runRestoreTest({
      ...testOptions(e, 'vt_source', path, size),
      checks: [check('select 1; delete from ledger', '=', '1')],
    });
    expect(verdict.checks[0]?.passed).toBe(false);
    expect(verdict.checks[0]?.error).toMatch(/read-only/);
  });

  it('cancelled during the restore: reported cancelled, the scratch database dropped', async () => {
    const stop = new AbortController();
    const verdict = await runRestoreTest({
      ...testOptions(e, 'vt_source', path, size),
      signal: stop.signal,
      onPhase: (p) => {
        if (p === 'restore') stop.abort();
      },
    });
    expect(verdict).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
    expect(await databases()).toEqual([]);
  });

  it('past its time limit: an error with code time_limit', async () => {
    const verdict = await runRestoreTest({ ...testOptions(e, 'vt_source', path, size), timeLimitMs: 1 });
    expect(verdict).toMatchObject({ status: 'error', error: { code: 'time_limit' } });
    expect(await databases()).toEqual([]);
  });

  it('a backup without statistics (an older agent) is an error no_table_stats, nothing restored', async () => {
    const old = join(files.dir, 'pg-old.resistro');
    const target = e.target('vt_source');
    const plan = await e.engine.parallelDump!(target);
    const sink = createWriteStream(old);
    const result = await runParallelPipeline({
      plan,
      target,
      key,
      level: 3,
      compressor: 'auto',
      jobs: 1,
      sink,
    });
    await finished(sink);
    const verdict = await runRestoreTest(testOptions(e, 'vt_source', old, result.bytes));
    expect(verdict).toMatchObject({ status: 'error', error: { code: 'no_table_stats' } });
    expect(verdict.restoreMs).toBeUndefined();
  });

  it('a backup from before GMAC statistics (format -1, SHA-256) still verifies, and still catches a lost row', async () => {
    // Written as agents wrote it then: a version 1 file, the SHA-256 statistics line at its end.
    const text = await dumpToString(e.engine, e.target('vt_source'));
    const scanner = createTableScanner('postgres', { alg: 'sha256' });
    scanner.write(Buffer.from(text));
    const stats = statsObject('postgres', { alg: 'sha256' }, scanner.end());
    const old = join(files.dir, 'pg-sha256.resistro');
    writeFileSync(
      old,
      await encryptToBuffer(key, Buffer.concat([Buffer.from(text), encodeStatsLine(stats)]), {
        compression: 'none',
      }),
    );
    const file = await checkBackupFile(old, key);
    expect(file.tableStats?.format).toBe('resistro-table-stats-1');
    const passed = await runRestoreTest(testOptions(e, 'vt_source', old, statSync(old).size));
    expect(passed).toMatchObject({ status: 'passed', tables: { failed: 0 } });
    expect(passed.tables.checked).toBe(stats.tables.length);
    const failed = await runRestoreTest({
      ...testOptions(e, 'vt_source', old, statSync(old).size),
      beforeVerify: async (scratch) => {
        await sql(scratch.database, 'delete from ledger where id = 7');
      },
    });
    expect(failed).toMatchObject({
      status: 'failed',
      tables: {
        failures: [{ table: 'public.ledger', reason: 'rows_differ', expectedRows: 4000, actualRows: 3999 }],
      },
    });
  });

  it('resistro verify --restore --file prints the verdict; restore --list the tables with their rows', async () => {
    const t = e.target('vt_source');
    const server = ['--host', t.host, '--port', String(t.port), '--user', t.user, '--database', 'vt_source'];
    const ok = await cli(['verify', '--restore', '--file', path, ...server], e.password);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^PASSED {2}test restore of /);
    expect(ok.stdout).toMatch(/tables: \d+ checked, all match/);
    const json = await cli(['verify', '--restore', '--json', '--file', path, ...server], e.password);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'passed', tables: { failed: 0 } });
    expect(await databases()).toEqual([]);

    const wrong = await cli(['verify', '--restore', '--file', path, ...server], 'not the password');
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/^ERROR {2}test restore/);
    expect(wrong.stdout).toMatch(/connection_failed/);

    const usage = await cli(['verify', '--restore', '--file', path], e.password);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/needs the server/);

    const copy = await cli(
      ['restore', '--file', path, '--table', 'public.ledger', '--as', 'ledger_copy', ...server],
      e.password,
    );
    expect(copy.code, copy.stderr).toBe(0);
    expect((await sql('vt_source', 'select count(*) as n, sum(amount) as s from ledger_copy'))[0]).toEqual({
      n: '4000',
      s: '0',
    });
    await sql('vt_source', 'drop table ledger_copy');

    const list = await cli(['restore', '--list', '--file', path], e.password);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ +4000 {2}public\.ledger$/m);
    expect(list.stdout).toMatch(/^ +0 {2}public\.nothing$/m);
  });

  it('refuses a scratch name that is not one of ours (the source can never be the target)', async () => {
    const verdict = await runRestoreTest({
      ...testOptions(e, 'vt_source', path, size),
      scratchDatabase: 'vt_source',
    });
    expect(verdict).toMatchObject({ status: 'error', error: { code: 'internal' } });
  });
});

describe('MariaDB', () => {
  let e: EngineUnderTest;
  let path = '';
  let size = 0;
  let query: (sql: string, database: string) => Promise<unknown>;

  beforeAll(async () => {
    e = await setupMariadbEngine('mariadb');
    await e.createDatabase('vt_maria');
    const target = e.target('vt_maria');
    query = (text: string, database: string) =>
      execFileAsync(
        'mariadb',
        [
          '--default-character-set=utf8mb4',
          `--host=${target.host}`,
          `--port=${target.port}`,
          `--user=${target.user}`,
          `--database=${database}`,
          '-e',
          text,
        ],
        { env: { ...process.env, MYSQL_PWD: target.password } },
      );
    // Awkward values for the INSERT reader: quotes, backslashes, newlines, ';' and '(' in strings,
    // binary data, NULL, emoji; a table with no rows; a large one split over several statements.
    await query(
      `CREATE TABLE big (id INT PRIMARY KEY, payload MEDIUMTEXT) CHARACTER SET utf8mb4;
       INSERT INTO big VALUES (1, REPEAT('x;(y)''z\\\\', 100000));
       CREATE TABLE notes (id INT PRIMARY KEY, t TEXT, b VARBINARY(20)) CHARACTER SET utf8mb4;
       INSERT INTO notes VALUES (1, 'it''s (a) test;\nnew line 😀', 0x00FF28), (2, NULL, NULL), (3, '\\\\', '');
       CREATE TABLE many (id INT PRIMARY KEY, v VARCHAR(100));
       INSERT INTO many SELECT seq, CONCAT('row ', seq, ' (', seq * 2, ');') FROM seq_1_to_20000;
       CREATE TABLE nothing (id INT);`,
      'vt_maria',
    );
    path = join(files.dir, 'maria.resistro');
    const sink = createWriteStream(path);
    await runPipeline({
      engine: e.engine,
      target,
      key,
      level: 3,
      compressor: 'auto',
      sink,
      tableStats: true,
    });
    await finished(sink);
    size = statSync(path).size;
  }, 120_000);
  afterAll(async () => {
    await e?.stop();
  });

  it('the backup (format version 1) ends with the statistics line, and still restores as before', async () => {
    const file = await checkBackupFile(path, key);
    expect(file.version).toBe(1);
    expect(file.tableStats?.dialect).toBe('mysql');
    const rows = Object.fromEntries(file.tableStats!.tables.map((t) => [t.name, t.rows]));
    expect(rows).toEqual({ big: 1, notes: 3, many: 20000, nothing: 0 });
  });

  it('restore --table: one table alone, under a new name, several at once; rows in the way are refused', async () => {
    const t = e.target('vt_maria');
    const server = ['--host', t.host, '--port', String(t.port), '--user', t.user];
    const count = async (table: string, database: string) =>
      (await e.engine.queryValue!({ ...t, database }, `SELECT COUNT(*) FROM ${table}`)).trim();
    const copy = await cli(
      [
        'restore',
        '--file',
        path,
        '--table',
        'many',
        '--as',
        'many_copy',
        ...server,
        '--database',
        'vt_maria',
      ],
      e.password,
      'MYSQL_PWD',
    );
    expect(copy.stderr).toBe('');
    expect(copy.code).toBe(0);
    expect(await count('many_copy', 'vt_maria')).toBe('20000');
    expect(await count('many', 'vt_maria')).toBe('20000'); // the original is untouched

    const refused = await cli(
      ['restore', '--file', path, '--table', 'notes', ...server, '--database', 'vt_maria'],
      e.password,
      'MYSQL_PWD',
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/already has rows/);

    await e.createDatabase('vt_maria_tables');
    const two = await cli(
      [
        'restore',
        '--file',
        path,
        '--table',
        'notes',
        '--table',
        'vt_maria.big',
        ...server,
        '--database',
        'vt_maria_tables',
      ],
      e.password,
      'MYSQL_PWD',
    );
    expect(two.code, two.stderr).toBe(0);
    expect(await count('notes', 'vt_maria_tables')).toBe('3');
    expect(await count('big', 'vt_maria_tables')).toBe('1');
    const tables = await e.engine.queryValue!(
      { ...t, database: 'vt_maria_tables' },
      "SELECT GROUP_CONCAT(TABLE_NAME ORDER BY TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'vt_maria_tables'",
    );
    expect(tables).toBe('big,notes');
    // what was restored is exactly what was dumped: the same figures as in the backup
    const missing = await cli(
      ['restore', '--file', path, '--table', 'nope', ...server, '--database', 'vt_maria_tables'],
      e.password,
      'MYSQL_PWD',
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/has no table `nope`/);
  });

  it('passes, and fails naming the table when the copy was altered', async () => {
    const o = testOptions(e, 'vt_maria', path, size);
    const passed = await runRestoreTest({
      ...o,
      checks: [check('SELECT COUNT(*) FROM many', '=', '20000')],
    });
    expect(passed.tables.failures).toEqual([]);
    expect(passed).toMatchObject({
      status: 'passed',
      tables: { failed: 0 },
      checks: [{ passed: true, actual: '20000' }],
    });

    const failed = await runRestoreTest({
      ...testOptions(e, 'vt_maria', path, size),
      beforeVerify: async (scratch) => {
        await query(
          "UPDATE notes SET t = 'it''s (a) test;' WHERE id = 1; DELETE FROM many WHERE id = 5;",
          scratch.database,
        );
      },
    });
    expect(failed.status).toBe('failed');
    expect(failed.tables.failures).toEqual([
      { table: 'many', reason: 'rows_differ', expectedRows: 20000, actualRows: 19999 },
      { table: 'notes', reason: 'content_differs', expectedRows: 3, actualRows: 3 },
    ]);
    expect(await e.engine.databaseExists(e.target('vt_maria'), o.scratchDatabase)).toBe(false);
  });
});
