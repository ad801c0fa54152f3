// MariaDB end to end: backup through the control plane and storage, restore into a fresh database,
// compare dumps. Also what matters most for MySQL/MariaDB, which cannot roll back DDL: a damaged
// file is refused before a single statement reaches the server.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type MariadbServer, startMariadb } from '../../scripts/stack/mariadb.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import {
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

describe('MariaDB round trip through the control plane and storage', () => {
  let server: MariadbServer;
  let tenant: Tenant;
  let setup: AgentSetup;
  let agent: { id: string; publicKey: string };
  let sourceDump: string;
  let backupId: string;
  const work = testDir('maria-work');

  beforeAll(async () => {
    server = await startMariadb({ dir: join(work.dir, 'data'), port: await freePort(), fast: true });
    await server.createDatabase('shop');
    await server.query(mariadbSeed(), 'shop');
    sourceDump = await mariadbDump(server, 'shop');
    tenant = await createTenant();
    setup = makeAgentSetup({ apiKey: tenant.apiKey, endpoint: tenant.endpoint });
    agent = await registerAgent(tenant, setup);
  }, 120_000);

  afterAll(async () => {
    await cleanupAgents();
    await server?.stop();
    work.remove();
  });

  test('backs up awkward content with a sealed password and restores an identical database', async () => {
    const db = await addDatabase(tenant, agent, {
      name: 'shop',
      engine: 'mariadb',
      port: server.port,
      database: 'shop',
      user: server.user,
      password: server.password,
    });
    const backup = await runCli(['backup', '--database', 'shop'], setup.env);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stderr).not.toContain(server.password);
    const [stored] = await listBackups(tenant, db.id);
    expect(stored).toMatchObject({ status: 'succeeded', trigger: 'manual' });
    backupId = stored!.id;

    await server.createDatabase('shop_restored');
    const restore = await runCli(restoreArgs({ backup: backupId }, server, 'shop_restored'), {
      ...setup.env,
      MYSQL_PWD: server.password,
    });
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.events.find((e) => e.event === 'restore.started')?.msg).toMatch(
      /^restoring into mariadb /,
    );
    expect(firstDifference(await mariadbDump(server, 'shop_restored'), sourceDump)).toBeUndefined();
  }, 120_000);

  test('a damaged file is refused before anything reaches the database', async () => {
    const file = await downloadBackup(tenant, backupId, work.dir);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length * 0.75)]! ^= 0x01;
    const damaged = join(work.dir, 'damaged.resistro');
    writeFileSync(damaged, bytes);
    await server.createDatabase('shop_damaged');
    const restore = await runCli(restoreArgs({ file: damaged }, server, 'shop_damaged'), {
      ...setup.env,
      MYSQL_PWD: server.password,
    });
    expect(restore.code).toBe(1);
    const failure = restore.events.find((e) => e.event === 'command.failed');
    expect(failure?.code).toBe('chunk_corrupt');
    expect(failure?.msg).toMatch(/failed authentication/);
    expect(failure?.hint).toMatch(/damaged or altered/);
    expect(
      await server.query(
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop_damaged'",
      ),
    ).toEqual([['0']]);
  }, 60_000);

  test("backs up with local credentials from the agent user's ~/.my.cnf", async () => {
    const quoted = server.password.replaceAll('\\', '\\\\').replaceAll('"', '\\"');
    writeFileSync(join(setup.home, '.my.cnf'), `[client]\nuser=${server.user}\npassword="${quoted}"\n`, {
      mode: 0o600,
    });
    const db = await addDatabase(tenant, agent, {
      name: 'shop-local',
      engine: 'mariadb',
      port: server.port,
      database: 'shop',
      user: server.user,
    });
    const backup = await runCli(['backup', '--database', 'shop-local'], setup.env);
    expect(backup.code, backup.stderr).toBe(0);
    const [stored] = await listBackups(tenant, db.id);
    expect(stored?.status).toBe('succeeded');
  }, 60_000);
});
