// Single tables out of a deduplicated MariaDB backup, and test restores of one, as a customer runs
// them: the real control plane, the signature-checking S3 server, a real MariaDB server.
// `restore --backup <id> --table` reads the manifest, then the chunks of the dump's preamble and of
// that table's section only, twice (first every chunk is checked, as MySQL cannot roll back a
// dropped table, then they stream into the client); `restore --file` reads only those records of
// the downloaded file; --as and --replace as for a whole-file backup; a flipped byte in one of the
// table's chunks is refused naming the chunk before the server sees a statement. A test restore
// of the backup reads its chunks from storage and compares every table.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RestoreTest } from '@resistro/contract';
import { AwsClient } from 'aws4fetch';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type MariadbServer, startMariadb } from '../../scripts/stack/mariadb.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } from '../../scripts/stack/s3.ts';
import { sql, stackInfo } from '../../scripts/test/api.ts';
import { openContainerSections } from '../src/dedup/container-sections.ts';
import type { Manifest } from '../src/dedup/manifest.ts';
import { parseEncryptionKey } from '../src/format/index.ts';
import {
  AgentProcess,
  type AgentSetup,
  addDatabase,
  cleanupAgents,
  createTenant,
  downloadBackup,
  listBackups,
  makeAgentSetup,
  registerAgent,
  restoreArgs,
  runCli,
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
CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, city VARCHAR(40)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO customers SELECT seq, CONCAT('Kunde ', seq), ELT(1 + seq % 4, 'Köln', 'Berlin', 'Wien', 'Zürich') FROM seq_1_to_30000;
CREATE TABLE sales (id BIGINT PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(10,2), note VARCHAR(200)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO sales SELECT seq, 1 + seq % 30000, (seq % 9973) / 7, CONCAT(MD5(seq), ' bestellt') FROM seq_1_to_120000;
CREATE TABLE events (id INT PRIMARY KEY, at DATETIME, kind VARCHAR(10)) ENGINE=InnoDB;
INSERT INTO events SELECT seq, '2026-11-01' + INTERVAL seq MINUTE, 'tick' FROM seq_1_to_20000;
`;

describe('single tables and test restores of a deduplicated MariaDB backup', () => {
  let server: MariadbServer;
  let tenant: Tenant;
  let setup: AgentSetup;
  let databaseId: string;
  let backupId: string;
  let manifestBytes: number;
  let file: string;
  let manifest: Manifest;
  let bodyStart: number;
  const work = testDir('dedup-table-maria');
  const env = () => ({ ...setup.env, MYSQL_PWD: server.password });
  /** the rows of a table in key order as one digest, and their number */
  const COLUMNS: Record<string, string> = {
    customers: 'id, name, city',
    sales: 'id, customer_id, total, note',
  };
  const digest = async (database: string, table: string, columnsOf = table) =>
    (
      await server.query(
        `SET SESSION group_concat_max_len = 1073741824;
         SELECT COUNT(*), MD5(GROUP_CONCAT(CONCAT_WS('|', ${COLUMNS[columnsOf]}) ORDER BY id SEPARATOR '\n')) FROM ${table};`,
        database,
      )
    )[0];
  const sectionOf = (table: string) =>
    manifest.sections.findIndex((s) => s.kind === 'data' && s.name === table);
  const blobs = (index: number) => manifest.sections[index]!.chunks.reduce((n, c) => n + c[3], 0);
  const records = (index: number) => manifest.sections[index]!.chunks.reduce((n, c) => n + 4 + c[3], 0);
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
    expect(sectionOf('customers')).toBeGreaterThan(0);
    expect(sectionOf('sales')).toBeGreaterThan(0);
  }, 240_000);

  afterAll(async () => {
    await cleanupAgents();
    await server?.stop();
    work.remove();
  });

  test('--backup --table reads only the chunks of the preamble and that table, checks them, then creates it with identical rows', async () => {
    await server.createDatabase('shop_t');
    const restore = await runCli(
      restoreArgs({ backup: backupId }, server, 'shop_t', '--table', 'customers'),
      env(),
    );
    expect(restore.code, restore.stderr.slice(-3000)).toBe(0);
    expect(restore.stdout).toContain(`restored table customers from backup ${backupId}`);
    expect(restore.events.map((e) => e.event)).not.toContain('restore.downloaded');
    const done = restore.events.find((e) => e.event === 'restore.table')!;
    // the manifest, then the two sections' chunks twice (checked, then restored)
    const expected = manifestBytes + 2 * (blobs(preData()) + blobs(sectionOf('customers')));
    expect(done.readBytes).toBe(expected);
    expect(done.sections).toBe(2);
    const all = manifest.sections.reduce((n, _s, i) => n + blobs(i), manifestBytes);
    expect(blobs(sectionOf('customers')) * 3).toBeLessThan(all);
    expect(await digest('shop_t', 'customers')).toEqual(await digest('shop', 'customers'));
    expect(
      await server.query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop_t'"),
    ).toEqual([['customers']]);
  }, 120_000);

  test('--file --table --as reads only those records of the downloaded file and restores under the new name', async () => {
    const restore = await runCli(
      restoreArgs({ file }, server, 'shop_t', '--table', 'sales', '--as', 'sales_copy'),
      env(),
    );
    expect(restore.code, restore.stderr.slice(-3000)).toBe(0);
    expect(restore.events.find((e) => e.event === 'restore.table')?.readBytes).toBe(
      bodyStart + 2 * (records(preData()) + records(sectionOf('sales'))),
    );
    expect(await digest('shop_t', 'sales_copy', 'sales')).toEqual(await digest('shop', 'sales'));
    expect((await digest('shop_t', 'sales_copy', 'sales'))![0]).toBe('120000');
  }, 120_000);

  test('a table with rows is refused unless --replace, which restores it over them', async () => {
    await server.query('DELETE FROM customers WHERE id <= 100', 'shop_t');
    const refused = await runCli(
      restoreArgs({ backup: backupId }, server, 'shop_t', '--table', 'customers'),
      env(),
    );
    expect(refused.code).toBe(1);
    expect(refused.events.find((e) => e.event === 'command.failed')?.code).toBe('target_not_empty');
    expect((await digest('shop_t', 'customers'))![0]).toBe('29900');
    const replaced = await runCli(
      restoreArgs({ backup: backupId }, server, 'shop_t', '--table', 'customers', '--replace'),
      env(),
    );
    expect(replaced.code, replaced.stderr.slice(-3000)).toBe(0);
    expect(await digest('shop_t', 'customers')).toEqual(await digest('shop', 'customers'));
  }, 120_000);

  test('chunks of the other sections are never read: damaged in storage, they do not stop the table', async () => {
    // a flipped byte in the first chunk of every section but the schema's and the table's own; a
    // restore that read them (the whole backup, or the assembled file) would refuse the backup
    const others = manifest.sections
      .map((s, i) => ({ s, i }))
      .filter(({ s, i }) => i !== preData() && i !== sectionOf('customers') && s.chunks.length > 0)
      .map(({ s }) => s.chunks[0]![0]);
    expect(others.length).toBeGreaterThan(2);
    const undo = await flipInStorage(others);
    try {
      const check = await runCli(['check', '--read-data', '--backup', backupId], setup.env);
      expect(check.code).not.toBe(0);
      const restore = await runCli(
        restoreArgs({ backup: backupId }, server, 'shop_t', '--table', 'customers', '--replace'),
        env(),
      );
      expect(restore.code, restore.stderr.slice(-3000)).toBe(0);
      expect(await digest('shop_t', 'customers')).toEqual(await digest('shop', 'customers'));
    } finally {
      await undo();
    }
  }, 180_000);

  test('an unknown table is refused before anything is read, with a hint on how to list the tables', async () => {
    const refused = await runCli(
      restoreArgs({ backup: backupId }, server, 'shop_t', '--table', 'nope'),
      env(),
    );
    expect(refused.code).toBe(2);
    expect(refused.events.find((e) => e.event === 'command.failed')?.msg).toContain(
      'the backup has no table `nope`',
    );
    expect(refused.stderr).toContain(`resistro restore --backup ${backupId} --list`);
  }, 60_000);

  test('a flipped byte in a chunk of the table, in storage or in the file, is refused naming the chunk before the server sees a statement', async () => {
    await server.query('DELETE FROM customers WHERE id <= 10', 'shop_t');
    const kept = await digest('shop_t', 'customers');
    const section = sectionOf('customers');
    const chunks = manifest.sections[section]!.chunks;
    const victim = chunks.length - 1; // the table's last chunk: nothing may have reached the server
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
      `chunk ${victim + 1} of ${chunks.length} in section "data customers" \\(id [A-Za-z0-9_-]{12}…\\) is damaged`,
    );
    try {
      const refused = await runCli(
        restoreArgs({ backup: backupId }, server, 'shop_t', '--table', 'customers', '--replace'),
        env(),
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

    const bytes = Buffer.from(readFileSync(file));
    let at = bodyStart;
    for (let s = 0; s < section; s++) at += records(s);
    for (let i = 0; i < victim; i++) at += 4 + chunks[i]![3];
    bytes[at + 4 + 40]! ^= 0x01;
    const damaged = join(work.dir, 'damaged.resistro');
    writeFileSync(damaged, bytes);
    const fromFile = await runCli(
      restoreArgs({ file: damaged }, server, 'shop_t', '--table', 'customers', '--replace'),
      env(),
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
      expect(done.tables).toMatchObject({ checked: 3, failed: 0 });
      const events = daemon.events.map((e) => e.event);
      expect(events).toContain('verify.remote');
      expect(events).not.toContain('restore.downloaded');
      const left = await server.query(
        "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'resistro\\_verify\\_%'",
      );
      expect(left[0]?.[0]).toBe('0');
    } finally {
      await daemon.stop();
    }
  }, 240_000);
});
