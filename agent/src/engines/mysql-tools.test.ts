import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  flavourDumpArgs,
  optionFileValue,
  parseMysqlVersion,
  passwordOptionFile,
  toolPreference,
} from './mysql-tools.ts';

describe('MySQL/MariaDB tool versions', () => {
  test.each([
    ['mysqldump  Ver 10.19 Distrib 10.11.18-MariaDB, for debian-linux-gnu (x86_64)', '10.11.18-MariaDB'],
    [
      'mariadb  Ver 15.1 Distrib 10.11.18-MariaDB, for debian-linux-gnu (x86_64) using  EditLine wrapper',
      '10.11.18-MariaDB',
    ],
    ['mariadb-dump from 11.4.2-MariaDB, client 10.19 for Linux (x86_64)', '11.4.2-MariaDB'],
    ['mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)', '8.0.36'],
    ['mysql  Ver 8.4.0 for Linux on x86_64 (MySQL Community Server - GPL)', '8.4.0'],
  ])('%s → %s', (output, version) => {
    expect(parseMysqlVersion(output)).toBe(version);
  });

  test('Oracle mysqldump gets the GTID and column-statistics flags, MariaDB builds none', () => {
    expect(flavourDumpArgs({ name: 'mysqldump', version: '10.11.18-MariaDB', path: '' })).toEqual([]);
    expect(flavourDumpArgs({ name: 'mysqldump', version: '8.0.36', path: '' })).toEqual([
      '--set-gtid-purged=OFF',
      '--column-statistics=0',
    ]);
    expect(flavourDumpArgs({ name: 'mysqldump', version: '5.7.44', path: '' })).toEqual([
      '--set-gtid-purged=OFF',
    ]);
  });

  test('each engine prefers its vendor names and falls back to the other', () => {
    expect(toolPreference('mariadb')).toEqual({
      dump: ['mariadb-dump', 'mysqldump'],
      client: ['mariadb', 'mysql'],
    });
    expect(toolPreference('mysql')).toEqual({
      dump: ['mysqldump', 'mariadb-dump'],
      client: ['mysql', 'mariadb'],
    });
  });
});

describe('password option file', () => {
  test('escapes quotes, backslashes and line breaks for the option-file parser', () => {
    expect(optionFileValue('a"b\\c\nd#e')).toBe('"a\\"b\\\\c\\nd#e"');
  });

  test('is private (0600 in a 0700 directory), holds the password, and is gone after cleanup', async () => {
    const file = await passwordOptionFile('s3cret "x"');
    expect(file.args).toHaveLength(1);
    const path = file.args[0]!.replace('--defaults-extra-file=', '');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
    expect(readFileSync(path, 'utf8')).toBe('[client]\npassword="s3cret \\"x\\""\n');
    await file.cleanup();
    expect(existsSync(dirname(path))).toBe(false);
  });

  test('without a password nothing is written and no argument added (~/.my.cnf applies)', async () => {
    const file = await passwordOptionFile(undefined);
    expect(file.args).toEqual([]);
  });
});
