// The engine contract for `mysql`. Debian 12 has no MySQL 8 server, so this runs against MariaDB
// (the same server as mariadb.test.ts); what differs is the tool choice: mysqldump and mysql.
// Oracle's mysqldump (--set-gtid-purged, --column-statistics) is therefore untested here.
import { expect, test } from 'vitest';
import { describeEngineContract, sqlStream } from './contract.ts';
import { dumpToString } from './helpers.ts';
import { setupMariadbEngine } from './mariadb-setup.ts';

describeEngineContract(
  'mysql',
  () => setupMariadbEngine('mysql'),
  (get) => {
    test('dumps with mysqldump and restores with mysql, the names MySQL installs', async () => {
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
      expect(tools).toContain('mysqldump');
      expect(tools).toContain('mysql');
      expect(tools).not.toContain('mariadb-dump');
      expect(tools).not.toContain('mariadb');
    });
  },
);
