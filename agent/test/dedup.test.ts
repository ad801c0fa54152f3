// Deduplicated storage end to end (issue 17), as a customer runs it: a PostgreSQL database opted in
// backs up twice through the real control plane and the signature-checking S3 server; the second
// backup uploads only the chunks that changed; both restore identical databases from --backup (its
// chunks read straight from storage) and from the downloaded single file; a flipped chunk (in the
// file, and in storage) and a deleted pack are refused, naming the chunk;
// deleting the older backup frees exactly what only it used.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Restore } from '@resistro/contract';
import { AwsClient } from 'aws4fetch';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import { runCron, sql, stackInfo } from '../../scripts/test/api.ts';
import {
  AgentProcess,
  type AgentSetup,
  addDatabase,
  type CustomerPostgres,
  cleanupAgents,
  createTenant,
  downloadBackup,
  firstDifference,
  listBackups,
  makeAgentSetup,
  registerAgent,
  restoreArgs,
  runCli,
  startCustomerPostgres,
  type Tenant,
  testDir,
} from './helpers.ts';

/**
 * A dump with each COPY block's rows sorted: a deduplicated backup stores tables in primary-key
 * order, so the restored heap holds the same rows in key order, not in the source's physical order.
 */
function rowsSorted(dump: string): string {
  const lines = dump.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    out.push(lines[i]!);
    if (!/^COPY .* FROM stdin;$/.test(lines[i]!)) continue;
    const rows: string[] = [];
    while (i + 1 < lines.length && lines[i + 1] !== '\\.') rows.push(lines[++i]!);
    out.push(...rows.sort());
  }
  return out.join('\n');
}
const same = (a: string, b: string) => firstDifference(rowsSorted(a), rowsSorted(b));

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
create table orders (id bigint primary key, customer_id int references customers, total numeric(10,2), note text);
insert into orders select g, 1 + g % 30000, (g % 9973) / 7.0, md5(g::text) || ' bestellt' from generate_series(1, 120000) g;
create table documents (id int primary key, body bytea);
create table events (at timestamptz, kind text);
insert into events select '2026-11-01'::timestamptz + g * interval '1 minute', 'tick' from generate_series(1, 20000) g;
select setval('customers_id_seq', 30000);
insert into documents select g, decode(repeat(md5(g::text), 40), 'hex') from generate_series(1, 800) g;
create index orders_customer_idx on orders (customer_id);
`;
const DAY2 = `
insert into orders select g, 1 + g % 30000, 1.5, 'neu' from generate_series(120001, 121200) g;
update customers set city = 'Graz' where id % 500 = 0;
delete from documents where id = 7;
insert into customers (name, city) values ('Neukunde', 'Linz');
insert into events select '2026-12-01'::timestamptz + g * interval '1 minute', 'tock' from generate_series(1, 200) g;
`;

describe('deduplicated backups through the control plane and storage', () => {
  let pgServer: CustomerPostgres;
  let tenant: Tenant;
  let setup: AgentSetup;
  let databaseId: string;
  let day1Dump: string;
  let day2Dump: string;
  const ids: string[] = [];
  const work = testDir('dedup');
  const pgEnv = () => ({ ...setup.env, PGPASSWORD: pgServer.password });
  const usage = async () =>
    (
      await tenant.session.json<{
        databases: { databaseId: string; logicalBytes: number; storedBytes: number }[];
      }>('/dedup/usage')
    ).body.databases.find((d) => d.databaseId === databaseId);
  const accountUsed = async () =>
    Number(
      (
        await sql<{ used: string }>(
          'select storage_used_bytes as used from accounts a join databases d on d.account_id = a.id where d.id = $1',
          [databaseId],
        )
      )[0]!.used,
    );

  beforeAll(async () => {
    pgServer = await startCustomerPostgres('pg-dedup');
    await pgServer.createDatabase('shop');
    await pgServer.asOwner(SEED, 'shop');
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
    expect(on.body.database.dedup).toBe(true);
  }, 180_000);

  afterAll(async () => {
    await cleanupAgents();
    await pgServer?.stop();
    work.remove();
  });

  test('the second backup uploads only what changed, and both restore identical databases', async () => {
    day1Dump = await pgServer.dump('shop');
    const first = await runCli(['backup', '--database', 'shop'], setup.env);
    expect(first.code, first.stderr.slice(-3000)).toBe(0);
    const d1 = first.events.find((e) => e.event === 'backup.dedup')!;
    expect(d1.newChunks).toBe(d1.chunks === d1.newChunks ? d1.chunks : d1.newChunks);
    expect(d1.uploadedBytes as number).toBeGreaterThan(1_000_000);
    // SECURITY: no key or password in any output.
    for (const text of [first.stdout, first.stderr]) {
      expect(text).not.toContain(pgServer.password);
      expect(text).not.toContain(setup.encryptionKey.split(':')[1]);
    }

    await pgServer.asOwner(DAY2, 'shop');
    day2Dump = await pgServer.dump('shop');
    const second = await runCli(['backup', '--database', 'shop'], setup.env);
    expect(second.code, second.stderr.slice(-3000)).toBe(0);
    const d2 = second.events.find((e) => e.event === 'backup.dedup')!;
    expect(d2.chunks as number).toBeGreaterThan(20);
    // About 1 % of orders appended, 0.2 % of customers updated, one document gone: a handful of chunks.
    expect(d2.newChunks as number).toBeLessThan((d2.chunks as number) / 4);
    expect(d2.uploadedBytes as number).toBeLessThan((d1.uploadedBytes as number) / 4);

    const backups = await listBackups(tenant, databaseId);
    expect(backups.map((b) => [b.status, b.dedup])).toEqual([
      ['succeeded', true],
      ['succeeded', true],
    ]);
    ids.push(backups[1]!.id, backups[0]!.id);
    expect(backups[0]!.logicalBytes).toBeGreaterThan(backups[0]!.sizeBytes!);
    const u = await usage();
    expect(u!.logicalBytes).toBeGreaterThan(u!.storedBytes);

    // Day 1 over three sessions (its sections in parallel, as a version 2 archive's), day 2 with
    // -j 1 in one transaction.
    for (const [i, dump, jobs] of [
      [0, day1Dump, 3],
      [1, day2Dump, 1],
    ] as const) {
      await pgServer.createDatabase(`shop_r${i}`);
      const restore = await runCli(
        restoreArgs({ backup: ids[i]! }, pgServer, `shop_r${i}`, '--jobs', String(jobs)),
        pgEnv(),
      );
      expect(restore.code, restore.stderr.slice(-3000)).toBe(0);
      // Straight from storage with ranged reads, no single-file download in between.
      const events = restore.events.map((e) => e.event);
      expect(events).toContain('restore.remote');
      expect(events).not.toContain('restore.downloaded');
      const done = restore.events.find((e) => e.event === 'restore.done')!;
      expect(done.jobs).toBe(jobs === 1 ? undefined : jobs);
      // over several sessions, each chunk goes to the zstd program as its own frame
      if (jobs > 1) expect(done.decompressor).toMatch(/^zstd .*\(program\)$/);
      expect(same(await pgServer.dump(`shop_r${i}`), dump)).toBeUndefined();
    }
  }, 240_000);

  test('a restore from the dashboard reads the chunks from storage too; a missing pack fails it, naming the chunk', async () => {
    await pgServer.admin(`alter role ${pgServer.user} createdb`);
    const daemon = new AgentProcess(['agent', '--heartbeat-interval', '1'], setup.env);
    const ask = async (database: string) => {
      const r = await tenant.session.json<{ restore: Restore }>('/restores', {
        method: 'POST',
        json: { backupId: ids[1], target: { kind: 'new', database } },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      for (let i = 0; ; i++) {
        const now = (await tenant.session.json<{ restore: Restore }>(`/restores/${r.body.restore.id}`)).body
          .restore;
        if (now.state !== 'pending' && now.state !== 'running') return now;
        if (i > 1200)
          throw new Error(`restore never ended: ${JSON.stringify(now)}\n${daemon.stderr.slice(-3000)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const manifestBytes = (await listBackups(tenant, databaseId)).find((b) => b.id === ids[1])!.sizeBytes!;
    try {
      const done = await ask('shop_dashboard');
      expect(done, done.error ?? '').toMatchObject({ state: 'succeeded', errorCode: null });
      // progress counts what was read from storage (manifest and chunks), not the manifest alone
      expect(done.bytesTotal).toBeGreaterThan(manifestBytes);
      expect(done.bytesDone).toBe(done.bytesTotal);
      expect(same(await pgServer.dump('shop_dashboard'), day2Dump)).toBeUndefined();
      const events = daemon.events.map((e) => e.event);
      expect(events).not.toContain('restore.downloaded');
      expect(daemon.events.find((e) => e.event === 'restore.done')?.jobs).toBeGreaterThan(1);

      // The pack of the newest chunks gone: the restore fails naming a chunk, its new database is dropped.
      const [pack] = await sql<{ object_key: string }>(
        `select p.object_key from dedup_packs p join dedup_chunks c on c.pack_id = p.id
           join dedup_refs r on r.chunk_id = c.chunk_id and r.account_id = c.account_id
          where r.backup_id = $1 and p.status = 'stored' order by r.seq desc limit 1`,
        [ids[1]],
      );
      const saved = Buffer.from(await (await aws.fetch(objectUrl(pack!.object_key))).arrayBuffer());
      expect((await aws.fetch(objectUrl(pack!.object_key), { method: 'DELETE' })).status).toBe(204);
      try {
        const failed = await ask('shop_dashboard_nopack');
        expect(failed).toMatchObject({ state: 'failed', errorCode: 'file_damaged' });
        expect(failed.error).toMatch(
          /chunk \d+ of \d+ in section "[^"]+" \(id [A-Za-z0-9_-]{12}…\) is missing: storage has no pack holding it/,
        );
        const exists = await pgServer.admin(
          "select count(*)::int as n from pg_database where datname = 'shop_dashboard_nopack'",
        );
        expect(exists.rows[0].n).toBe(0);
      } finally {
        const put = await aws.fetch(objectUrl(pack!.object_key), { method: 'PUT', body: saved });
        expect(put.status).toBe(200);
      }
    } finally {
      await daemon.stop();
    }
  }, 240_000);

  test('the downloaded single file restores with --file and decrypts to SQL psql accepts', async () => {
    const file = await downloadBackup(tenant, ids[1]!, work.dir);
    expect(readFileSync(file).subarray(12, 13)[0]).toBe(3);
    await pgServer.createDatabase('shop_file');
    // its sections over two sessions, as the ranged reads from storage go
    const restore = await runCli(restoreArgs({ file }, pgServer, 'shop_file', '--jobs', '2'), pgEnv());
    expect(restore.code, restore.stderr.slice(-3000)).toBe(0);
    expect(restore.events.find((e) => e.event === 'restore.done')?.jobs).toBe(2);
    expect(same(await pgServer.dump('shop_file'), day2Dump)).toBeUndefined();

    const sqlFile = join(work.dir, 'shop.sql');
    const decrypt = await runCli(['decrypt', '--file', file, '--output', sqlFile], setup.env);
    expect(decrypt.code, decrypt.stderr).toBe(0);
    await pgServer.createDatabase('shop_manual');
    const psql = spawnSync(
      join(pgServer.server.binDir, 'psql'),
      [
        '-X',
        '-q',
        '-v',
        'ON_ERROR_STOP=1',
        '-h',
        '127.0.0.1',
        '-p',
        String(pgServer.port),
        '-U',
        pgServer.user,
        '-f',
        sqlFile,
        'shop_manual',
      ],
      { env: { ...process.env, PGPASSWORD: pgServer.password }, encoding: 'utf8' },
    );
    expect(psql.status, psql.stderr).toBe(0);
    expect(same(await pgServer.dump('shop_manual'), day2Dump)).toBeUndefined();
  }, 120_000);

  test('a flipped chunk in the file and a deleted pack in storage are refused, naming the chunk', async () => {
    const file = await downloadBackup(tenant, ids[1]!, work.dir);
    const bytes = readFileSync(file);
    const manifestLength = Number(bytes.readBigUInt64BE(16));
    const flipped = Buffer.from(bytes);
    const at = 24 + manifestLength + 4 + 200; // inside the first chunk's blob
    flipped[at]! ^= 0x01;
    const flippedPath = join(work.dir, 'flipped.resistro');
    writeFileSync(flippedPath, flipped);
    await pgServer.createDatabase('shop_refused');
    const refused = await runCli(
      restoreArgs({ file: flippedPath }, pgServer, 'shop_refused', '--jobs', '2'),
      pgEnv(),
    );
    expect(refused.code).toBe(1);
    const failure = refused.events.find((e) => e.event === 'command.failed')!;
    expect(failure.code).toBe('chunk_corrupt');
    expect(failure.msg).toMatch(/chunk 1 of \d+ in section "pre-data" \(id [A-Za-z0-9_-]{12}…\)/);
    const tables = await pgServer.admin(
      "select count(*)::int as n from pg_tables where schemaname not in ('pg_catalog', 'information_schema')",
      'shop_refused',
    );
    expect(tables.rows[0].n).toBe(0);
    // a file cut short (or with bytes added) is refused before any section is read
    const cut = join(work.dir, 'cut.resistro');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
    await pgServer.createDatabase('shop_cut');
    const short = await runCli(restoreArgs({ file: cut }, pgServer, 'shop_cut', '--jobs', '2'), pgEnv());
    expect(short.code).toBe(1);
    expect(short.events.find((e) => e.event === 'command.failed')?.code).toBe('truncated');
    const verify = await runCli(['verify', '--file', flippedPath], setup.env);
    expect(verify.events.find((e) => e.event === 'command.failed')?.code).toBe('chunk_corrupt');

    // A pack gone from storage: the download is cut where its chunks were due, never complete.
    const [pack] = await sql<{ object_key: string }>(
      `select p.object_key from dedup_packs p join dedup_chunks c on c.pack_id = p.id
         join dedup_refs r on r.chunk_id = c.chunk_id and r.account_id = c.account_id
        where r.backup_id = $1 and p.status = 'stored' order by r.seq desc limit 1`,
      [ids[1]],
    );
    const whole = await runCli(['check', '--read-data', '--backup', ids[1]!], setup.env);
    expect(whole.code, whole.stdout + whole.stderr.slice(-2000)).toBe(0);
    expect(whole.stdout).toMatch(/1 of 1 deduplicated backups passed \(all data read\)/);
    // read straight from storage (ranged reads), not through the single file the service assembles
    expect(whole.events.map((e) => e.event)).not.toContain('restore.downloaded');
    const quick = await runCli(['check', '--backup', ids[1]!], setup.env);
    expect(quick.code, quick.stdout + quick.stderr.slice(-2000)).toBe(0);
    expect(quick.stdout).toMatch(/manifest authentic, \d+ chunks indexed, their packs in storage/);
    // --list reads the manifest only
    const list = await runCli(['restore', '--backup', ids[1]!, '--list'], setup.env);
    expect(list.code, list.stderr.slice(-2000)).toBe(0);
    expect(list.events.map((e) => e.event)).not.toContain('restore.downloaded');
    expect(list.stdout).toMatch(
      new RegExp(`^backup ${ids[1]}: manifest intact \\(key [^)]+\\), deduplicated, postgres, `),
    );
    expect(list.stdout).toMatch(/^ +\d+ +\S+ \S+ +\d+ chunks {2}data public\.orders$/m);
    expect(list.stdout).toMatch(/^ +\d+ +\S+ \S+ +\d+ chunks {2}pre-data$/m);
    // An agent key lists no backups: check says what to do instead.
    const all = await runCli(['check'], setup.env);
    expect(all.code).toBe(1);
    expect(all.events.find((e) => e.event === 'command.failed')?.hint).toMatch(/--backup/);
    const saved = Buffer.from(await (await aws.fetch(objectUrl(pack!.object_key))).arrayBuffer());
    const inPack = await sql<{ chunk_id: string; offset: string }>(
      `select c.chunk_id, c."offset" from dedup_chunks c join dedup_packs p on p.id = c.pack_id
        where p.object_key = $1 and exists (select 1 from dedup_refs r
          where r.backup_id = $2 and r.account_id = c.account_id and r.chunk_id = c.chunk_id)
        order by c."offset"`,
      [pack!.object_key, ids[1]],
    );
    const namedIn = (message: string) => {
      const named = /chunk \d+ of \d+ in section "[^"]+" \(id ([A-Za-z0-9_-]{12})…\)/.exec(message);
      expect(named, message).not.toBeNull();
      return inPack.some((c) => c.chunk_id.startsWith(named![1]!));
    };
    const nothingRestored = async (database: string) => {
      const tables = await pgServer.admin(
        "select count(*)::int as n from pg_tables where schemaname not in ('pg_catalog', 'information_schema')",
        database,
      );
      expect(tables.rows[0].n).toBe(0);
    };
    expect((await aws.fetch(objectUrl(pack!.object_key), { method: 'DELETE' })).status).toBe(204);
    try {
      // restore --backup reads the chunks straight from storage: the missing one is named.
      await pgServer.createDatabase('shop_nopack');
      // over two sessions: the other sessions are stopped and what they created is dropped again
      const cut = await runCli(
        restoreArgs({ backup: ids[1]! }, pgServer, 'shop_nopack', '--jobs', '2'),
        pgEnv(),
      );
      expect(cut.code).toBe(1);
      expect(cut.events.map((e) => e.event)).not.toContain('restore.done');
      const missing = cut.events.find((e) => e.event === 'command.failed')!;
      expect(missing.code).toBe('chunk_corrupt');
      expect(missing.msg).toMatch(/is missing: storage has no pack holding it/);
      expect(namedIn(missing.msg as string)).toBe(true);
      // the schema was in (pre-data commits first): it was dropped again
      expect(cut.events.map((e) => e.event)).toContain('restore.cleanup');
      await nothingRestored('shop_nopack');
      const check = await runCli(['check', '--read-data', '--backup', ids[1]!], setup.env);
      expect(check.code).toBe(1);
      expect(check.stdout).toMatch(new RegExp(`FAILED ${ids[1]}`));
      expect(check.stdout).toMatch(/0 of 1 deduplicated backups passed/);
      expect(namedIn(check.stdout)).toBe(true);
      // without --read-data too: each pack the backup needs is looked for in storage
      const quickCut = await runCli(['check', '--backup', ids[1]!], setup.env);
      expect(quickCut.code).toBe(1);
      expect(quickCut.stdout).toMatch(/FAILED .*is missing: storage has no pack holding it/);
      expect(namedIn(quickCut.stdout)).toBe(true);

      // A flipped bit inside a stored chunk: restore --backup refuses it, naming that chunk.
      const victim = inPack[Math.floor(inPack.length / 2)]!;
      const flippedPack = Buffer.from(saved);
      flippedPack[Number(victim.offset) + 30]! ^= 0x01;
      const put = await aws.fetch(objectUrl(pack!.object_key), { method: 'PUT', body: flippedPack });
      expect(put.status).toBe(200);
      await pgServer.createDatabase('shop_flipped');
      // (chunks decompressed in the agent here; the restores above hand them to the zstd program)
      const bad = await runCli(restoreArgs({ backup: ids[1]! }, pgServer, 'shop_flipped', '--jobs', '2'), {
        ...pgEnv(),
        RESISTRO_COMPRESSOR: 'node',
      });
      expect(bad.code).toBe(1);
      const damaged = bad.events.find((e) => e.event === 'command.failed')!;
      expect(damaged.code).toBe('chunk_corrupt');
      expect(damaged.msg).toContain(
        `(id ${victim.chunk_id.slice(0, 12)}…) is damaged: it does not authenticate`,
      );
      await nothingRestored('shop_flipped');
    } finally {
      const put = await aws.fetch(objectUrl(pack!.object_key), { method: 'PUT', body: saved });
      expect(put.status).toBe(200);
    }
  }, 120_000);

  test('deleting the older backup frees exactly what only it used; the newer still restores', async () => {
    const before = await accountUsed();
    const packsBefore = await sql<{ n: number }>(
      'select count(*)::int as n from dedup_packs p join databases d on d.account_id = p.account_id where d.id = $1',
      [databaseId],
    );
    const onlyFirst = await sql<{ bytes: string }>(
      `select coalesce(sum(p.size_bytes), 0) as bytes from dedup_packs p
        where p.database_id = $1 and not exists (
          select 1 from dedup_chunks c join dedup_refs r on r.account_id = c.account_id and r.chunk_id = c.chunk_id
           where c.pack_id = p.id and r.backup_id = $2)`,
      [databaseId, ids[1]],
    );
    const manifest = (await listBackups(tenant, databaseId)).find((b) => b.id === ids[0])!.sizeBytes!;
    const del = await tenant.session.fetch(`/backups/${ids[0]}`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    await runCron();
    const after = await accountUsed();
    expect(before - after).toBe(Number(onlyFirst[0]!.bytes) + manifest);
    const packsAfter = await sql<{ n: number }>(
      'select count(*)::int as n from dedup_packs p join databases d on d.account_id = p.account_id where d.id = $1',
      [databaseId],
    );
    expect(packsAfter[0]!.n).toBeLessThanOrEqual(packsBefore[0]!.n);
    // No chunk remains that no backup references, and every reference resolves.
    const orphans = await sql<{ n: number }>(
      `select count(*)::int as n from dedup_chunks c join databases d on d.account_id = c.account_id
        where d.id = $1 and not exists (select 1 from dedup_refs r where r.account_id = c.account_id and r.chunk_id = c.chunk_id)`,
      [databaseId],
    );
    expect(orphans[0]!.n).toBe(0);
    await pgServer.createDatabase('shop_after');
    const restore = await runCli(restoreArgs({ backup: ids[1]! }, pgServer, 'shop_after'), pgEnv());
    expect(restore.code, restore.stderr.slice(-3000)).toBe(0);
    expect(same(await pgServer.dump('shop_after'), day2Dump)).toBeUndefined();
  }, 120_000);
});
