// PostgreSQL server versions other than the machine's own, proven on real servers from the npm
// registry (scripts/stack/postgres-versions.ts). For each major: when an installed pg_dump can
// dump it (same major or newer), the whole engine contract runs against it, round trip included;
// when none can, the agent must refuse the dump before running anything, naming the client
// package to install, and the installed pg_dump itself must refuse the server too (so the
// refusal is no guess).
//
// Which majors: RESISTRO_PG_MAJORS (comma-separated, `npm run test:versions` runs each in turn);
// by default the oldest on npm and the newest, so `npm test` keeps both ends of the claim tested.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../../../scripts/stack/ports.ts';
import { type PostgresServer, startPostgres } from '../../../scripts/stack/postgres.ts';
import {
  NEWEST_POSTGRES_MAJOR,
  OLDEST_POSTGRES_MAJOR,
  obtainPostgres,
  POSTGRES_RELEASES,
} from '../../../scripts/stack/postgres-versions.ts';
import { EngineError, getEngine } from '../../src/engines/index.ts';
import { findPgTools, type PgTool } from '../../src/engines/postgres-tools.ts';
import { nodeToolHost } from '../../src/engines/tools.ts';
import { describeEngineContract } from './contract.ts';
import { dumpToString, makeTestDataDir, recordingSpawn } from './helpers.ts';
import { type PostgresUnderTest, setupPostgresEngine } from './postgres-setup.ts';

const majors = (process.env.RESISTRO_PG_MAJORS ?? `${OLDEST_POSTGRES_MAJOR},${NEWEST_POSTGRES_MAJOR}`)
  .split(',')
  .map((m) => Number(m.trim()));

const installedPgDumps: PgTool[] = await findPgTools(nodeToolHost(), 'pg_dump');

for (const major of majors) {
  const release = POSTGRES_RELEASES[major];
  const fitting = installedPgDumps.filter((t) => t.major >= major).sort((a, b) => a.major - b.major)[0];
  // Downloaded while the file is collected, outside the hooks' time limits (once per machine).
  const binDir = obtainPostgres(major);
  if (fitting) describeContract(major, release, fitting, binDir);
  else describeRefusal(major, release, binDir);
}

function describeContract(major: number, release: string | undefined, pgDump: PgTool, binDir: string): void {
  describe(`PostgreSQL ${major} server (${release} from npm), dumped with pg_dump ${pgDump.major}`, () => {
    describeEngineContract(
      'postgres',
      () => setupPostgresEngine({ binDir }),
      (get) => {
        test(`the server is PostgreSQL ${major} and the dump runs the closest installed pg_dump (${pgDump.major})`, async () => {
          const e = get() as PostgresUnderTest;
          expect(e.serverMajor).toBe(major);
          expect(await e.engine.serverVersion(e.target('rt_source'))).toMatch(new RegExp(`^${major}\\.`));
          e.spawned.length = 0;
          const dump = await e.engine.dump(e.target('rt_source'));
          dump.stdout.resume();
          await dump.done;
          expect(e.spawned.find((r) => r.command.endsWith('pg_dump'))?.command).toBe(pgDump.path);
        }, 30_000);
      },
    );
  });
}

function describeRefusal(major: number, release: string | undefined, binDir: string): void {
  describe(`PostgreSQL ${major} server (${release} from npm), newer than every installed pg_dump`, () => {
    let server: PostgresServer;
    let data: { dir: string; remove(): void };
    const target = (database: string) => ({
      engine: 'postgres' as const,
      host: '127.0.0.1',
      port: server.port,
      database,
      user: 'postgres',
      password: 'unused-trust-login',
    });

    beforeAll(async () => {
      data = makeTestDataDir(`engines-pg${major}`);
      server = await startPostgres({
        dir: join(data.dir, 'cluster'),
        port: await freePort(),
        fast: true,
        binDir,
      });
      await server.createDatabase('shop');
      const c = new pg.Client({ connectionString: server.url('shop') });
      await c.connect();
      await c.query(
        "create table orders (id integer primary key, note text); insert into orders values (1, 'x')",
      );
      await c.end();
    }, 120_000);

    afterAll(async () => {
      await server?.stop();
      data?.remove();
    }, 60_000);

    test('the agent refuses the dump before running pg_dump, naming the versions and the package to install', async () => {
      const { spawn, records } = recordingSpawn();
      const engine = getEngine('postgres', { spawn });
      expect(await engine.serverVersion(target('shop'))).toMatch(new RegExp(`^${major}\\.`));
      records.length = 0;

      const err = await dumpToString(engine, target('shop')).catch((x) => x);
      expect(err).toBeInstanceOf(EngineError);
      expect(err.code).toBe('tool_too_old');
      expect(err.message).toContain(`the PostgreSQL server is version ${major}`);
      expect(err.message).toContain(`no pg_dump ${major} or newer is installed`);
      expect(err.message).toContain(`found: ${installedPgDumps.map((t) => t.major).join(', ')}`);
      expect(err.hint).toContain(`apt-get install -y postgresql-client-${major}`);
      expect(err.hint).toContain('apt.postgresql.org');
      // Only `pg_dump --version` ran (to learn the installed versions), never a dump.
      const runs = records.filter((r) => r.command.endsWith('pg_dump'));
      expect(runs.map((r) => r.args)).toEqual(runs.map(() => ['--version']));
    }, 30_000);

    test('the installed pg_dump itself refuses this server: the refusal mirrors the tool', () => {
      const newest = installedPgDumps[0];
      expect(newest, 'a pg_dump is installed').toBeDefined();
      const r = spawnSync(newest!.path, ['--schema-only', `--dbname=${server.url('shop')}`], {
        encoding: 'utf8',
      });
      expect(r.status).not.toBe(0);
      expect(r.stdout).not.toContain('CREATE TABLE');
      expect(r.stderr).toMatch(/server version mismatch/);
      expect(r.stderr).toContain(`server version: ${major}.`);
    }, 30_000);
  });
}
