// `resistro verify --restore --backup <id>` as a user runs it (issue 14): the agent fetches the
// backup from storage through the control plane, restores it into a scratch database on the
// backed-up database's own server, compares every table with the counts and digests taken while
// backing up, and drops the scratch database. Real PostgreSQL, MariaDB, control plane and S3 server.
//
// A restored copy that lost rows is made by real means, not by a hook in the agent: on PostgreSQL
// an event trigger in template1 (every new database, the scratch one included, inherits it) gives
// the restored `orders` a trigger that drops a row; on MariaDB the `mariadb` client the agent finds
// on PATH is a wrapper that runs the real one and then deletes a row from the restored `orders`
// (a restore tool that loses data).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type MariadbServer, startMariadb } from '../../scripts/stack/mariadb.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import {
  type AgentSetup,
  addDatabase,
  type CustomerPostgres,
  cleanupAgents,
  createTenant,
  listBackups,
  makeAgentSetup,
  registerAgent,
  runCli,
  startCustomerPostgres,
  type Tenant,
  testDir,
} from './helpers.ts';
import { mariadbSeed, postgresSeed } from './seeds.ts';

let pgServer: CustomerPostgres;
let maria: MariadbServer;
let tenant: Tenant;
let setup: AgentSetup;
const backups = { pg: '', maria: '' };
const work = testDir('verify-restore');

beforeAll(async () => {
  pgServer = await startCustomerPostgres('pg-verify-restore');
  await pgServer.createDatabase('shop');
  await pgServer.asOwner(postgresSeed(), 'shop');
  // the scratch database is created by the agent's own database user
  await pgServer.admin(`alter role ${pgServer.user} createdb`);
  maria = await startMariadb({ dir: join(work.dir, 'maria'), port: await freePort(), fast: true });
  await maria.createDatabase('shop');
  await maria.query(mariadbSeed(), 'shop');

  tenant = await createTenant();
  setup = makeAgentSetup({ apiKey: tenant.apiKey, endpoint: tenant.endpoint });
  const agent = await registerAgent(tenant, setup);
  const pg = await addDatabase(tenant, agent, {
    name: 'pg',
    engine: 'postgres',
    port: pgServer.port,
    database: 'shop',
    user: pgServer.user,
    password: pgServer.password,
  });
  const mdb = await addDatabase(tenant, agent, {
    name: 'maria',
    engine: 'mariadb',
    port: maria.port,
    database: 'shop',
    user: maria.user,
    password: maria.password,
  });
  for (const name of ['pg', 'maria']) {
    const backup = await runCli(['backup', '--database', name], setup.env);
    expect(backup.code, backup.stderr).toBe(0);
  }
  backups.pg = (await listBackups(tenant, pg.id))[0]!.id;
  backups.maria = (await listBackups(tenant, mdb.id))[0]!.id;
}, 240_000);

afterAll(async () => {
  await cleanupAgents();
  await pgServer?.stop();
  await maria?.stop();
  work.remove();
});

const scratchLeftPg = async () =>
  Number(
    (await pgServer.admin("select count(*) as n from pg_database where datname like 'resistro_verify_%'"))
      .rows[0]?.n,
  );
const scratchLeftMaria = async () =>
  Number(
    (
      await maria.query(
        "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'resistro\\_verify\\_%'",
        'shop',
      )
    )[0]?.[0],
  );

describe('resistro verify --restore --backup', () => {
  test('PostgreSQL: the backup from storage restores into a scratch database and every table matches', async () => {
    const r = await runCli(['verify', '--restore', '--backup', backups.pg], setup.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^PASSED {2}test restore of backup ${backups.pg}\\n`));
    expect(r.stdout).toMatch(/restore time: .+ \(the measured recovery time\)/);
    const checked = Number(/tables: (\d+) checked, all match/.exec(r.stdout)?.[1]);
    expect(checked).toBeGreaterThan(0);
    const json = await runCli(['verify', '--restore', '--json', '--backup', backups.pg], setup.env);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: 'passed',
      backupId: backups.pg,
      tables: { checked, failed: 0, failures: [] },
    });
    expect(await scratchLeftPg()).toBe(0);
    // SECURITY: the database password never appears in the agent's output
    expect(r.stdout + r.stderr + json.stderr).not.toContain(pgServer.password);
  });

  test('PostgreSQL: a restored copy that lost a row fails, naming the table; the scratch database is gone', async () => {
    // Every database made from now on gets, on CREATE TABLE public.orders, a trigger that drops
    // the row with id 7 as it is loaded. The functions live in information_schema, which the
    // agent's "is the target empty" check (rightly) ignores, like the event trigger itself.
    await pgServer.admin(
      `create function information_schema.lose_order_7() returns trigger language plpgsql as
         $$ begin if new.id = 7 then return null; end if; return new; end $$;
       create function information_schema.attach_loss() returns event_trigger language plpgsql as $$
       declare c record;
       begin
         for c in select * from pg_event_trigger_ddl_commands() loop
           if c.command_tag = 'CREATE TABLE' and c.object_identity = 'public.orders' then
             execute 'create trigger lose_rows before insert on public.orders for each row execute function information_schema.lose_order_7()';
           end if;
         end loop;
       end $$;
       create event trigger attach_loss on ddl_command_end when tag in ('CREATE TABLE')
         execute function information_schema.attach_loss();`,
      'template1',
    );
    try {
      const r = await runCli(['verify', '--restore', '--backup', backups.pg], setup.env);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`^FAILED {2}test restore of backup ${backups.pg}\\n`));
      expect(r.stdout).toContain('tables: ');
      expect(r.stdout).toContain('1 differ');
      expect(r.stdout).toContain('public.orders: row count differs (backed up 2000 rows, restored 1999)');
      const json = await runCli(['verify', '--restore', '--json', '--backup', backups.pg], setup.env);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({
        status: 'failed',
        tables: {
          failed: 1,
          failures: [{ table: 'public.orders', reason: 'rows_differ', expectedRows: 2000, actualRows: 1999 }],
        },
      });
      expect(await scratchLeftPg()).toBe(0);
    } finally {
      await pgServer.admin(
        'drop event trigger attach_loss; drop function information_schema.attach_loss(); drop function information_schema.lose_order_7();',
        'template1',
      );
    }
    // the source was never touched
    expect(Number((await pgServer.admin('select count(*) as n from orders', 'shop')).rows[0]?.n)).toBe(2000);
  });

  test('MariaDB: passes; a restore tool that loses a row fails the test naming the table', async () => {
    const ok = await runCli(['verify', '--restore', '--backup', backups.maria], setup.env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^PASSED {2}test restore of backup ${backups.maria}\\n`));
    expect(ok.stdout).toMatch(/tables: \d+ checked, all match/);
    expect(await scratchLeftMaria()).toBe(0);

    // The client the agent finds first on PATH: the real one, then, only for the restore into the
    // scratch database (the restore reads SQL without --skip-column-names), one row deleted.
    const real = execFileSync('sh', ['-c', 'command -v mariadb'], { encoding: 'utf8' }).trim();
    const bin = join(work.dir, 'lossy-bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(
      join(bin, 'mariadb'),
      `#!/bin/sh
case " $* " in
  *--database=resistro_verify_*--skip-column-names*|*--skip-column-names*--database=resistro_verify_*) exec ${real} "$@" ;;
  *--database=resistro_verify_*) { cat; printf '\\nDELETE FROM orders WHERE id = 7;\\n'; } | exec ${real} "$@" ;;
  *) exec ${real} "$@" ;;
esac
`,
    );
    chmodSync(join(bin, 'mariadb'), 0o755);
    const lossy = { ...setup.env, PATH: `${bin}:${setup.env.PATH}` };
    const r = await runCli(['verify', '--restore', '--backup', backups.maria], lossy);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^FAILED {2}test restore of backup ${backups.maria}\\n`));
    expect(r.stdout).toContain('orders: row count differs (backed up 2000 rows, restored 1999)');
    expect(await scratchLeftMaria()).toBe(0);
    expect((await maria.query('SELECT COUNT(*) FROM orders', 'shop'))[0]?.[0]).toBe('2000');
  });
});
