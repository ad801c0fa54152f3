// The reading of SHOW GRANTS for servers this machine cannot run (MySQL 8, MariaDB 11.3+): which
// right reads routine bodies there, and which GRANT gives it. The real-server cases are in
// agent/test/engines/check-mariadb.test.ts.
import { describe, expect, it } from 'vitest';
import { accountName, databasePatternMatches, mysqlPrivilegeItems, parseGrants } from './mysql-check.ts';

const failed = (lines: string[], version: string, db = 'shop', user = 'backup@%') =>
  mysqlPrivilegeItems(lines, version, db, user)
    .filter((i) => !i.ok)
    .map((i) => [i.subject, i.params?.grant]);

const DUMP = 'GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON `shop`.* TO `backup`@`%`';

describe('parseGrants', () => {
  it('reads global, database and table grants; skips role, routine grants and column lists', () => {
    const grants = parseGrants([
      "GRANT USAGE ON *.* TO `backup`@`%` IDENTIFIED BY PASSWORD '*ABC'",
      'GRANT ALL PRIVILEGES ON `we``ird`.* TO `backup`@`%`',
      'GRANT SELECT (id, name) ON `shop`.`users` TO `backup`@`%`',
      'GRANT SELECT ON `mysql`.`proc` TO `r1`',
      'GRANT EXECUTE ON FUNCTION `shop`.`f` TO `backup`@`%`',
      'GRANT `r1` TO `backup`@`%`',
    ]);
    expect(grants.map((g) => [g.on, [...g.privileges]])).toEqual([
      ['*.*', ['USAGE']],
      ['we`ird.*', ['ALL PRIVILEGES']],
      ['shop.users', ['SELECT']],
      ['mysql.proc', ['SELECT']],
    ]);
  });

  it('matches wildcard database grants as the server does', () => {
    expect(databasePatternMatches('shop\\_%', 'shop_1')).toBe(true);
    expect(databasePatternMatches('shop\\_%', 'shopX1')).toBe(false);
    expect(databasePatternMatches('shop_', 'shopX')).toBe(true);
    expect(databasePatternMatches('shop', 'shop')).toBe(true);
    expect(databasePatternMatches('sh.p', 'shop')).toBe(false);
  });
});

describe('the right to read routine bodies, per server', () => {
  it('MariaDB 11.3+: SHOW CREATE ROUTINE on the database', () => {
    expect(failed([DUMP], '11.4.2-MariaDB')).toEqual([
      ['SHOW CREATE ROUTINE', "GRANT SHOW CREATE ROUTINE ON `shop`.* TO 'backup'@'%';"],
    ]);
    expect(
      failed([`${DUMP.replace('LOCK TABLES', 'LOCK TABLES, SHOW CREATE ROUTINE')}`], '11.4.2-MariaDB'),
    ).toEqual([]);
  });

  it('MariaDB before 11.3: SELECT on mysql.proc, or global SELECT', () => {
    expect(failed([DUMP], '10.11.18-MariaDB')).toEqual([
      ['SHOW CREATE ROUTINE', "GRANT SELECT ON mysql.proc TO 'backup'@'%';"],
    ]);
    expect(failed([DUMP, 'GRANT SELECT ON *.* TO `backup`@`%`'], '10.6.1-MariaDB')).toEqual([]);
  });

  it('MySQL 8.0.20+: SHOW_ROUTINE; MySQL 8.0 before: global SELECT; MySQL 5.7: mysql.proc', () => {
    expect(failed([DUMP], '8.0.36')).toEqual([
      ['SHOW CREATE ROUTINE', "GRANT SHOW_ROUTINE ON *.* TO 'backup'@'%';"],
    ]);
    expect(failed([DUMP, 'GRANT SHOW_ROUTINE ON *.* TO `backup`@`%`'], '8.4.0')).toEqual([]);
    expect(failed([DUMP], '8.0.19')).toEqual([
      ['SHOW CREATE ROUTINE', "GRANT SELECT ON *.* TO 'backup'@'%';"],
    ]);
    expect(failed([DUMP], '5.7.44-log')).toEqual([
      ['SHOW CREATE ROUTINE', "GRANT SELECT ON mysql.proc TO 'backup'@'%';"],
    ]);
  });

  it('ALL PRIVILEGES on the database covers the database privileges, not the routine right', () => {
    expect(failed(['GRANT ALL PRIVILEGES ON `shop`.* TO `backup`@`%`'], '10.11.18-MariaDB')).toEqual([
      ['SHOW CREATE ROUTINE', "GRANT SELECT ON mysql.proc TO 'backup'@'%';"],
    ]);
  });
});

describe('accountName', () => {
  it("quotes user and host as a GRANT names them, splitting at the last '@'", () => {
    expect(accountName('backup@%')).toBe("'backup'@'%'");
    expect(accountName("o'neil@mail@10.0.0.%")).toBe("'o\\'neil@mail'@'10.0.0.%'");
  });
});
