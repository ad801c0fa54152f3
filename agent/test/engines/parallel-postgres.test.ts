// Parallel backup and restore against a real PostgreSQL server: a sectioned archive made by N
// pg_dumps from one snapshot restores over N sessions into an identical database (by dump
// comparison), single tables restore from their section, damaged archives and failing restores
// leave the target empty, and version 1 files still restore.
import { execFileSync } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findZstdProgram } from '../../src/backup/compress.ts';
import { runParallelPipeline } from '../../src/backup/parallel.ts';
import { runPipeline } from '../../src/backup/pipeline.ts';
import { createPostgresSessions } from '../../src/engines/postgres.ts';
import { freshTablesSql } from '../../src/engines/postgres-parallel.ts';
import {
  ChunkCorruptError,
  generateSymmetricKey,
  openArchive,
  parseEncryptionKey,
  readFileHeader,
} from '../../src/format/index.ts';
import { createLogger } from '../../src/log.ts';
import { restoreArchiveParallel } from '../../src/restore/parallel.ts';
import { openSqlStream } from '../../src/restore/restore.ts';
import { restoreTable } from '../../src/restore/table.ts';
import { dumpToString, EXPECTED_VALUES, makeTestDataDir } from './helpers.ts';
import { type PostgresUnderTest, setupPostgresEngine } from './postgres-setup.ts';

const key = parseEncryptionKey(generateSymmetricKey());
const log = createLogger({ level: 'error', json: true, write: () => {} });
let e: PostgresUnderTest;
let files: { dir: string; remove(): void };
const sessions = createPostgresSessions();

// More than the kitchen sink: a partitioned table with an index to attach, a materialized view with
// an index, two tables whose foreign keys point at each other, a comment on an index, a table
// whose name needs quoting, and a sequence no table owns.
const EXTRA_SQL = `
create table part (id int, k int, v text) partition by range (k);
create table part_a partition of part for values from (0) to (100);
create table part_b partition of part for values from (100) to (200);
create index part_k on part (k);
alter table part add primary key (id, k);
insert into part select i, i % 200, 'v' || i from generate_series(1, 2000) i;
create materialized view totals as select k, count(*) as n from part group by k;
create index totals_k on totals (k);
create table ping (id int primary key, pong_id int);
create table pong (id int primary key, ping_id int references ping (id));
alter table ping add foreign key (pong_id) references pong (id);
insert into ping values (1, null); insert into pong values (1, 1); update ping set pong_id = 1;
comment on index part_k is 'Teilindex 😀';
create table "Odd ""name"".x" (id int primary key, t text);
insert into "Odd ""name"".x" select i, repeat('x', i % 50) from generate_series(1, 500) i;
create sequence loose_seq; select setval('loose_seq', 99);
create table bulk (id int primary key, t text);
insert into bulk select i, md5(i::text) || md5((i * 7)::text) from generate_series(1, 8000) i;
`;

async function sql(database: string, text: string, values?: unknown[]) {
  const c = new pg.Client({ ...e.target(database), password: e.password });
  await c.connect();
  try {
    return (await c.query(text, values)).rows;
  } finally {
    await c.end();
  }
}

async function parallelBackup(database: string, path: string, jobs: number, minSectionBytes = 0) {
  const target = e.target(database);
  const plan = await e.engine.parallelDump!(target, { minSectionBytes });
  const sink = createWriteStream(path);
  return await runParallelPipeline({ plan, target, key, level: 3, compressor: 'auto', jobs, sink });
}

async function fresh(name: string) {
  await e.createDatabase(name);
  return e.target(name);
}

async function expectSameDatabase(copy: string, source = 'par_source') {
  const [a, b] = [
    await dumpToString(e.engine, e.target(source)),
    await dumpToString(e.engine, e.target(copy)),
  ];
  expect(e.normaliseDump(b, copy)).toBe(e.normaliseDump(a, source));
}

beforeAll(async () => {
  e = await setupPostgresEngine();
  files = makeTestDataDir('parallel-pg');
  await e.createDatabase('par_source');
  await e.seedAwkward('par_source');
  await sql('par_source', EXTRA_SQL);
}, 180_000);

afterAll(async () => {
  await e?.stop();
  files?.remove();
});

describe('parallel PostgreSQL backup and restore', () => {
  const archive = () => join(files.dir, 'par.resistro');

  it('dumps every table in its own section from one snapshot and restores over 3 sessions into an identical database', async () => {
    const result = await parallelBackup('par_source', archive(), 3);
    expect((await readFileHeader(archive())).version).toBe(2);
    const toc = (await openArchive(archive(), key)).toc;
    const names = toc.sections.map((s) => `${s.kind} ${s.name}`);
    expect(names[0]).toBe('pre-data ');
    expect(names.at(-1)).toBe('post-data ');
    expect(names).toContain('data public.kitchen_sink');
    expect(names).toContain('data public."Odd ""name"".x"');
    expect(names).toContain('data public.part_a');
    expect(result.sections).toBe(toc.sections.length);

    const target = await fresh('par_copy');
    // The zstd program decompresses each section straight into its psql (the default when installed).
    const zstd = await findZstdProgram();
    expect(zstd).toBeDefined();
    const restored = await restoreArchiveParallel(archive(), key, target, { jobs: 3, sessions, log, zstd });
    expect(restored.postDataStatements).toBeGreaterThan(5);
    await expectSameDatabase('par_copy');
    expect(await e.readValues('par_copy')).toEqual(EXPECTED_VALUES);
    expect(await sql('par_copy', "select nextval('loose_seq') as n")).toEqual([{ n: '100' }]);
  });

  it('decrypts to one plain SQL script that psql restores in one transaction', async () => {
    const target = await fresh('par_plain');
    await e.engine.restore(target, await openSqlStream(archive(), key));
    await expectSameDatabase('par_plain');
  });

  it('sees only the snapshot: changes committed after it are in no section', async () => {
    await e.createDatabase('par_snap');
    await sql(
      'par_snap',
      'create table a (id int primary key); create table b (id int primary key); insert into a values (1); insert into b values (1)',
    );
    const target = e.target('par_snap');
    const plan = await e.engine.parallelDump!(target, { minSectionBytes: 0 });
    // After the snapshot and before any pg_dump started: a transfer between the two tables.
    await sql('par_snap', 'begin; delete from a; insert into b values (2); commit');
    const path = join(files.dir, 'snap.resistro');
    await runParallelPipeline({
      plan,
      target,
      key,
      level: 3,
      compressor: 'auto',
      jobs: 2,
      sink: createWriteStream(path),
    });
    const copy = await fresh('par_snap_copy');
    await restoreArchiveParallel(path, key, copy, { jobs: 2, sessions, log });
    expect(
      await sql('par_snap_copy', 'select (select count(*) from a) as a, (select count(*) from b) as b'),
    ).toEqual([{ a: '1', b: '1' }]);
  });

  it('puts small tables into one shared section and still restores identically', async () => {
    const path = join(files.dir, 'shared.resistro');
    await parallelBackup('par_source', path, 2, 64 * 1024);
    const toc = (await openArchive(path, key)).toc;
    expect(toc.sections.filter((s) => s.kind === 'data').map((s) => s.name)).toContain('*');
    expect(toc.sections.length).toBeLessThan((await openArchive(archive(), key)).toc.sections.length);
    const target = await fresh('par_shared');
    const lines: string[] = [];
    const debug = createLogger({ level: 'debug', json: true, write: (line) => lines.push(line) });
    await restoreArchiveParallel(path, key, target, { jobs: 2, sessions, log: debug });
    await expectSameDatabase('par_shared');
    // The shared section's tables (several, with indexes) have their index builds dealt into at
    // most -j sessions, not one session each.
    const own = new Set(toc.sections.filter((s) => s.kind === 'data' && s.name !== '*').map((s) => s.name));
    const indexSteps = lines
      .map((l) => JSON.parse(l) as { event: string; step?: string })
      .filter((r) => r.event === 'restore.step' && r.step?.startsWith('indexes of '))
      .map((r) => r.step!.slice('indexes of '.length));
    const shared = indexSteps.filter((tables) => !own.has(tables));
    expect(shared.length).toBeGreaterThan(0);
    expect(shared.length).toBeLessThanOrEqual(2);
    expect(shared.join(', ').split(', ').length).toBeGreaterThan(shared.length);
  });

  it("keeps every table's physical row order, also where one COPY into an existing table would not", async () => {
    // Rows deleted (a third of a table of rows of different lengths) and updated (a quarter of a
    // small one) leave free space that a COPY into the table's existing storage fills back with
    // later, smaller rows: the same rows in another order, so the dumps differ (the 4 GB bench's
    // source, loaded by two sessions at once, had such pages too). With the section's tables given
    // new storage in its own transaction, the rows land in the order of the backup, in the table's
    // own section and in the shared one alike.
    await e.createDatabase('par_order');
    await sql(
      'par_order',
      `create table scattered (id int primary key, t text);
       insert into scattered select i, repeat(md5(i::text), 1 + (i * 7919) % 19) from generate_series(1, 6000) i;
       delete from scattered where id % 3 = 0;
       create table touched (id int primary key, n int, t text);
       insert into touched select i, 0, repeat('s', 20 + (i * 31) % 200) from generate_series(1, 300) i;
       update touched set n = n + 1, t = t || 'x' where id % 4 = 0;`,
    );
    await sql('par_order', 'vacuum');
    const path = join(files.dir, 'order.resistro');
    await parallelBackup('par_order', path, 2, 256 * 1024);
    const toc = (await openArchive(path, key)).toc;
    expect(toc.sections.filter((s) => s.kind === 'data').map((s) => s.name)).toEqual([
      '*',
      'public.scattered',
    ]);
    for (const [copy, zstd] of [
      ['par_order_zstd', await findZstdProgram()],
      ['par_order_node', undefined],
    ] as const) {
      await restoreArchiveParallel(path, key, await fresh(copy), { jobs: 2, sessions, log, zstd });
      await expectSameDatabase(copy, 'par_order');
    }
  });

  it('gives only empty tables that no other session holds new storage, whatever their names', async () => {
    await e.createDatabase('par_fresh');
    await sql(
      'par_fresh',
      `create table "it's \\ ""odd""" (id int); create table filled (id int); insert into filled values (1);
       create table busy (id int); create table own (id int); create table plain (id int);`,
    );
    const storage = async () =>
      Object.fromEntries(
        (
          await sql(
            'par_fresh',
            "select relname, pg_relation_filenode(oid)::text as node from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace",
          )
        ).map((r) => [r.relname, r.node]),
      );
    const holder = new pg.Client({ ...e.target('par_fresh'), password: e.password });
    await holder.connect();
    try {
      await holder.query('begin; lock table busy in access share mode');
      const before = await storage();
      const target = e.target('par_fresh');
      // The shared section: every table but those with a section of their own ("own").
      await sessions.run(target, 'select 1;\n', {
        singleTransaction: true,
        first: freshTablesSql({ except: ['public.own'] }),
      });
      const shared = await storage();
      expect(Object.keys(shared).filter((t) => shared[t] !== before[t])).toEqual(
        expect.arrayContaining(['it\'s \\ "odd"', 'plain']),
      );
      expect(Object.keys(shared).filter((t) => shared[t] !== before[t])).toHaveLength(2);
      expect(await sql('par_fresh', 'select count(*) as n from filled')).toEqual([{ n: '1' }]);
      // A table's own section: that table only, by the name the table of contents spells.
      await sessions.run(target, 'select 1;\n', {
        singleTransaction: true,
        first: freshTablesSql({ only: ['public."it\'s \\ ""odd"""'] }),
      });
      const own = await storage();
      expect(Object.keys(own).filter((t) => own[t] !== shared[t])).toEqual(['it\'s \\ "odd"']);
      // Too long a list for one argument of psql: no SQL (the section loads without it).
      const long = Array.from({ length: 500 }, (_, i) => `public."${'Ä"'.repeat(60)}${i}"`);
      expect(freshTablesSql({ except: long })).toBeUndefined();
      expect(freshTablesSql({ except: long.slice(0, 100) })).toContain('SET LOCAL resistro.fresh_except');
    } finally {
      await holder.end();
    }
  });

  it('restores one table from its section (created from pre-data), and from the shared section', async () => {
    const target = await fresh('par_table');
    const own = await restoreTable(archive(), key, target, 'public."Odd ""name"".x"', {
      sessions,
      replace: false,
    });
    expect(own).toEqual({ section: 'public."Odd ""name"".x"', created: true });
    expect(await sql('par_table', 'select count(*) as n, sum(length(t)) as l from "Odd ""name"".x"')).toEqual(
      await sql('par_source', 'select count(*) as n, sum(length(t)) as l from "Odd ""name"".x"'),
    );
    // A second time: the table has rows now, which only --replace may empty.
    await expect(
      restoreTable(archive(), key, target, 'public."Odd ""name"".x"', { sessions, replace: false }),
    ).rejects.toThrow(/already has rows/);
    const shared = join(files.dir, 'shared.resistro');
    const fromShared = await restoreTable(shared, key, target, 'ping', { sessions, replace: false });
    expect(fromShared.section).toBe('*');
    expect(await sql('par_table', 'select id, pong_id from ping')).toEqual([{ id: 1, pong_id: 1 }]);
  });

  it.each([
    ['node:zlib', false],
    ['the zstd program', true],
  ])(
    'leaves the target empty when a data section is damaged after psql got some of it (%s)',
    async (_label, program) => {
      const bytes = readFileSync(archive());
      const opened = await openArchive(archive(), key);
      const bulk = opened.toc.sections.find((s) => s.name === 'public.bulk')!;
      // The section's last chunk: the ones before it reached psql (a COPY under way) when it fails.
      expect(bulk.chunks).toBeGreaterThan(2);
      const [offset, length] = bulk.segments.at(-1)!;
      bytes[offset + length - 30]! ^= 0x01;
      const damaged = join(files.dir, 'damaged.resistro');
      writeFileSync(damaged, bytes);
      const target = await fresh(`par_damaged_${program ? 'zstd' : 'node'}`);
      const zstd = program ? await findZstdProgram() : undefined;
      await expect(
        restoreArchiveParallel(damaged, key, target, { jobs: 3, sessions, log, zstd }),
      ).rejects.toBeInstanceOf(ChunkCorruptError);
      expect(await e.engine.isEmpty(target)).toBe(true);
    },
  );

  it('leaves the target empty when a statement fails midway, and refuses a database that is not empty', async () => {
    const target = await fresh('par_failing');
    await sql(
      'par_failing',
      'create schema other; create table other.t (id int); create index kitchen_sink_vc_idx on other.t (id)',
    );
    await expect(
      restoreArchiveParallel(archive(), key, target, { jobs: 2, sessions, log }),
    ).rejects.toMatchObject({
      code: 'target_not_empty',
    });
    expect(await sql('par_failing', 'select count(*) as n from other.t')).toEqual([{ n: '0' }]);

    // An empty target; after the second data section loaded, something else creates an index
    // whose name post-data's CREATE INDEX then collides with.
    const broken = await fresh('par_broken');
    const original = sessions.run;
    let dataSections = 0;
    const sabotaged = {
      ...sessions,
      run: async (...args: Parameters<typeof sessions.run>) => {
        await original(...args);
        if (++dataSections === 3)
          await sql('par_broken', 'create index kitchen_sink_vc_idx on kitchen_sink (id)');
      },
    };
    await expect(
      restoreArchiveParallel(archive(), key, broken, { jobs: 2, sessions: sabotaged, log }),
    ).rejects.toThrow(/already exists/);
    expect(await e.engine.isEmpty(broken)).toBe(true);
  });

  it.each([
    ['node:zlib', false],
    ['the zstd program', true],
  ])(
    'stops a session whose psql had not started yet when another session fails (%s)',
    async (_label, program) => {
      // Session 2 fails while session 3 is still between "taken" and "psql started": its input is
      // stopped before psql reads it. That psql must be killed, not left waiting for input forever.
      const target = await fresh(`par_window_${program ? 'zstd' : 'node'}`);
      const zstd = program ? await findZstdProgram() : undefined;
      let calls = 0;
      const racing = {
        ...sessions,
        run: async (...args: Parameters<typeof sessions.run>) => {
          const n = ++calls;
          if (n === 2) throw new Error('the first data session failed');
          if (n === 3) await new Promise((resolve) => setTimeout(resolve, 300));
          return sessions.run(...args);
        },
      };
      await expect(
        restoreArchiveParallel(archive(), key, target, { jobs: 2, sessions: racing, log, zstd }),
      ).rejects.toThrow('the first data session failed');
      expect(calls).toBe(3);
      expect(await e.engine.isEmpty(target)).toBe(true);
    },
  );

  it.each([
    ['node:zlib', false],
    ['the zstd program', true],
  ])(
    'a cancel kills a session that has taken all of its input but is still working (%s)',
    async (_label, program) => {
      // The first data session's whole input is handed over at once, then psql keeps working (here:
      // sleeping, as a big index build or a dead network path would). Destroying its input no
      // longer reaches psql; the cancel must kill it, and nothing may stay behind.
      const target = await fresh(`par_busy_${program ? 'zstd' : 'node'}`);
      const zstd = program ? await findZstdProgram() : undefined;
      const stop = new AbortController();
      let calls = 0;
      let busy = false;
      const slow = {
        ...sessions,
        run: async (...args: Parameters<typeof sessions.run>) => {
          if (++calls !== 2) return sessions.run(...args);
          const script = 'select pg_sleep(600);\n';
          const input = zstd ? execFileSync(zstd.path, ['-q', '-c'], { input: script }) : Buffer.from(script);
          busy = true;
          setTimeout(() => stop.abort(new Error('cancelled in the dashboard')), 300);
          // (without the section's TRUNCATE: the sleep stands for work that holds no lock the
          // cleanup needs, as a COPY whose client is gone ends at once and frees its table)
          return sessions.run(args[0], Readable.from([input]), { ...args[2], first: undefined });
        },
      };
      await expect(
        restoreArchiveParallel(archive(), key, target, {
          jobs: 2,
          sessions: slow,
          log,
          zstd,
          signal: stop.signal,
        }),
      ).rejects.toThrow('cancelled in the dashboard');
      expect(busy).toBe(true);
      expect(await e.engine.isEmpty(target)).toBe(true);
      // the server notices a killed client only when it next talks to it: end the sleep here
      await sql(
        'postgres',
        "select pg_terminate_backend(pid) from pg_stat_activity where query like 'select pg_sleep(600)%'",
      );
    },
    60_000,
  );

  it('still restores a version 1 (single stream) backup', async () => {
    const path = join(files.dir, 'v1.resistro');
    const sink = createWriteStream(path);
    await runPipeline({
      engine: e.engine,
      target: e.target('par_source'),
      key,
      level: 3,
      compressor: 'auto',
      sink,
    });
    await finished(sink);
    expect((await readFileHeader(path)).version).toBe(1);
    const target = await fresh('par_v1');
    await e.engine.restore(target, await openSqlStream(path, key));
    await expectSameDatabase('par_v1');
  });
});
