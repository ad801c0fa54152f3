// The connection check against a real MariaDB server, as accounts with too few rights: each missing
// privilege is named with the GRANT that gives it, and running that GRANT makes the check (and
// the real dump) pass. The routine case is the one an outside run's first backup failed on.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type MariadbServer, sqlString, startMariadb } from '../../../scripts/stack/mariadb.ts';
import { freePort } from '../../../scripts/stack/ports.ts';
import { type CheckItem, type DatabaseTarget, getEngine } from '../../src/engines/index.ts';
import { dumpToString, makeTestDataDir, TEST_PASSWORD } from './helpers.ts';

const engine = getEngine('mariadb');
let server: MariadbServer;
let port: number;
let data: ReturnType<typeof makeTestDataDir>;

const target = (user: string, database = 'shop', password = TEST_PASSWORD): DatabaseTarget => ({
  engine: 'mariadb',
  host: '127.0.0.1',
  port,
  database,
  user,
  password,
});

async function createUser(name: string, grants: string[]) {
  await server.query(
    [
      `CREATE USER '${name}'@'%' IDENTIFIED BY ${sqlString(TEST_PASSWORD)};`,
      ...grants.map((g) => `${g} TO '${name}'@'%';`),
    ].join('\n'),
  );
}

const failedOf = (items: CheckItem[]) => items.filter((i) => !i.ok);
const DUMP_PRIVILEGES = 'SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES';

beforeAll(async () => {
  data = makeTestDataDir('check-mariadb');
  port = await freePort();
  server = await startMariadb({ dir: join(data.dir, 'server'), port, fast: true, password: TEST_PASSWORD });
  await server.createDatabase('shop');
  await server.createDatabase('shop_1');
  // created by root: the routine's DEFINER is root, so only the routine right shows its body
  await server.query(
    `CREATE TABLE orders (id INT PRIMARY KEY, total DECIMAL(10,2));
     CREATE VIEW big_orders AS SELECT id FROM orders WHERE total > 100;
     CREATE FUNCTION add_tax(amount DECIMAL(10,2)) RETURNS DECIMAL(10,2) DETERMINISTIC RETURN amount * 1.19;
     CREATE TRIGGER orders_check BEFORE INSERT ON orders FOR EACH ROW SET NEW.total = ABS(NEW.total);
     CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DO DELETE FROM orders WHERE total = 0;`,
    'shop',
  );
}, 120_000);

afterAll(async () => {
  await server?.stop();
  data?.remove();
}, 60_000);

describe('mariadb connection check', () => {
  test('an account with every right the dump needs passes every step', async () => {
    const result = await engine.checkConnection(target(server.user));
    expect(failedOf(result.items)).toEqual([]);
    expect(result.items.map((i) => [i.step, i.subject])).toEqual([
      ['connection', undefined],
      ['authentication', undefined],
      ['database', undefined],
      ['privilege', 'SELECT'],
      ['privilege', 'SHOW VIEW'],
      ['privilege', 'TRIGGER'],
      ['privilege', 'EVENT'],
      ['privilege', 'LOCK TABLES'],
      ['privilege', 'SHOW CREATE ROUTINE'],
      ['version', 'mariadb-dump'],
    ]);
    expect(result.serverVersion).toMatch(/^10\.\d+\.\d+-MariaDB/);
    expect(result.toolVersion).toMatch(/^\d+\.\d+/);
  }, 30_000);

  test('without the right to read routine bodies: exactly that is reported, and its GRANT fixes it', async () => {
    await createUser('noroutine', [`GRANT ${DUMP_PRIVILEGES}, EXECUTE ON shop.*`]);
    const t = target('noroutine');
    // what happens without the check: the first backup fails on the function
    const dump = await dumpToString(engine, t).catch((e) => e);
    expect(dump.stderr).toMatch(/insufficient privileges to SHOW CREATE FUNCTION/);
    // and that failure names the routine and the grant, should it still happen
    expect(dump.code).toBe('permission_denied');
    expect(dump.message).toContain('may not read the body of function `add_tax`');
    expect(dump.hint).toContain('GRANT SELECT ON mysql.proc');

    const result = await engine.checkConnection(t);
    expect(failedOf(result.items)).toEqual([
      {
        step: 'privilege',
        subject: 'SHOW CREATE ROUTINE',
        ok: false,
        code: 'privilege_missing',
        // MariaDB before 11.3 keeps routine bodies in mysql.proc
        params: {
          privilege: 'SELECT ON mysql.proc',
          grant: "GRANT SELECT ON mysql.proc TO 'noroutine'@'%';",
        },
      },
    ]);

    await server.query(result.items.find((i) => !i.ok)!.params!.grant!);
    expect(failedOf((await engine.checkConnection(t)).items)).toEqual([]);
    expect(await dumpToString(engine, t)).toContain('FUNCTION `add_tax`');
  }, 30_000);

  test('an account with SELECT only: every missing privilege is named with its GRANT', async () => {
    await createUser('selectonly', ['GRANT SELECT ON shop.*']);
    const result = await engine.checkConnection(target('selectonly'));
    expect(failedOf(result.items).map((i) => [i.subject, i.code, i.params?.grant])).toEqual([
      ['SHOW VIEW', 'privilege_missing', "GRANT SHOW VIEW ON `shop`.* TO 'selectonly'@'%';"],
      ['TRIGGER', 'privilege_missing', "GRANT TRIGGER ON `shop`.* TO 'selectonly'@'%';"],
      ['EVENT', 'privilege_missing', "GRANT EVENT ON `shop`.* TO 'selectonly'@'%';"],
      ['LOCK TABLES', 'privilege_missing', "GRANT LOCK TABLES ON `shop`.* TO 'selectonly'@'%';"],
      ['SHOW CREATE ROUTINE', 'privilege_missing', "GRANT SELECT ON mysql.proc TO 'selectonly'@'%';"],
    ]);
    expect(result.items.find((i) => i.subject === 'SELECT')?.ok).toBe(true);
  }, 30_000);

  test('rights through a default role and a wildcard database grant count', async () => {
    await server.query(
      `CREATE ROLE dumper;
       GRANT ${DUMP_PRIVILEGES} ON \`shop\\_%\`.* TO dumper;
       GRANT SELECT ON mysql.proc TO dumper;`,
    );
    await createUser('viarole', ['GRANT dumper']);
    await server.query("SET DEFAULT ROLE dumper FOR 'viarole'@'%';");
    const result = await engine.checkConnection(target('viarole', 'shop_1'));
    expect(failedOf(result.items)).toEqual([]);
    // the pattern shop\_% does not cover "shop" itself
    const other = await engine.checkConnection(target('viarole', 'shop'));
    expect(failedOf(other.items).map((i) => i.step)).toEqual(['database']);
    expect(failedOf(other.items)[0]?.code).toBe('database_denied');
  }, 30_000);

  test('a wrong password fails at authentication, without the password in the report', async () => {
    const wrong = `wrong-${Math.random().toString(36).slice(2)}`;
    const result = await engine.checkConnection(target(server.user, 'shop', wrong));
    expect(result.items.map((i) => [i.step, i.ok, i.code])).toEqual([
      ['connection', true, undefined],
      ['authentication', false, 'auth_failed'],
    ]);
    expect(result.items[1]?.params).toEqual({ user: server.user });
    expect(result.items[1]?.detail).toMatch(/Access denied for user/);
    expect(JSON.stringify(result)).not.toContain(wrong);
  }, 30_000);

  test('a missing database and an unreachable server are told apart', async () => {
    const missing = await engine.checkConnection(target(server.user, 'no_such_db'));
    expect(missing.items.map((i) => [i.step, i.ok, i.code])).toEqual([
      ['connection', true, undefined],
      ['authentication', true, undefined],
      ['database', false, 'database_missing'],
    ]);
    expect(missing.items[2]?.params).toEqual({ database: 'no_such_db' });

    const closed = await freePort();
    const unreachable = await engine.checkConnection({ ...target(server.user), port: closed });
    expect(unreachable.items).toHaveLength(1);
    expect(unreachable.items[0]).toMatchObject({
      step: 'connection',
      ok: false,
      code: 'unreachable',
      params: { host: '127.0.0.1', port: String(closed) },
    });
    expect(unreachable.items[0]?.detail).toMatch(/Can't connect/);
  }, 30_000);
});
