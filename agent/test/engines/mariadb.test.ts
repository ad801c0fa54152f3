// The engine contract for `mariadb` against a real MariaDB server: mariadb-dump and mariadb.
import { expect, test } from 'vitest';
import { describeEngineContract, sqlStream } from './contract.ts';
import { dumpToString } from './helpers.ts';
import { setupMariadbEngine } from './mariadb-setup.ts';

describeEngineContract(
  'mariadb',
  () => setupMariadbEngine('mariadb'),
  (get) => {
    test("dumps with mariadb-dump and restores with mariadb, MariaDB's own names", async () => {
      const e = get();
      await e.createDatabase('rt_names_from');
      await e.seedRoutineOnly('rt_names_from');
      await e.createDatabase('rt_names_to');
      await e.engine.restore(
        e.target('rt_names_to'),
        sqlStream(await dumpToString(e.engine, e.target('rt_names_from'))),
      );
      const tools = e.spawned
        .filter((r) => r.args[0] !== '--version')
        .map((r) => r.command.split('/').at(-1));
      expect(tools).toContain('mariadb-dump');
      expect(tools).toContain('mariadb');
      expect(tools).not.toContain('mysqldump');
      expect(tools).not.toContain('mysql');
    });
  },
);
