// A real MariaDB server for the `mariadb` and `mysql` engine tests (scripts/stack/mariadb.ts).
// Seeding runs as root through the socket, so routines, views, triggers and the event carry
// DEFINER=`root`@`localhost`; the engine connects over TCP as `resistro` (all privileges incl.
// SET USER) with a password, which lets it recreate those definers on restore.
import { join } from 'node:path';
import { sqlString, startMariadb } from '../../../scripts/stack/mariadb.ts';
import { freePort } from '../../../scripts/stack/ports.ts';
import { getEngine } from '../../src/engines/index.ts';
import { type EngineUnderTest, sqlStream } from './contract.ts';
import {
  ALL_BYTES,
  AWKWARD_TEXT,
  BIG_TEXT,
  dumpToString,
  EMOJI_TEXT,
  makeTestDataDir,
  recordingSpawn,
  TEST_PASSWORD,
} from './helpers.ts';

const JSON_TEXT = '{"emoji": "😀", "quote": "\\"", "nested": {"a": [1, 2.5, null, true]}, "rtl": "שלום"}';

/** MySQL-compatible core plus MariaDB's UUID, INET6 and SEQUENCE (the server here is MariaDB). */
function seedSql(): string {
  return `
CREATE TABLE kitchen_sink (
  id INT AUTO_INCREMENT PRIMARY KEY,
  i1 TINYINT, i2 SMALLINT, i3 MEDIUMINT, i4 INT, i8 BIGINT, u8 BIGINT UNSIGNED,
  num DECIMAL(40,10), f4 FLOAT, f8 DOUBLE, flag BOOLEAN, bits BIT(10),
  t TEXT, vc VARCHAR(100), ch CHAR(5), tnul TEXT,
  d DATE, tm TIME(6), dt DATETIME(6), ts TIMESTAMP(6) NULL DEFAULT NULL, y YEAR,
  j JSON, m ENUM('sad', 'ok', 'happy 😀'), s SET('a', 'b', 'c'),
  bytes BLOB, bin BINARY(4), vb VARBINARY(300), u UUID, ip INET6,
  updated_at DATETIME NULL,
  KEY vc_idx (vc)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='Küche: every column type ''quoted''';

INSERT INTO kitchen_sink
  (i1, i2, i3, i4, i8, u8, num, f4, f8, flag, bits, t, vc, ch, tnul, d, tm, dt, ts, y, j, m, s, bytes, bin, vb, u, ip)
VALUES
  (127, 32767, 8388607, -2147483648, 9223372036854775807, 18446744073709551615,
   -12345678901234567890.0123456789, 1.5, 2.2250738585072014e-308, TRUE, b'1010101010',
   ${sqlString(AWKWARD_TEXT)}, ${sqlString(EMOJI_TEXT)}, 'abc', 'nul\\0byte',
   '2024-02-29', '838:59:59.999999', '1999-12-31 23:59:59.123456', '2038-01-19 03:14:07.5', 2155,
   ${sqlString(JSON_TEXT)}, 'happy 😀', 'a,c', X'${ALL_BYTES.toString('hex')}', X'00FF10AB',
   X'${ALL_BYTES.toString('hex')}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2001:db8::1');
INSERT INTO kitchen_sink () VALUES ();
INSERT INTO kitchen_sink (i8, u8, num, f8, flag, t, d) VALUES
  (-9223372036854775808, 0, 0, -0.1, FALSE, '', '1000-01-01');
ALTER TABLE kitchen_sink AUTO_INCREMENT = 5000;

CREATE TABLE big (id INT PRIMARY KEY, payload LONGTEXT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO big VALUES (1, '${BIG_TEXT}');

CREATE TABLE child (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  sink_id INT,
  note VARCHAR(50),
  FOREIGN KEY (sink_id) REFERENCES kitchen_sink (id) ON DELETE CASCADE
) ENGINE=InnoDB AUTO_INCREMENT=77 DEFAULT CHARSET=utf8mb4;
INSERT INTO child (sink_id, note) VALUES (1, 'first'), (1, 'second');

CREATE SEQUENCE invoice_no START WITH 1000 INCREMENT BY 7;
SELECT SETVAL(invoice_no, 4242);

CREATE VIEW happy_rows AS SELECT id, t FROM kitchen_sink WHERE m = 'happy 😀';

DELIMITER //
CREATE FUNCTION add_tax(amount DECIMAL(20,2)) RETURNS DECIMAL(20,2) DETERMINISTIC RETURN amount * 1.19 //
CREATE PROCEDURE bump_invoice(IN n INT)
BEGIN
  -- 'quoted' "text" 😀 and a backslash \\\\ in a comment
  SELECT NEXTVAL(invoice_no) + n;
END //
CREATE TRIGGER kitchen_sink_touch BEFORE UPDATE ON kitchen_sink
  FOR EACH ROW SET NEW.updated_at = NOW() //
-- The server runs with event_scheduler=OFF: the event is data to back up, not something that fires.
CREATE EVENT nightly_cleanup ON SCHEDULE EVERY 1 DAY STARTS '2031-01-01 03:00:00'
  ON COMPLETION PRESERVE ENABLE COMMENT 'Nächtlich 😀'
  DO DELETE FROM child WHERE note IS NULL //
DELIMITER ;
`;
}

export async function setupMariadbEngine(name: 'mysql' | 'mariadb'): Promise<EngineUnderTest> {
  const data = makeTestDataDir(`engines-${name}`);
  const port = await freePort();
  const server = await startMariadb({
    dir: join(data.dir, 'server'),
    port,
    fast: true,
    password: TEST_PASSWORD,
  });
  const { spawn, records } = recordingSpawn();
  const one = async (sql: string, database: string) => (await server.query(sql, database))[0]?.[0] ?? null;
  const fromHex = (hex: string | null) => Buffer.from(hex ?? '', 'hex').toString('utf8');

  return {
    engine: getEngine(name, { spawn }),
    spawned: records,
    password: server.password,
    target: (database) => ({
      engine: name,
      host: '127.0.0.1',
      port,
      database,
      user: server.user,
      password: server.password,
    }),
    createDatabase: (database) => server.createDatabase(database),
    seedAwkward: async (database) => {
      await server.query(seedSql(), database);
    },
    seedLarge: async (database) => {
      await server.query(
        `CREATE TABLE filler (id INT PRIMARY KEY, payload VARCHAR(1000)) ENGINE=InnoDB;
         INSERT INTO filler SELECT seq, REPEAT(MD5(seq), 30) FROM seq_1_to_30000;`,
        database,
      );
    },
    seedLeftover: async (database) => {
      await server.query(
        'CREATE TABLE kitchen_sink (other INT); CREATE TABLE leftover (x INT); INSERT INTO leftover VALUES (1);',
        database,
      );
    },
    hasLeftover: async (database) =>
      (await one(
        `SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'leftover'`,
        database,
      )) === '1',
    seedRoutineOnly: async (database) => {
      await server.query('CREATE FUNCTION only_fn() RETURNS INT DETERMINISTIC RETURN 1;', database);
    },
    readValues: async (database) => ({
      awkward: fromHex(await one('SELECT HEX(t) FROM kitchen_sink WHERE id = 1', database)),
      emoji: fromHex(await one('SELECT HEX(vc) FROM kitchen_sink WHERE id = 1', database)),
      bigLength: Number(await one('SELECT LENGTH(payload) FROM big WHERE id = 1', database)),
      bigSha256: (await one('SELECT SHA2(payload, 256) FROM big WHERE id = 1', database)) ?? '',
      bytesHex: (
        (await one('SELECT HEX(bytes) FROM kitchen_sink WHERE id = 1', database)) ?? ''
      ).toLowerCase(),
    }),
    normaliseDump: (sql, database) =>
      sql
        .replace(/^-- Dump completed on .*$/m, '-- Dump completed on <date>')
        .replaceAll(database, '<database>'),
    largeTableMarker: 'INSERT INTO `filler`',
    bigRowMarker: 'INSERT INTO `big`',
    atomicRestore: false,
    expectedTools: name === 'mariadb' ? ['mariadb-dump', 'mariadb'] : ['mysqldump', 'mysql'],
    async stop() {
      await server.stop();
      data.remove();
    },
  };
}

/** Dumps a database with a routine and restores it into another: the names of the tools it ran. */
export async function toolsOfRoundTrip(e: EngineUnderTest): Promise<string[]> {
  await e.createDatabase('rt_names_from');
  await e.seedRoutineOnly('rt_names_from');
  await e.createDatabase('rt_names_to');
  await e.engine.restore(
    e.target('rt_names_to'),
    sqlStream(await dumpToString(e.engine, e.target('rt_names_from'))),
  );
  return e.spawned.filter((r) => r.args[0] !== '--version').map((r) => r.command.split('/').at(-1)!);
}
