// Single tables out of a deduplicated PostgreSQL backup, and test restores of one, as a customer
// runs them: the real control plane, the signature-checking S3 server, real PostgreSQL.
// `restore --backup <id> --table` reads the manifest and then only the chunks of the schema and of
// that table's section, with ranged reads (the agent's count of bytes read must be exactly those
// chunks); `restore --file` of the downloaded file reads only those records of it; --as and
// --replace behave as for a sectioned file; a flipped byte in one of the table's chunks (in storage
// or in the file) is refused naming the chunk and leaves the target as it was. A test restore of a
// deduplicated backup reads its chunks from storage (no download) and compares every table.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RestoreTest } from '@resistro/contract';
import { AwsClient } from 'aws4fetch';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import { sql, stackInfo } from '../../scripts/test/api.ts';
import { openContainerSections } from '../src/dedup/container-sections.ts';
import type { Manifest } from '../src/dedup/manifest.ts';
import { parseEncryptionKey } from '../src/format/index.ts';
import { createLogger } from '../src/log.ts';
import { runRestoreTest } from '../src/verify/restore-test.ts';
import {
  AgentProcess,
  type AgentSetup,
  addDatabase,
  type CustomerPostgres,
  cleanupAgents,
  createTenant,
  downloadBackup,
  listBackups,
  makeAgentSetup,
  registerAgent,
  restoreArgs,
  runCli,
  startCustomerPostgres,
  type Tenant,
  testDir,
} from './helpers.ts';

const aws = new AwsClient({
  accessKeyId: S3_ACCESS_KEY_ID,
  secretAccessKey: S3_SECRET_ACCESS_KEY,
  service: 's3',
  region: 'us-east-1',
});
const objectUrl = (key: string) => `${stackInfo().s3Url}/${stackInfo().bucket}/${key}`;

const SEED = `
create table customers (id serial primary key, name text not null, city text);
insert into customers (id, name, city) select g, 'Kunde ' || g, (array['Köln','Berlin','Wien','Zürich'])[1 + g % 4] from generate_series(1, 30000) g;
select setval('customers_id_seq', 30000);
create table orders (id bigint primary key, customer_id int references customers, total numeric(10,2), note text);
insert into orders select g, 1 + g % 30000, (g % 9973) / 7.0, md5(g::text) || ' bestellt' from generate_series(1, 120000) g;
create index orders_customer_idx on orders (customer_id);
create table documents (id int primary key, body bytea);
insert into documents select g, decode(repeat(md5(g::text), 40), 'hex') from generate_series(1, 800) g;
create table events (at timestamptz, kind text);
insert into events select '2026-11-01'::timestamptz + g * interval '1 minute', 'tick' from generate_series(1, 20000) g;
create table settings (id int primary key, value text);
insert into settings values (1, 'ä'), (2, 'b'), (3, null);
`;

describe('single tables and test restores of a deduplicated PostgreSQL backup', () => {
  let pgServer: CustomerPostgres;
  let tenant: Tenant;
  let setup: AgentSetup;
  let databaseId: string;
  let backupId: string;
  let manifestBytes: number;
  let file: string;
  let manifest: Manifest;
  let bodyStart: number;
  const work = testDir('dedup-table');
  const pgEnv = () => ({ ...setup.env, PGPASSWORD: pgServer.password });
  /** the rows of a table, in key order, as one digest (and their number) */
  const digest = async (database: string, table: string) =>
    (
      await pgServer.admin(
        `select count(*)::int as n, md5(coalesce(string_agg(t::text, E'\\n' order by t.id), '')) as h from ${table} t`,
        database,
      )
    ).rows[0] as { n: number; h: string };
  const sectionOf = (table: string) =>
    manifest.sections.findIndex((s) => s.kind === 'data' && s.name === table);
  const blobs = (index: number) => manifest.sections[index]!.chunks.reduce((n, c) => n + c[3], 0);
  const preData = () => manifest.sections.findIndex((s) => s.kind === 'pre-data');

  /** Flips a byte inside each of these chunks where storage holds them; returns how to undo it. */
  const flipInStorage = async (ids: string[]) => {
    const places = await sql<{ object_key: string; offset: string }>(
      `select p.object_key, c."offset" from dedup_chunks c join dedup_packs p on p.id = c.pack_id
        where c.chunk_id = any($1) and p.status = 'stored'`,
      [ids],
    );
    expect(places.length).toBe(ids.length);
    const saved = new Map<string, Buffer>();
    for (const { object_key: key } of places)
      if (!saved.has(key)) saved.set(key, Buffer.from(await (await aws.fetch(objectUrl(key))).arrayBuffer()));
    for (const [key, original] of saved) {
      const flipped = Buffer.from(original);
      for (const p of places) if (p.object_key === key) flipped[Number(p.offset) + 40]! ^= 0x01;
      expect((await aws.fetch(objectUrl(key), { method: 'PUT', body: flipped })).status).toBe(200);
    }
    return async () => {
      for (const [key, original] of saved)
        expect(
          (await aws.fetch(objectUrl(key), { method: 'PUT', body: new Uint8Array(original) })).status,
        ).toBe(200);
    };
  };

  beforeAll(async () => {
    pgServer = await startCustomerPostgres('pg-dedup-table');
    await pgServer.createDatabase('shop');
    await pgServer.asOwner(SEED, 'shop');
    // the test restore's scratch database is created by the agent's own database user
    await pgServer.admin(`alter role ${pgServer.user} createdb`);
    tenant = await createTenant();
    setup = makeAgentSetup({ apiKey: tenant.apiKey, endpoint: tenant.endpoint });
    const agent = await registerAgent(tenant, setup);
    const db = await addDatabase(tenant, agent, {
      name: 'shop',
      engine: 'postgres',
      port: pgServer.port,
      database: 'shop',
      user: pgServer.user,
      password: pgServer.password,
    });
    databaseId = db.id;
    const on = await tenant.session.json(`/databases/${db.id}`, { method: 'PATCH', json: { dedup: true } });
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    const backup = await runCli(['backup', '--database', 'shop'], setup.env);
    expect(backup.code, backup.stderr.slice(-3000)).toBe(0);
    const [made] = await listBackups(tenant, databaseId);
    expect(made).toMatchObject({ status: 'succeeded', dedup: true });
    backupId = made!.id;
    manifestBytes = made!.sizeBytes!;
    file = await downloadBackup(tenant, backupId, work.dir);
    const sections = await openContainerSections(file, parseEncryptionKey(setup.encryptionKey));
    manifest = sections.manifest;
    bodyStart = sections.bodyStart;
    expect(sectionOf('public.customers')).toBeGreaterThan(0);
    expect(sectionOf('public.orders')).toBeGreaterThan(0);
  }, 240_000);

  afterAll(async () => {
    await cleanupAgents();
    await pgServer?.stop();
    work.remove();
  });

  test('--backup --table reads only the chunks of the schema and that table from storage, and creates it with identical rows', async () => {
    await pgServer.createDatabase('shop_t');
    const restore = await runCli(
      restoreArgs({ backup: backupId }, pgServer, 'shop_t', '--table', 'public.customers'),
      pgEnv(),
    );
    expect(restore.code, restore.stderr.slice(-3000)).toBe(0);
    expect(restore.stdout).toContain(`restored table public.customers from backup ${backupId}`);
    const events = restore.events.map((e) => e.event);
    expect(events).not.toContain('restore.downloaded');
    const done = restore.events.find((e) => e.event === 'restore.table')!;
    expect(done).toMatchObject({ table: 'public.customers', created: true });
    // exactly the manifest and the blobs of two sections; the whole backup is several times more
    const expected = manifestBytes + blobs(preData()) + blobs(sectionOf('public.customers'));
    expect(done.readBytes).toBe(expected);
    const all = manifest.sections.reduce((n, _s, i) => n + blobs(i), manifestBytes);
    expect(expected * 3).toBeLessThan(all);
    expect(await digest('shop_t', 'customers')).toEqual(await digest('shop', 'customers'));
    // only that table: no other table was created
    const tables = await pgServer.admin(
      "select tablename from pg_tables where schemaname = 'public'",
      'shop_t',
    );
    expect(tables.rows.map((r) => r.tablename)).toEqual(['customers']);
  }, 120_000);

  test('--file --table --as reads only those records of the downloaded file and restores under the new name', async () => {
    const restore = await runCli(
      restoreArgs({ file }, pgServer, 'shop_t', '--table', 'public.orders', '--as', 'orders_copy'),
      pgEnv(),
    );
    expect(restore.code, restore.stderr.slice(-3000)).toBe(0);
    expect(restore.events.find((e) => e.event === 'restore.table')?.readBytes).toBe(
      bodyStart +
        [preData(), sectionOf('public.orders')].reduce(
          (n, i) => n + manifest.sections[i]!.chunks.reduce((m, c) => m + 4 + c[3], 0),
          0,
        ),
    );
    expect(await digest('shop_t', 'orders_copy')).toEqual(await digest('shop', 'orders'));
    const before = await digest('shop_t', 'orders_copy');
    expect(before.n).toBe(120_000);
  }, 120_000);

  test('a small table is restored from the section the small tables share, reading only that section', async () => {
    const shared = sectionOf('*');
    expect(shared).toBeGreaterThan(0);
    const restore = await runCli(
      restoreArgs({ backup: backupId }, pgServer, 'shop_t', '--table', 'public.settings'),
      pgEnv(),
    );
    expect(restore.code, restore.stderr.slice(-3000)).toBe(0);
    const done = restore.events.find((e) => e.event === 'restore.table')!;
    expect(done).toMatchObject({ section: '*', created: true });
    expect(done.readBytes).toBe(manifestBytes + blobs(preData()) + blobs(shared));
    expect(await digest('shop_t', 'settings')).toEqual(await digest('shop', 'settings'));
    // only its own rows out of the shared section
    const tables = await pgServer.admin(
      "select tablename from pg_tables where schemaname = 'public' order by 1",
      'shop_t',
    );
    expect(tables.rows.map((r) => r.tablename)).toEqual(['customers', 'orders_copy', 'settings']);
  }, 120_000);

  test('a table with rows is refused unless --replace, which restores it over them', async () => {
    await pgServer.admin('delete from customers where id <= 100', 'shop_t');
    const refused = await runCli(
      restoreArgs({ backup: backupId }, pgServer, 'shop_t', '--table', 'public.customers'),
      pgEnv(),
    );
    expect(refused.code).toBe(1);
    expect(refused.events.find((e) => e.event === 'command.failed')?.code).toBe('target_not_empty');
    expect((await digest('shop_t', 'customers')).n).toBe(29_900);
    const replaced = await runCli(
      restoreArgs({ backup: backupId }, pgServer, 'shop_t', '--table', 'public.customers', '--replace'),
      pgEnv(),
    );
    expect(replaced.code, replaced.stderr.slice(-3000)).toBe(0);
    expect(await digest('shop_t', 'customers')).toEqual(await digest('shop', 'customers'));
  }, 120_000);

  test('chunks of the other sections are never read: damaged in storage, they do not stop the table', async () => {
    // a flipped byte in the first chunk of every section but the schema's and the table's own; a
    // restore that read them (the whole backup, or the assembled file) would refuse the backup
    const others = manifest.sections
      .map((s, i) => ({ s, i }))
      .filter(({ s, i }) => i !== preData() && i !== sectionOf('public.customers') && s.chunks.length > 0)
      .map(({ s }) => s.chunks[0]![0]);
    expect(others.length).toBeGreaterThan(2);
    const undo = await flipInStorage(others);
    try {
      const check = await runCli(['check', '--read-data', '--backup', backupId], setup.env);
      expect(check.code).not.toBe(0);
      const restore = await runCli(
        restoreArgs({ backup: backupId }, pgServer, 'shop_t', '--table', 'public.customers', '--replace'),
        pgEnv(),
      );
      expect(restore.code, restore.stderr.slice(-3000)).toBe(0);
      expect(await digest('shop_t', 'customers')).toEqual(await digest('shop', 'customers'));
    } finally {
      await undo();
    }
  }, 180_000);

  test('an unknown table is refused with a hint on how to list the tables', async () => {
    const refused = await runCli(
      restoreArgs({ backup: backupId }, pgServer, 'shop_t', '--table', 'public.nope'),
      pgEnv(),
    );
    expect(refused.code).toBe(2);
    const failed = refused.events.find((e) => e.event === 'command.failed')!;
    expect(failed.msg).toContain('the backup has no table public.nope');
    expect(refused.stderr).toContain(`resistro restore --backup ${backupId} --list`);
  }, 60_000);

  test('a flipped byte in a chunk of the table, in storage or in the file, is refused naming the chunk; the target keeps its rows', async () => {
    await pgServer.admin('delete from customers where id <= 10', 'shop_t');
    const kept = await digest('shop_t', 'customers');
    const section = sectionOf('public.customers');
    const chunks = manifest.sections[section]!.chunks;
    const victim = Math.min(2, chunks.length - 1); // chunk 3 of the table (or its last)
    const [where] = await sql<{ object_key: string; offset: string }>(
      `select p.object_key, c."offset" from dedup_chunks c join dedup_packs p on p.id = c.pack_id
        where c.chunk_id = $1 and p.status = 'stored'`,
      [chunks[victim]![0]],
    );
    const saved = Buffer.from(await (await aws.fetch(objectUrl(where!.object_key))).arrayBuffer());
    const flipped = Buffer.from(saved);
    flipped[Number(where!.offset) + 40]! ^= 0x01;
    expect((await aws.fetch(objectUrl(where!.object_key), { method: 'PUT', body: flipped })).status).toBe(
      200,
    );
    const label = new RegExp(
      `chunk ${victim + 1} of ${chunks.length} in section "data public\\.customers" \\(id [A-Za-z0-9_-]{12}…\\) is damaged`,
    );
    try {
      const refused = await runCli(
        restoreArgs({ backup: backupId }, pgServer, 'shop_t', '--table', 'public.customers', '--replace'),
        pgEnv(),
      );
      expect(refused.code).toBe(1);
      const failed = refused.events.find((e) => e.event === 'command.failed')!;
      expect(failed.code).toBe('chunk_corrupt');
      expect(failed.msg).toMatch(label);
      expect(await digest('shop_t', 'customers')).toEqual(kept);
    } finally {
      const put = await aws.fetch(objectUrl(where!.object_key), { method: 'PUT', body: saved });
      expect(put.status).toBe(200);
    }

    // The same chunk flipped in the downloaded file.
    const bytes = Buffer.from(readFileSync(file));
    let at = bodyStart;
    for (let s = 0; s < section; s++) at += manifest.sections[s]!.chunks.reduce((n, c) => n + 4 + c[3], 0);
    for (let i = 0; i < victim; i++) at += 4 + chunks[i]![3];
    bytes[at + 4 + 40]! ^= 0x01;
    const damaged = join(work.dir, 'damaged.resistro');
    writeFileSync(damaged, bytes);
    const fromFile = await runCli(
      restoreArgs({ file: damaged }, pgServer, 'shop_t', '--table', 'public.customers', '--replace'),
      pgEnv(),
    );
    expect(fromFile.code).toBe(1);
    const failed = fromFile.events.find((e) => e.event === 'command.failed')!;
    expect(failed.code).toBe('chunk_corrupt');
    expect(failed.msg).toMatch(label);
    expect(await digest('shop_t', 'customers')).toEqual(kept);
  }, 180_000);

  test('a test restore reads the chunks from storage, not the assembled file, and compares every table', async () => {
    const r = await tenant.session.json(`/databases/${databaseId}/restore-tests/settings`, {
      method: 'PUT',
      json: {
        enabled: true,
        intervalHours: 168,
        target: { kind: 'scratch' },
        timeLimitMinutes: 30,
        alertAfterDays: 14,
        checks: [],
      },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const daemon = new AgentProcess(['agent', '--heartbeat-interval', '1'], setup.env);
    try {
      const asked = await tenant.session.json<{ restoreTest: RestoreTest }>('/restore-tests', {
        method: 'POST',
        json: { databaseId },
      });
      expect([201, 202], JSON.stringify(asked.body)).toContain(asked.status);
      let done: RestoreTest;
      for (let i = 0; ; i++) {
        done = (
          await tenant.session.json<{ restoreTest: RestoreTest }>(
            `/restore-tests/${asked.body.restoreTest.id}`,
          )
        ).body.restoreTest;
        if (done.state !== 'pending' && done.state !== 'running') break;
        if (i > 1800) throw new Error(`test restore never ended\n${daemon.stderr.slice(-4000)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(done, `${done.error} ${done.errorHint}\n${daemon.stderr.slice(-3000)}`).toMatchObject({
        state: 'passed',
        errorCode: null,
      });
      // every table of the backup, each compared by its row count and digest
      expect(done.tables).toMatchObject({ checked: 5, failed: 0 });
      const events = daemon.events.map((e) => e.event);
      expect(events).toContain('verify.remote');
      expect(events).not.toContain('restore.downloaded');
      const left = await pgServer.admin(
        "select count(*)::int as n from pg_database where datname like 'resistro_verify_%'",
      );
      expect(left.rows[0].n).toBe(0);
    } finally {
      await daemon.stop();
    }
  }, 240_000);

  test('verify --restore --backup of a deduplicated backup reads from storage and compares every table', async () => {
    const r = await runCli(['verify', '--restore', '--backup', backupId], setup.env);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^PASSED {2}test restore of backup ${backupId}\\n`));
    expect(r.stdout).toContain('tables: 5 checked, all match');
    expect(r.events.map((e) => e.event)).not.toContain('restore.downloaded');
    expect(r.stdout + r.stderr).not.toContain(pgServer.password);
  }, 180_000);

  test('the per-table comparison of a deduplicated file catches a restored copy that differs, naming the table', async () => {
    const verdict = await runRestoreTest({
      path: file,
      size: readFileSync(file).length,
      backupId: backupId,
      key: parseEncryptionKey(setup.encryptionKey),
      server: {
        engine: 'postgres',
        host: '127.0.0.1',
        port: pgServer.port,
        database: 'shop',
        user: pgServer.user,
        password: pgServer.password,
      },
      sourceDatabase: 'shop',
      scratchDatabase: 'resistro_verify_dedupfile01',
      checks: [],
      timeLimitMs: 300_000,
      log: createLogger({ level: 'error', json: true, write: () => {} }),
      beforeVerify: async (scratch) => {
        await pgServer.admin("update customers set city = 'Graz' where id = 17", scratch.database);
      },
    });
    expect(verdict.status, JSON.stringify(verdict.error)).toBe('failed');
    expect(verdict.tables).toMatchObject({ checked: 5, failed: 1 });
    expect(verdict.tables.failures).toEqual([
      { table: 'public.customers', reason: 'content_differs', expectedRows: 30_000, actualRows: 30_000 },
    ]);
  }, 180_000);
});
