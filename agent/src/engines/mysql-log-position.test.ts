import { expect, test } from 'vitest';
import { LogPositionWatcher, logPositionArgs, parseLogPosition } from './mysql-log-position.ts';

const HEAD = `-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB
--
-- CHANGE MASTER TO MASTER_LOG_FILE='binlog.000001', MASTER_LOG_POS=1987;
`;
const TAIL =
  "-- Preferably use GTID to start replication from GTID position:\n\n-- SET GLOBAL gtid_slave_pos='0-1-9';\n";

test('reads the position and the GTID the dump tool wrote', () => {
  expect(parseLogPosition(HEAD, TAIL)).toEqual({ file: 'binlog.000001', pos: 1987, gtid: '0-1-9' });
  expect(parseLogPosition(HEAD, '')).toEqual({ file: 'binlog.000001', pos: 1987 });
  expect(
    parseLogPosition(
      "-- CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='mysql-bin.000007', SOURCE_LOG_POS=157;\n",
      '',
    ),
  ).toEqual({ file: 'mysql-bin.000007', pos: 157 });
  expect(parseLogPosition('-- MariaDB dump\nCREATE TABLE t (x INT);\n', '')).toBeUndefined();
  // a table's data that merely looks like it is not at the start of a line
  expect(
    parseLogPosition(
      "INSERT INTO t VALUES ('-- CHANGE MASTER TO MASTER_LOG_FILE=''x.000001'', MASTER_LOG_POS=9;');",
      '',
    ),
  ).toBeUndefined();
});

test('the watcher passes every byte through and finds the position across chunks', async () => {
  const watcher = new LogPositionWatcher();
  const out: Buffer[] = [];
  watcher.on('data', (b: Buffer) => out.push(b));
  const input = Buffer.from(`${HEAD}${'x'.repeat(100_000)}\n${TAIL}`);
  for (let i = 0; i < input.length; i += 777) watcher.write(input.subarray(i, i + 777));
  watcher.end();
  await new Promise((r) => watcher.once('end', r));
  expect(Buffer.concat(out).equals(input)).toBe(true);
  expect(watcher.position()).toEqual({
    file: 'binlog.000001',
    pos: 1987,
    gtid: '0-1-9',
    seenAt: expect.any(Date),
  });
});

test('asks for the position only where a binary log exists and it costs no privilege', () => {
  const mariadbTool = { version: '10.11.19-MariaDB' };
  const mysqlTool = { version: '8.0.36' };
  const maria = { logBin: true, version: '10.11.19-MariaDB-log', mayLockForPosition: false };
  expect(logPositionArgs(mariadbTool, maria)).toEqual(['--master-data=2']);
  expect(logPositionArgs(mariadbTool, { ...maria, logBin: false })).toEqual([]);
  const mysql = { logBin: true, version: '8.0.36', mayLockForPosition: false };
  expect(logPositionArgs(mysqlTool, mysql)).toEqual([]);
  expect(logPositionArgs(mysqlTool, { ...mysql, mayLockForPosition: true })).toEqual(['--source-data=2']);
  expect(logPositionArgs({ version: '5.7.44' }, { ...mysql, mayLockForPosition: true })).toEqual([
    '--master-data=2',
  ]);
});
