// Deduplicated MariaDB backups end to end (issue 17), as a customer runs them: a MariaDB database
// opted in backs up twice through the real control plane and the signature-checking S3 server; the
// dump is cut into a section per table as it streams, and the second backup uploads only the
// chunks that changed; both restore identical databases from --backup (chunks read straight from
// storage, all checked before the first statement) and from the downloaded single file; a flipped
// chunk is refused, naming it, before anything reaches the server; deleting the older backup frees
// exactly what only it used.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Restore } from '@resistro/contract';
import { AwsClient } from 'aws4fetch';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type MariadbServer, startMariadb } from '../../scripts/stack/mariadb.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import { runCron, sql, stackInfo } from '../../scripts/test/api.ts';
import {
  AgentProcess,
  type AgentSetup,
  addDatabase,
  cleanupAgents,
  createTenant,
  downloadBackup,
  firstDifference,
  listBackups,
  makeAgentSetup,
  mariadbDump,
  registerAgent,
  restoreArgs,
  runCli,
  type Tenant,
  testDir,
} from './helpers.ts';
import { mariadbSeed } from './seeds.ts';

const aws = new AwsClient({
  accessKeyId: S3_ACCESS_KEY_ID,
  secretAccessKey: S3_SECRET_ACCESS_KEY,
  service: 's3',
  region: 'us-east-1',
});
const objectUrl = (key: string) => `${stackInfo().s3Url}/${stackInfo().bucket}/${key}`;

/** The awkward seed, plus tables large enough for many chunks. */
const SEED = `${mariadbSeed()}
CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, city VARCHAR(40)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO customers SELECT seq, CONCAT('Kunde ', seq), ELT(1 + seq % 4, 'Köln', 'Berlin', 'Wien', 'Zürich') FROM seq_1_to_30000;
CREATE TABLE sales (id BIGINT PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(10,2), note VARCHAR(200)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO sales SELECT seq, 1 + seq % 30000, (seq % 9973) / 7, CONCAT(MD5(seq), ' bestellt') FROM seq_1_to_120000;
CREATE TABLE events (at DATETIME, kind VARCHAR(10)) ENGINE=InnoDB;
INSERT INTO events SELECT '2026-11-01' + INTERVAL seq MINUTE, 'tick' FROM seq_1_to_20000;
`;
const DAY2 = `
INSERT INTO sales SELECT seq, 1 + seq % 30000, 1.5, 'neu' FROM seq_120001_to_121200;
UPDATE customers SET city = 'Graz' WHERE id % 500 = 0;
DELETE FROM sales WHERE id = 7;
INSERT INTO customers VALUES (30001, 'Neukunde', 'Linz');
INSERT INTO events SELECT '2026-12-01' + INTERVAL seq MINUTE, 'tock' FROM seq_1_to_200;
`;

describe('deduplicated MariaDB backups through the control plane and storage', () => {
  let server: MariadbServer;
  let tenant: Tenant;
  let setup: AgentSetup;
  let databaseId: string;
  const dumps: string[] = [];
  const ids: string[] = [];
  const work = testDir('dedup-maria');
  const env = () => ({ ...setup.env, MYSQL_PWD: server.password });
  const tablesIn = async (database: string) =>
    (
      await server.query(`SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${database}'`)
    )[0]![0];

  beforeAll(async () => {
    server = await startMariadb({ dir: join(work.dir, 'data'), port: await freePort(), fast: true });
    await server.createDatabase('shop');
    await server.query(SEED, 'shop');
    tenant = await createTenant();
    setup = makeAgentSetup({ apiKey: tenant.apiKey, endpoint: tenant.endpoint });
    const agent = await registerAgent(tenant, setup);
    const db = await addDatabase(tenant, agent, {
      name: 'shop',
      engine: 'mariadb',
      port: server.port,
      database: 'shop',
      user: server.user,
      password: server.password,
    });
    databaseId = db.id;
    const on = await tenant.session.json(`/databases/${db.id}`, { method: 'PATCH', json: { dedup: true } });
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    expect(on.body.database.dedup).toBe(true);
  }, 180_000);

  afterAll(async () => {
    await cleanupAgents();
    await server?.stop();
    work.remove();
  });

  test('the second backup uploads only what changed; both restore identical databases from storage', async () => {
    dumps.push(await mariadbDump(server, 'shop'));
    const first = await runCli(['backup', '--database', 'shop'], setup.env);
    expect(first.code, first.stderr.slice(-3000)).toBe(0);
    const d1 = first.events.find((e) => e.event === 'backup.dedup')!;
    // Everything is new, except what repeats inside the dump itself (the seed's repeated rows).
    expect(d1.newChunks as number).toBeGreaterThan((d1.chunks as number) / 2);
    expect(d1.uploadedBytes as number).toBeGreaterThan(1_000_000);
    // pre-data, one section per table (7), post-data (view, routines, events)
    expect(d1.sections).toBe(9);
    for (const text of [first.stdout, first.stderr]) {
      expect(text).not.toContain(server.password);
      expect(text).not.toContain(setup.encryptionKey.split(':')[1]);
    }

    await server.query(DAY2, 'shop');
    dumps.push(await mariadbDump(server, 'shop'));
    const second = await runCli(['backup', '--database', 'shop'], setup.env);
    expect(second.code, second.stderr.slice(-3000)).toBe(0);
    const d2 = second.events.find((e) => e.event === 'backup.dedup')!;
    expect(d2.chunks as number).toBeGreaterThan(100);
    expect(d2.newChunks as number).toBeLessThan((d2.chunks as number) / 4);
    expect(d2.uploadedBytes as number).toBeLessThan((d1.uploadedBytes as number) / 4);

    const backups = await listBackups(tenant, databaseId);
    expect(backups.map((b) => [b.status, b.dedup])).toEqual([
      ['succeeded', true],
      ['succeeded', true],
    ]);
    ids.push(backups[1]!.id, backups[0]!.id);
    const usage = (
      await tenant.session.json<{
        databases: { databaseId: string; logicalBytes: number; storedBytes: number }[];
      }>('/dedup/usage')
    ).body.databases.find((d) => d.databaseId === databaseId)!;
    expect(usage.logicalBytes).toBeGreaterThan(usage.storedBytes * 2);

    for (const i of [0, 1]) {
      await server.createDatabase(`shop_r${i}`);
      const restore = await runCli(restoreArgs({ backup: ids[i]! }, server, `shop_r${i}`), env());
      expect(restore.code, restore.stderr.slice(-3000)).toBe(0);
      const events = restore.events.map((e) => e.event);
      // Straight from storage, every chunk checked before the first statement, no file between.
      expect(events).toContain('restore.remote');
      expect(events.indexOf('restore.checked')).toBeLessThan(events.indexOf('restore.started'));
      expect(events).not.toContain('restore.downloaded');
      expect(restore.stdout).toContain(`restored backup ${ids[i]} into mariadb`);
      expect(firstDifference(await mariadbDump(server, `shop_r${i}`), dumps[i]!)).toBeUndefined();
    }
  }, 300_000);

  test('a deduplicated MariaDB backup is refused for a PostgreSQL server, and into a non-empty database', async () => {
    await server.createDatabase('shop_wrong');
    const wrong = await runCli(
      restoreArgs({ backup: ids[0]! }, server, 'shop_wrong', '--engine', 'postgres'),
      env(),
    );
    expect(wrong.code).not.toBe(0);
    const usage = wrong.events.find((e) => e.event === 'command.failed')!;
    expect(usage.msg).toBe('the dump was written by mariadb, but --engine says postgres');
    // The target is checked before anything is read: a non-empty database is refused at once.
    const taken = await runCli(restoreArgs({ backup: ids[0]! }, server, 'shop_r0'), env());
    expect(taken.code).toBe(1);
    expect(taken.events.find((e) => e.event === 'command.failed')?.code).toBe('target_not_empty');
    expect(taken.events.map((e) => e.event)).not.toContain('restore.checked');
  }, 120_000);

  test('the downloaded file lists its tables, restores with --file (whole or one table) and decrypts to SQL the client accepts', async () => {
    const file = await downloadBackup(tenant, ids[1]!, work.dir);
    expect(readFileSync(file).subarray(12, 13)[0]).toBe(3);
    const list = await runCli(['restore', '--file', file, '--list'], setup.env);
    expect(list.code, list.stderr.slice(-2000)).toBe(0);
    expect(list.stdout).toMatch(/mariadb/);
    expect(list.stdout).toMatch(/chunks {2}data sales\n/);

    await server.createDatabase('shop_file');
    const restore = await runCli(restoreArgs({ file }, server, 'shop_file'), env());
    expect(restore.code, restore.stderr.slice(-3000)).toBe(0);
    expect(firstDifference(await mariadbDump(server, 'shop_file'), dumps[1]!)).toBeUndefined();

    // One table out of it, into another database.
    await server.createDatabase('shop_table');
    const one = await runCli(restoreArgs({ file }, server, 'shop_table', '--table', 'customers'), env());
    expect(one.code, one.stderr.slice(-3000)).toBe(0);
    expect(await server.query('SELECT COUNT(*), SUM(city = "Graz") FROM customers', 'shop_table')).toEqual([
      ['30001', '60'],
    ]);

    const sqlFile = join(work.dir, 'shop.sql');
    const decrypt = await runCli(['decrypt', '--file', file, '--output', sqlFile], setup.env);
    expect(decrypt.code, decrypt.stderr).toBe(0);
    await server.createDatabase('shop_manual');
    const client = spawnSync(
      'mariadb',
      ['--no-defaults', `--socket=${server.socket}`, '--user=root', 'shop_manual'],
      { input: readFileSync(sqlFile), encoding: 'utf8' },
    );
    expect(client.status, client.stderr).toBe(0);
    expect(firstDifference(await mariadbDump(server, 'shop_manual'), dumps[1]!)).toBeUndefined();
  }, 180_000);

  test('a flipped chunk in storage or in the file is refused, naming it, before the server sees a statement', async () => {
    const [victim] = await sql<{ object_key: string; chunk_id: string; offset: string }>(
      `select p.object_key, c.chunk_id, c."offset" from dedup_chunks c join dedup_packs p on p.id = c.pack_id
         join dedup_refs r on r.chunk_id = c.chunk_id and r.account_id = c.account_id
        where r.backup_id = $1 and p.status = 'stored' and not exists (select 1 from dedup_refs o
          where o.backup_id = $2 and o.account_id = r.account_id and o.chunk_id = r.chunk_id)
        order by r.seq desc limit 1`,
      [ids[1], ids[0]],
    );
    const saved = Buffer.from(await (await aws.fetch(objectUrl(victim!.object_key))).arrayBuffer());
    const flipped = Buffer.from(saved);
    flipped[Number(victim!.offset) + 30]! ^= 0x01;
    expect((await aws.fetch(objectUrl(victim!.object_key), { method: 'PUT', body: flipped })).status).toBe(
      200,
    );
    try {
      await server.createDatabase('shop_flipped');
      const bad = await runCli(restoreArgs({ backup: ids[1]! }, server, 'shop_flipped'), env());
      expect(bad.code).toBe(1);
      expect(bad.events.map((e) => e.event)).not.toContain('restore.started');
      const damaged = bad.events.find((e) => e.event === 'command.failed')!;
      expect(damaged.code).toBe('chunk_corrupt');
      expect(damaged.msg).toMatch(/chunk \d+ of \d+ in section "[^"]+"/);
      expect(damaged.msg).toContain(
        `(id ${victim!.chunk_id.slice(0, 12)}…) is damaged: it does not authenticate`,
      );
      // Every chunk was read and checked before the first statement: nothing reached the server.
      expect(await tablesIn('shop_flipped')).toBe('0');

      const check = await runCli(['check', '--read-data', '--backup', ids[1]!], setup.env);
      expect(check.code).toBe(1);
      expect(check.stdout).toMatch(new RegExp(`FAILED ${ids[1]}`));
      // The older backup does not use that chunk (it was new in the second): it still passes.
      const older = await runCli(['check', '--read-data', '--backup', ids[0]!], setup.env);
      expect(older.code, older.stdout).toBe(0);
    } finally {
      const put = await aws.fetch(objectUrl(victim!.object_key), { method: 'PUT', body: saved });
      expect(put.status).toBe(200);
    }

    // The same in the downloaded file: --file checks it whole before the server sees a statement.
    const file = await downloadBackup(tenant, ids[1]!, work.dir);
    const bytes = readFileSync(file);
    const at = bytes.length - 100; // inside the last chunk's blob
    bytes[at]! ^= 0x01;
    const flippedFile = join(work.dir, 'flipped.resistro');
    writeFileSync(flippedFile, bytes);
    await server.createDatabase('shop_flipped_file');
    const refused = await runCli(restoreArgs({ file: flippedFile }, server, 'shop_flipped_file'), env());
    expect(refused.code).toBe(1);
    const failure = refused.events.find((e) => e.event === 'command.failed')!;
    expect(failure.code).toBe('chunk_corrupt');
    expect(failure.msg).toMatch(
      /chunk \d+ of \d+ in section "post-data" \(id [A-Za-z0-9_-]{12}…\) is damaged/,
    );
    expect(await tablesIn('shop_flipped_file')).toBe('0');
  }, 180_000);

  test('a restore from the dashboard reads the chunks from storage too, checking them before the first statement', async () => {
    const daemon = new AgentProcess(['agent', '--heartbeat-interval', '1'], setup.env);
    try {
      const r = await tenant.session.json<{ restore: Restore }>('/restores', {
        method: 'POST',
        json: { backupId: ids[1], target: { kind: 'new', database: 'shop_dashboard' } },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      let done: Restore;
      for (let i = 0; ; i++) {
        done = (await tenant.session.json<{ restore: Restore }>(`/restores/${r.body.restore.id}`)).body
          .restore;
        if (done.state !== 'pending' && done.state !== 'running') break;
        if (i > 1200)
          throw new Error(`restore never ended: ${JSON.stringify(done)}\n${daemon.stderr.slice(-3000)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(done, done.error ?? '').toMatchObject({ state: 'succeeded', errorCode: null });
      expect(done.bytesDone).toBe(done.bytesTotal);
      const events = daemon.events.map((e) => e.event);
      expect(events).not.toContain('restore.downloaded');
      expect(events.indexOf('restore.checked')).toBeLessThan(events.indexOf('restore.started'));
      expect(firstDifference(await mariadbDump(server, 'shop_dashboard'), dumps[1]!)).toBeUndefined();
    } finally {
      await daemon.stop();
    }
  }, 180_000);

  test('deleting the older backup frees exactly what only it used; the newer still restores', async () => {
    const accountUsed = async () =>
      Number(
        (
          await sql<{ used: string }>(
            'select storage_used_bytes as used from accounts a join databases d on d.account_id = a.id where d.id = $1',
            [databaseId],
          )
        )[0]!.used,
      );
    const before = await accountUsed();
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
    expect(before - (await accountUsed())).toBe(Number(onlyFirst[0]!.bytes) + manifest);
    const orphans = await sql<{ n: number }>(
      `select count(*)::int as n from dedup_chunks c join databases d on d.account_id = c.account_id
        where d.id = $1 and not exists (select 1 from dedup_refs r where r.account_id = c.account_id and r.chunk_id = c.chunk_id)`,
      [databaseId],
    );
    expect(orphans[0]!.n).toBe(0);
    await server.createDatabase('shop_after');
    const restore = await runCli(restoreArgs({ backup: ids[1]! }, server, 'shop_after'), env());
    expect(restore.code, restore.stderr.slice(-3000)).toBe(0);
    expect(firstDifference(await mariadbDump(server, 'shop_after'), dumps[1]!)).toBeUndefined();
  }, 180_000);
});
