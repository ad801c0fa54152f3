// Setup of the engine contract against a real PostgreSQL server: the machine's own (Debian's, see
// scripts/stack), or the server of another major version from npm (postgres-versions.test.ts).
// The test user `resistro` owns its databases, is no superuser, and logs in over TCP with a
// password (scram-sha-256): the cluster's trust setup is narrowed to the `postgres` admin.
// Servers before 11 lack procedures, `execute function` and sha256(): the seed does without there.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../../scripts/stack/ports.ts';
import { startPostgres } from '../../../scripts/stack/postgres.ts';
import { getEngine } from '../../src/engines/index.ts';
import type { EngineUnderTest } from './contract.ts';
import {
  ALL_BYTES,
  AWKWARD_TEXT,
  BIG_TEXT,
  EMOJI_TEXT,
  makeTestDataDir,
  recordingSpawn,
  TEST_PASSWORD,
} from './helpers.ts';

const HBA = `local all all trust
host all postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
`;

const SCHEMA_SQL = `
create type mood as enum ('sad', 'ok', 'happy 😀');
create domain positive_int as integer check (value > 0);
create sequence invoice_no start 1000 increment 7;
select setval('invoice_no', 4242);
create table kitchen_sink (
  id serial primary key,
  i2 smallint, i4 integer, i8 bigint, num numeric(40,10), f4 real, f8 double precision,
  flag boolean, t text, vc varchar(100), ch char(5),
  d date, tm time, ttz timetz, ts timestamp(6), tstz timestamptz, iv interval,
  j json, jb jsonb, u uuid, ints integer[], texts text[], m mood, bytes bytea,
  ip inet, pos positive_int, updated_at timestamptz
);
comment on table kitchen_sink is 'Küche: every column type ''quoted'' 😀';
create index kitchen_sink_vc_idx on kitchen_sink (vc);
create table big (id integer primary key, payload text not null);
create table child (
  id bigint generated always as identity (start with 77) primary key,
  sink_id integer references kitchen_sink (id) on delete cascade,
  note text
);
`;

const ROW_SQL = `insert into kitchen_sink
  (i2, i4, i8, num, f4, f8, flag, t, vc, ch, d, tm, ttz, ts, tstz, iv, j, jb, u, ints, texts, m, bytes, ip, pos)
  values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)`;

const JSON_TEXT = '{"emoji": "😀", "quote": "\\"", "nested": {"a": [1, 2.5, null, true]}, "rtl": "שלום"}';

const OBJECTS_SQL = `
insert into child (sink_id, note) values (1, 'first'), (1, 'second');
select setval('kitchen_sink_id_seq', 500);
create view happy_rows as select id, t from kitchen_sink where m = 'happy 😀';
create function add_tax(amount numeric) returns numeric language sql immutable as $$ select amount * 1.19 $$;
create function touch_updated_at() returns trigger language plpgsql as $body$
begin
  -- 'quoted' "text" 😀 and a backslash \\ in a comment
  new.updated_at := now();
  return new;
end
$body$;
create trigger kitchen_sink_touch before update on kitchen_sink
  for each row execute function touch_updated_at();
create procedure bump_invoice(n integer) language plpgsql as $$
begin
  perform setval('invoice_no', nextval('invoice_no') + n);
end
$$;
`;

/** PostgreSQL 10: no procedures, and triggers name their function with `execute procedure`. */
function objectsBefore11(sql: string): string {
  const withoutProcedure = sql.replace(/create procedure bump_invoice[\s\S]*?\$\$;\n/, '');
  return withoutProcedure.replace(
    'execute function touch_updated_at()',
    'execute procedure touch_updated_at()',
  );
}

export type PostgresUnderTest = EngineUnderTest & {
  /** the server's major version (10, 11, … 18) */
  serverMajor: number;
};

/** `binDir`: the server binaries to run; without it the machine's own newest PostgreSQL. */
export async function setupPostgresEngine(opts: { binDir?: string } = {}): Promise<PostgresUnderTest> {
  const data = makeTestDataDir('engines-pg');
  const clusterDir = join(data.dir, 'cluster');
  const port = await freePort();
  const server = await startPostgres({ dir: clusterDir, port, fast: true, binDir: opts.binDir });

  const admin = new pg.Client({ connectionString: server.url() });
  await admin.connect();
  const serverMajor = Math.floor(
    Number((await admin.query("select current_setting('server_version_num') as v")).rows[0].v) / 10000,
  );
  // Before 14 the default is md5, which a scram-sha-256 line in pg_hba.conf does not accept.
  await admin.query("set password_encryption = 'scram-sha-256'");
  await admin.query(`create role resistro login password ${admin.escapeLiteral(TEST_PASSWORD)}`);
  writeFileSync(join(clusterDir, 'pg_hba.conf'), HBA);
  await admin.query('select pg_reload_conf()');
  // The reload is asynchronous: wait until a wrong password is really refused.
  for (let i = 0; ; i++) {
    const probe = new pg.Client({
      host: '127.0.0.1',
      port,
      user: 'resistro',
      password: 'x',
      database: 'postgres',
    });
    const refused = await probe.connect().then(
      () => false,
      () => true,
    );
    await probe.end().catch(() => {});
    if (refused) break;
    if (i > 50) throw new Error('pg_hba.conf reload did not take effect');
    await new Promise((r) => setTimeout(r, 50));
  }

  const asUser = async <T>(database: string, fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'resistro', password: TEST_PASSWORD, database });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };

  const exec = (database: string, sql: string) =>
    asUser(database, async (c) => {
      await c.query(sql);
    });

  const { spawn, records } = recordingSpawn();
  return {
    serverMajor,
    engine: getEngine('postgres', { spawn }),
    spawned: records,
    password: TEST_PASSWORD,
    target: (database) => ({
      engine: 'postgres',
      host: '127.0.0.1',
      port,
      database,
      user: 'resistro',
      password: TEST_PASSWORD,
    }),
    async createDatabase(name) {
      await admin.query(`create database ${admin.escapeIdentifier(name)} owner resistro`);
    },
    seedAwkward: (database) =>
      asUser(database, async (c) => {
        await c.query(SCHEMA_SQL);
        await c.query(ROW_SQL, [
          32767,
          -2147483648,
          '9223372036854775807',
          '-12345678901234567890.0123456789',
          '3.4028235e+38',
          '2.2250738585072014e-308',
          true,
          AWKWARD_TEXT,
          EMOJI_TEXT,
          'abc',
          '2024-02-29',
          '23:59:59.999999',
          '12:00:00+05:30',
          '1999-12-31 23:59:59.123456',
          '2038-01-19 03:14:08.5+00',
          '1 year 2 mons 3 days 04:05:06.789',
          JSON_TEXT,
          JSON_TEXT,
          'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
          [1, null, -3],
          ['a"b', 'c\\d', 'with,comma', '', null, '😀', 'NULL'],
          'happy 😀',
          ALL_BYTES,
          '2001:db8::1/64',
          42,
        ]);
        await c.query('insert into kitchen_sink default values');
        await c.query(
          `insert into kitchen_sink (i8, num, f4, f8, flag, t, d, ts) values
           (-9223372036854775808, 'NaN', 'NaN', '-Infinity', false, '', '-infinity', 'infinity')`,
        );
        await c.query('insert into big values (1, $1)', [BIG_TEXT]);
        await c.query(serverMajor >= 11 ? OBJECTS_SQL : objectsBefore11(OBJECTS_SQL));
      }),
    seedLarge: (database) =>
      exec(
        database,
        `create table filler (id integer primary key, payload text);
         insert into filler select g, repeat(md5(g::text), 30) from generate_series(1, 30000) g`,
      ),
    seedLeftover: (database) =>
      exec(
        database,
        'create table kitchen_sink (other integer); create table leftover (x integer); insert into leftover values (1)',
      ),
    hasLeftover: (database) =>
      asUser(
        database,
        async (c) => (await c.query("select to_regclass('public.leftover') is not null as x")).rows[0].x,
      ),
    seedRoutineOnly: (database) =>
      exec(database, "create function only_fn() returns integer language sql as 'select 1'"),
    readValues: (database) =>
      asUser(database, async (c) => {
        const { rows } = await c.query(`select
          (select t from kitchen_sink where id = 1) as awkward,
          (select vc from kitchen_sink where id = 1) as emoji,
          (select length(payload) from big where id = 1) as big_length,
          (select ${serverMajor >= 11 ? "encode(sha256(convert_to(payload, 'UTF8')), 'hex')" : 'payload'} from big where id = 1) as big_sha256,
          (select encode(bytes, 'hex') from kitchen_sink where id = 1) as bytes_hex`);
        const r = rows[0];
        return {
          awkward: r.awkward,
          emoji: r.emoji,
          bigLength: r.big_length,
          bigSha256:
            serverMajor >= 11 ? r.big_sha256 : createHash('sha256').update(r.big_sha256).digest('hex'),
          bytesHex: r.bytes_hex,
        };
      }),
    // pg_dump 15.14+ brackets the dump with \restrict/\unrestrict and a random key per dump.
    normaliseDump: (sql) => sql.replace(/^\\(un)?restrict \S+$/gm, '\\$1restrict <key>'),
    largeTableMarker: 'COPY public.filler',
    bigRowMarker: 'COPY public.big',
    atomicRestore: true,
    expectedTools: ['pg_dump', 'psql'],
    async stop() {
      await admin.end().catch(() => {});
      // postgres.ts stops the cluster with SIGINT to `runuser`, which does not pass SIGINT on
      // (as root the cluster runs under runuser): signal the postmaster itself.
      const postmaster = Number(readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (postmaster > 0) process.kill(postmaster, 'SIGINT');
      await server.stop();
      data.remove();
    },
  };
}
