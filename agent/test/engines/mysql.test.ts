// The engine contract for `mysql`. Debian 12 has no MySQL 8 server, so this runs against MariaDB
// (the same server as mariadb.test.ts); what differs is the tool choice: mysqldump and mysql.
// Oracle's mysqldump (--set-gtid-purged, --column-statistics) is therefore untested here.
import { expect, test } from 'vitest';
import { describeEngineContract } from './contract.ts';
import { setupMariadbEngine, toolsOfRoundTrip } from './mariadb-setup.ts';

describeEngineContract(
  'mysql',
  () => setupMariadbEngine('mysql'),
  (get) => {
    test('dumps with mysqldump and restores with mysql, the names MySQL installs', async () => {
      const tools = await toolsOfRoundTrip(get());
      expect(tools).toContain('mysqldump');
      expect(tools).toContain('mysql');
      expect(tools).not.toContain('mariadb-dump');
      expect(tools).not.toContain('mariadb');
    });
  },
);
