// The engine contract against the machine's own PostgreSQL server (Debian's, see scripts/stack);
// the setup is in postgres-setup.ts, other server versions in postgres-versions.test.ts.
import { expect, test } from 'vitest';
import { EngineError, getEngine } from '../../src/engines/index.ts';
import { nodeToolHost, type ToolHost } from '../../src/engines/tools.ts';
import { describeEngineContract } from './contract.ts';
import { setupPostgresEngine } from './postgres-setup.ts';

describeEngineContract(
  'postgres',
  () => setupPostgresEngine(),
  (get) => {
    test("dumps with the pg_dump of the server's major version", async () => {
      const e = get();
      const major = (await e.engine.serverVersion(e.target('rt_source'))).split('.')[0];
      e.spawned.length = 0;
      const dump = await e.engine.dump(e.target('rt_source'));
      dump.stdout.resume();
      await dump.done;
      const pgDump = e.spawned.find((r) => r.command.endsWith('/pg_dump'));
      expect(pgDump?.command).toMatch(new RegExp(`/${major}/bin/pg_dump$`));
    }, 30_000);

    test('refuses to dump when only an older pg_dump is installed, naming the version to install', async () => {
      const e = get();
      const real = nodeToolHost();
      // This machine, except that its only pg_dump claims to be PostgreSQL 13.
      const olderOnly: ToolHost = {
        ...real,
        searchPath: '',
        versionOutput: async (path) =>
          path.endsWith('/pg_dump') ? 'pg_dump (PostgreSQL) 13.16' : real.versionOutput(path),
      };
      const major = (await e.engine.serverVersion(e.target('rt_source'))).split('.')[0];
      const err = await getEngine('postgres', { toolHost: olderOnly })
        .dump(e.target('rt_source'))
        .catch((x) => x);
      expect(err).toBeInstanceOf(EngineError);
      expect(err.code).toBe('tool_too_old');
      expect(err.message).toContain(`version ${major}`);
      expect(err.message).toContain('found: 13');
      expect(err.hint).toContain(`postgresql-client-${major}`);
    }, 30_000);
  },
);
