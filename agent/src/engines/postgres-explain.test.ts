// What psql and pg_dump print, as seen on real servers, turned into a summary and a hint.
import { describe, expect, test } from 'vitest';
import { explainPostgres } from './postgres.ts';

const t = { engine: 'postgres' as const, host: '127.0.0.1', port: 3306, database: 'shop', user: 'postgres' };

describe('explainPostgres', () => {
  test('a MySQL/MariaDB port answers with its own protocol: the hint is about the port', () => {
    // psql 15 against MariaDB 10.11 on its port
    const e = explainPostgres(
      t,
      'psql: error: connection to server at "127.0.0.1", port 3306 failed: received invalid response to SSL negotiation: d\n',
    );
    expect(e).toMatchObject({ code: 'connection_failed' });
    expect(e?.summary).toBe("the server at 127.0.0.1:3306 does not speak PostgreSQL's protocol");
    expect(e?.hint).toMatch(/PostgreSQL listens on 5432 by default, MySQL and MariaDB on 3306/);
  });

  test('a wrong password names where restores and backups take it from', () => {
    const e = explainPostgres(
      t,
      'psql: error: connection to server at "127.0.0.1", port 3306 failed: FATAL:  password authentication failed for user "postgres"\n',
    );
    expect(e).toMatchObject({ code: 'auth_failed' });
    expect(e?.hint).toMatch(/for restores: PGPASSWORD, ~\/\.pgpass or the prompt/);
  });

  test('a connection cut mid-dump is not mistaken for a wrong port', () => {
    const e = explainPostgres(
      t,
      'pg_dump: error: Dumping the contents of table "t" failed: PQgetResult() failed.\npg_dump: detail: server closed the connection unexpectedly\n',
    );
    expect(e?.summary ?? '').not.toMatch(/protocol/);
  });
});
