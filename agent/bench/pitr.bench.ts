// `npm run bench:pitr [-- --pg-seconds 60] [--pg-archive-seconds 30] [--seconds 20] [--clients 2]
//   [--only postgres|mariadb] [--long]`: continuous protection under a write load at full speed, each
// engine side by side with what users would otherwise run, printed together at the end.
// PostgreSQL 15 (pitr-postgres.bench.ts): pgbench; WAL written against WAL in storage per second,
// lag, CPU per GB, archive_command latency (resistro wal-push against cp + fsync), restore to a time
// against a plain pg_basebackup copy + WAL replay. MariaDB (pitr-mariadb.bench.ts): binlog written
// against stored per second, lag, CPU per GB, replay against plain `mariadb-binlog | mariadb`.
// --long: 10 minutes of pgbench per PostgreSQL phase and 5 minutes of MariaDB load.
import { parseArgs } from 'node:util';
import { type BenchRow, benchMariadbBinlog } from './pitr-mariadb.bench.ts';
import { benchPostgresWal } from './pitr-postgres.bench.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string' },
    clients: { type: 'string', default: '2' },
    'pg-seconds': { type: 'string' },
    'pg-archive-seconds': { type: 'string' },
    'pg-scale': { type: 'string', default: '10' },
    only: { type: 'string' },
    long: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`npm run bench:pitr [-- options]
  --pg-seconds <n>          pgbench seconds with pg_receivewal (default 60; --long 600)
  --pg-archive-seconds <n>  pgbench seconds with archive_command = resistro wal-push (default 30; --long 600)
  --pg-scale <n>            pgbench scale (default 10)
  --seconds <n>             MariaDB write load seconds (default 20; --long 300)
  --clients <n>             connections writing, both engines (default 2)
  --only postgres|mariadb   one engine
`);
  process.exit(0);
}
const long = values.long;
const clients = Number(values.clients);
const results: [string, BenchRow[]][] = [];
if (values.only !== 'mariadb')
  results.push([
    'PostgreSQL 15 WAL (point-in-time recovery)',
    await benchPostgresWal({
      seconds: Number(values['pg-seconds'] ?? (long ? 600 : 60)),
      archiveSeconds: Number(values['pg-archive-seconds'] ?? (long ? 600 : 30)),
      clients,
      scale: Number(values['pg-scale']),
    }),
  ]);
if (values.only !== 'postgres')
  results.push([
    'MariaDB 10.11 binary log (point-in-time recovery)',
    await benchMariadbBinlog({ seconds: Number(values.seconds ?? (long ? 300 : 20)), clients }),
  ]);

function print(title: string, rows: BenchRow[]): void {
  const width = Math.max(...rows.map((r) => r.metric.length));
  process.stdout.write(`${title}\n`);
  for (const r of rows)
    process.stdout.write(`  ${r.metric.padEnd(width)}  ${r.value}${r.note ? `  (${r.note})` : ''}\n`);
}

for (const [title, rows] of results) print(title, rows);
