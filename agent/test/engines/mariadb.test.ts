// The engine contract for `mariadb` against a real MariaDB server: mariadb-dump and mariadb.
import { expect, test } from 'vitest';
import { describeEngineContract } from './contract.ts';
import { setupMariadbEngine, toolsOfRoundTrip } from './mariadb-setup.ts';

describeEngineContract(
  'mariadb',
  () => setupMariadbEngine('mariadb'),
  (get) => {
    test("dumps with mariadb-dump and restores with mariadb, MariaDB's own names", async () => {
      const tools = await toolsOfRoundTrip(get());
      expect(tools).toContain('mariadb-dump');
      expect(tools).toContain('mariadb');
      expect(tools).not.toContain('mysqldump');
      expect(tools).not.toContain('mysql');
    });
  },
);
