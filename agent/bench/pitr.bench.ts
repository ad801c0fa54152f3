// `npm run bench:pitr [-- --seconds 20] [--clients 2]`: continuous protection under a write load at
// full speed, each engine side by side with what users would otherwise run. MariaDB: binlog the
// server writes against what the agent stores per second, the lag, CPU per GB, and the replay of
// the log against plain `mariadb-binlog | mariadb` (pitr-mariadb.bench.ts). PostgreSQL's WAL part
// (pgbench, pg_receivewal, archive_command latency) joins here as its own module.
import { parseArgs } from 'node:util';
import { type BenchRow, benchMariadbBinlog } from './pitr-mariadb.bench.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    clients: { type: 'string', default: '2' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(
    'npm run bench:pitr [-- --seconds <load seconds, default 20>] [--clients <n, default 2>]\n',
  );
  process.exit(0);
}

function print(title: string, rows: BenchRow[]): void {
  const width = Math.max(...rows.map((r) => r.metric.length));
  process.stdout.write(`${title}\n`);
  for (const r of rows)
    process.stdout.write(`  ${r.metric.padEnd(width)}  ${r.value}${r.note ? `  (${r.note})` : ''}\n`);
}

print(
  'MariaDB 10.11 binary log (point-in-time recovery)',
  await benchMariadbBinlog({ seconds: Number(values.seconds), clients: Number(values.clients) }),
);
