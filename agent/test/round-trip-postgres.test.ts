// PostgreSQL end to end, as a customer runs it: the agent process backs up through the real control
// plane and the signature-checking S3 server; the backup is downloaded and restored with the
// documented commands into a fresh database, which then dumps to the same SQL.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openArchive, parseEncryptionKey } from '../src/format/index.ts';
import {
  type AgentSetup,
  addDatabase,
  type CustomerPostgres,
  cleanupAgents,
  createTenant,
  downloadBackup,
  firstDifference,
  listBackups,
  makeAgentSetup,
  ROOT,
  registerAgent,
  restoreArgs,
  runCli,
  startCustomerPostgres,
  type Tenant,
  testDir,
} from './helpers.ts';
import { postgresSeed } from './seeds.ts';

describe('PostgreSQL round trip through the control plane and storage', () => {
  let pgServer: CustomerPostgres;
  let tenant: Tenant;
  let setup: AgentSetup;
  let agent: { id: string; publicKey: string };
  let sourceDump: string;
  let firstBackupId: string;
  const work = testDir('pg-work');

  beforeAll(async () => {
    pgServer = await startCustomerPostgres('pg-rt');
    await pgServer.createDatabase('shop');
    await pgServer.asOwner(postgresSeed(), 'shop');
    sourceDump = await pgServer.dump('shop');
    tenant = await createTenant();
    setup = makeAgentSetup({ apiKey: tenant.apiKey, endpoint: tenant.endpoint });
    agent = await registerAgent(tenant, setup);
  }, 120_000);

  afterAll(async () => {
    await cleanupAgents();
    await pgServer?.stop();
    work.remove();
  });

  test('backs up awkward content with a sealed password and restores an identical database from --backup', async () => {
    const db = await addDatabase(tenant, agent, {
      name: 'Shop (Produktion)',
      engine: 'postgres',
      port: pgServer.port,
      database: 'shop',
      user: pgServer.user,
      password: pgServer.password,
    });
    const backup = await runCli(['backup', '--database', 'Shop (Produktion)'], setup.env);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.events.map((e) => e.event)).toContain('backup.succeeded');
    // SECURITY: neither the database password nor the encryption key appears in any output.
    for (const text of [backup.stdout, backup.stderr]) {
      expect(text).not.toContain(pgServer.password);
      expect(text).not.toContain(setup.encryptionKey.split(':')[1]);
    }

    const [stored] = await listBackups(tenant, db.id);
    expect(stored).toMatchObject({ status: 'succeeded', trigger: 'manual', agentId: agent.id });
    firstBackupId = stored!.id;
    expect(stored!.sizeBytes).toBeGreaterThan(1_000_000);
    expect(stored!.fileName).toMatch(/^backup-shop-\d{4}-\d{2}-\d{2}\.resistro$/);

    await pgServer.createDatabase('shop_restored');
    const restore = await runCli(restoreArgs({ backup: stored!.id }, pgServer, 'shop_restored'), {
      ...setup.env,
      PGPASSWORD: pgServer.password,
    });
    expect(restore.code, restore.stderr).toBe(0);
    expect(firstDifference(await pgServer.dump('shop_restored'), sourceDump)).toBeUndefined();

    // Restoring again into the now non-empty database is refused, then allowed with --replace.
    const again = await runCli(restoreArgs({ backup: stored!.id }, pgServer, 'shop_restored'), {
      ...setup.env,
      PGPASSWORD: pgServer.password,
    });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not empty/);
    const replaced = await runCli(
      restoreArgs({ backup: stored!.id }, pgServer, 'shop_restored', '--replace'),
      { ...setup.env, PGPASSWORD: pgServer.password },
    );
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(firstDifference(await pgServer.dump('shop_restored'), sourceDump)).toBeUndefined();

    // The documented manual way: download, decrypt to plain SQL, psql < file.
    const file = await downloadBackup(tenant, stored!.id, work.dir);
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
    expect(firstDifference(await pgServer.dump('shop_manual'), sourceDump)).toBeUndefined();
  }, 120_000);

  test('restore refuses a damaged file, a file cut at a chunk boundary and a wrong key, with a clear message, leaving the database empty', async () => {
    const file = await downloadBackup(tenant, firstBackupId, work.dir);
    const bytes = readFileSync(file);
    // A PostgreSQL backup is sectioned (FORMAT.md §11): damage the second chunk of its largest
    // section, and cut the file before its table of contents.
    const archive = await openArchive(file, parseEncryptionKey(setup.encryptionKey));
    const largest = [...archive.toc.sections].sort((a, b) => b.plaintextBytes - a.plaintextBytes)[0]!;
    const chunk = 4 + archive.header.chunkSize + 16;
    const flipped = Buffer.from(bytes);
    flipped[largest.segments[0]![0] + chunk + 100]! ^= 0x80;
    writeFileSync(join(work.dir, 'flipped.resistro'), flipped);
    const tocOffset = Number(bytes.readBigUInt64BE(bytes.length - 16));
    writeFileSync(join(work.dir, 'cut.resistro'), bytes.subarray(0, tocOffset));
    const otherKey = makeAgentSetup({ apiKey: tenant.apiKey, endpoint: tenant.endpoint }).env;

    await pgServer.createDatabase('shop_refused');
    const cases = [
      {
        file: join(work.dir, 'flipped.resistro'),
        env: setup.env,
        code: 'chunk_corrupt',
        message: new RegExp(`section ${largest.index} \\(data .*\\): chunk 1 failed authentication`),
      },
      {
        file: join(work.dir, 'cut.resistro'),
        env: setup.env,
        code: 'truncated',
        message: /does not end with the trailer of its table of contents/,
      },
      { file, env: otherKey, code: 'wrong_key', message: /wrong key/ },
    ];
    for (const c of cases) {
      const run = await runCli(restoreArgs({ file: c.file }, pgServer, 'shop_refused'), {
        ...c.env,
        PGPASSWORD: pgServer.password,
      });
      expect(run.code, c.code).toBe(1);
      const failure = run.events.find((e) => e.event === 'command.failed');
      expect(failure?.code, run.stderr.slice(-3000)).toBe(c.code);
      expect(failure?.msg).toMatch(c.message);
      expect(failure?.hint).toBeTruthy();
      // PostgreSQL: a damaged section is found while restoring; the sessions are stopped and what
      // was restored is dropped again, so the database is as empty as before.
      expect(run.events.map((e) => e.event)).not.toContain('restore.done');
      const tables = await pgServer.admin(
        "select count(*)::int as n from pg_tables where schemaname not in ('pg_catalog', 'information_schema')",
        'shop_refused',
      );
      expect(tables.rows[0].n).toBe(0);
    }

    // decrypt with the wrong key writes nothing at all, not even a partial file.
    const out = join(work.dir, 'wrong-key.sql');
    const decrypt = await runCli(['decrypt', '--file', file, '--output', out], otherKey);
    expect(decrypt.code).toBe(1);
    expect(decrypt.events.find((e) => e.event === 'command.failed')?.code).toBe('wrong_key');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work.dir).filter((n) => n.includes('wrong-key'))).toEqual([]);

    const verify = await runCli(['verify', '--file', join(work.dir, 'flipped.resistro')], setup.env);
    expect(verify.code).toBe(1);
    expect(verify.events.find((e) => e.event === 'command.failed')?.code).toBe('chunk_corrupt');
  }, 60_000);

  test('public-key mode: the agent holds only the public key; restoring needs the private key', async () => {
    await pgServer.createDatabase('shop_pk');
    await pgServer.asOwner(
      'create table secrets (id int primary key, body text); insert into secrets values (1, $$nur mit privatem Schlüssel 🔑$$);',
      'shop_pk',
    );
    const keyFile = join(work.dir, 'pk');
    const made = await runCli(['keygen', '--public-key-mode', '--output', keyFile], setup.env);
    expect(made.code, made.stderr).toBe(0);
    const publicKey = made.stdout.trim();
    const pkSetup = makeAgentSetup({
      apiKey: tenant.apiKey,
      endpoint: tenant.endpoint,
      encryptionKey: publicKey,
    });
    const pkAgent = await registerAgent(tenant, pkSetup);
    const db = await addDatabase(tenant, pkAgent, {
      name: 'public-key',
      engine: 'postgres',
      port: pgServer.port,
      database: 'shop_pk',
      user: pgServer.user,
      password: pgServer.password,
    });
    const backup = await runCli(['backup', '--database', 'public-key'], pkSetup.env);
    expect(backup.code, backup.stderr).toBe(0);
    const [stored] = await listBackups(tenant, db.id);
    const file = await downloadBackup(tenant, stored!.id, work.dir);

    // The agent's own configuration (a public key) cannot decrypt what it made.
    const refused = await runCli(['verify', '--file', file], pkSetup.env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/is a public key \(resistro-pub-1:…\), which can only encrypt/);

    await pgServer.createDatabase('shop_pk_restored');
    const restore = await runCli(restoreArgs({ file }, pgServer, 'shop_pk_restored', '--key-file', keyFile), {
      ...pkSetup.env,
      PGPASSWORD: pgServer.password,
    });
    expect(restore.code, restore.stderr).toBe(0);
    expect(
      firstDifference(await pgServer.dump('shop_pk_restored'), await pgServer.dump('shop_pk')),
    ).toBeUndefined();
  }, 120_000);

  test("backs up with local credentials from the agent user's ~/.pgpass", async () => {
    await pgServer.createDatabase('shop_local');
    await pgServer.asOwner(
      'create table notes (id int primary key, body text); insert into notes values (1, $$hallo 😀$$);',
      'shop_local',
    );
    const pgpassEscape = (s: string) => s.replaceAll('\\', '\\\\').replaceAll(':', '\\:');
    writeFileSync(
      join(setup.home, '.pgpass'),
      `127.0.0.1:${pgServer.port}:*:${pgServer.user}:${pgpassEscape(pgServer.password)}\n`,
      { mode: 0o600 },
    );
    const db = await addDatabase(tenant, agent, {
      name: 'local-creds',
      engine: 'postgres',
      port: pgServer.port,
      database: 'shop_local',
      user: pgServer.user,
    });
    // Paused, it is left alone, as the dashboard's "back up now" does.
    expect((await tenant.session.json(`/databases/${db.id}/pause`, { method: 'POST' })).status).toBe(200);
    const paused = await runCli(['backup', '--database', db.id], setup.env);
    expect(paused.code).toBe(1);
    expect(paused.stderr).toContain(String.raw`database \"local-creds\" is paused`);
    expect(await listBackups(tenant, db.id)).toEqual([]);
    expect((await tenant.session.json(`/databases/${db.id}/resume`, { method: 'POST' })).status).toBe(200);

    const backup = await runCli(['backup', '--database', db.id], setup.env);
    expect(backup.code, backup.stderr).toBe(0);
    const [stored] = await listBackups(tenant, db.id);
    expect(stored?.status).toBe('succeeded');

    await pgServer.createDatabase('shop_local_restored');
    const restore = await runCli(
      restoreArgs({ backup: stored!.id }, pgServer, 'shop_local_restored'),
      setup.env,
    );
    expect(restore.code, restore.stderr).toBe(0);
    expect(
      firstDifference(await pgServer.dump('shop_local_restored'), await pgServer.dump('shop_local')),
    ).toBeUndefined();
  }, 60_000);

  test('the single-file build, run by node without node_modules, backs up and verifies', async () => {
    const build = spawnSync(process.execPath, ['--no-warnings', join(ROOT, 'agent/build.ts')], {
      encoding: 'utf8',
    });
    expect(build.status, build.stderr).toBe(0);
    await pgServer.createDatabase('shop_bundle');
    await pgServer.asOwner(
      'create table t (id int primary key, v text); insert into t select i, md5(i::text) from generate_series(1, 1000) i;',
      'shop_bundle',
    );
    const db = await addDatabase(tenant, agent, {
      name: 'bundle',
      engine: 'postgres',
      port: pgServer.port,
      database: 'shop_bundle',
      user: pgServer.user,
      password: pgServer.password,
    });
    const backup = await runCli(['backup', '--database', 'bundle'], setup.env, { bundle: true });
    expect(backup.code, backup.stderr).toBe(0);
    const [stored] = await listBackups(tenant, db.id);
    const file = await downloadBackup(tenant, stored!.id, work.dir);
    const verify = await runCli(['verify', '--file', file], setup.env, { bundle: true });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^OK /);
    expect(
      execFileSync(process.execPath, [join(ROOT, 'agent/dist/resistro.mjs'), '--version'], {
        encoding: 'utf8',
      }),
    ).toMatch(/^resistro \d+\.\d+\.\d+/);
  }, 60_000);
});
