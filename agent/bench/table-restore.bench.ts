// `npm run bench:table [-- --size 0.5] [--engines mariadb,postgres]`
//
// Issue 14: "one table restores alone from a large backup with flat memory". For each engine, a
// database whose plain dump is about --size GB (four large tables) plus one small table `tiny`
// (100 rows), and the same with a fifth of the rows; a Resistro backup of each written by the
// agent's own backup pipeline (what `resistro backup` uploads, here into a file); then, each into
// a new empty database:
//
//   resistro restore --file … --table tiny     one table alone
//   resistro restore --file …                  everything
//
// next to what users otherwise do: for MariaDB, cutting the table out of a plain dump with sed and
// piping it into `mariadb`; for PostgreSQL, `pg_restore -t tiny` of a `pg_dump -Fc` file. Printed:
// wall time and peak RSS (GNU time's %M: the largest process of the command — resistro itself;
// its `mariadb`/`psql` and `zstd -d` children are smaller). A benchmark, not a test: it prints.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { type MariadbServer, startMariadb } from '../../scripts/stack/mariadb.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import { type PostgresServer, startPostgres } from '../../scripts/stack/postgres.ts';
import { runParallelPipeline } from '../src/backup/parallel.ts';
import { runPipeline } from '../src/backup/pipeline.ts';
import { type DatabaseTarget, getEngine } from '../src/engines/index.ts';
import { generateSymmetricKey, parseEncryptionKey } from '../src/format/index.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'agent/dist/resistro.mjs');

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '0.5' },
    engines: { type: 'string', default: 'mariadb,postgres' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  process.stdout.write(`npm run bench:table [-- --size <GB>] [--engines mariadb,postgres]

Peak memory and time of restoring one small table from a large backup against restoring all of it.
`);
  process.exit(0);
}
const sizeGB = Number(args.size);
if (!(sizeGB > 0)) throw new Error('--size must be a positive number of GB');
const engines = args.engines!.split(',').filter(Boolean);
const dataDir = join(ROOT, '.data', 'bench-table');
rmSync(dataDir, { recursive: true, force: true });
mkdirSync(dataDir, { recursive: true });
const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

const built = await run(process.execPath, ['--no-warnings', join(ROOT, 'agent/build.ts')]);
if (built.status !== 0) throw new Error(`agent build failed: ${built.stderr}`);
const keyText = generateSymmetricKey();
const key = parseEncryptionKey(keyText);

function run(
  cmd: string,
  argv: string[],
  env: Record<string, string | undefined> = process.env,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString()).slice(-100_000);
    });
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

type Measure = { wall: number; rssMb: number };
/** `script` under bash, timed by GNU time: wall seconds and the largest process's peak RSS. */
async function timed(script: string, env: Record<string, string> = {}): Promise<Measure> {
  const out = join(dataDir, 'time.txt');
  const r = await run('/usr/bin/time', ['-f', '%e %M', '-o', out, 'bash', '-o', 'pipefail', '-c', script], {
    ...process.env,
    ...env,
  });
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${script}\n${r.stderr.slice(-3000)}`);
  const [wall, rss] = readFileSync(out, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall: wall!, rssMb: rss! / 1024 };
}

// Rows of about 420 bytes of dump each: text with quotes, semicolons and parentheses.
const ROW_BYTES = 420;
const rowsPerTable = Math.ceil((sizeGB * 1e9) / 4 / ROW_BYTES);
const agentEnv = (password: string, variable: string) => ({
  RESISTRO_ENV_FILE: '/dev/null',
  RESISTRO_ENCRYPTION_KEY: keyText,
  RESISTRO_LOG_LEVEL: 'warn',
  HOME: dataDir,
  [variable]: password,
});
const lines: string[] = [];

async function benchMariadb(): Promise<void> {
  const server = await startMariadb({ dir: join(dataDir, 'maria'), port: await freePort(), fast: true });
  try {
    const small = await mariadbAt(server, Math.ceil(rowsPerTable / 5), false);
    const large = await mariadbAt(server, rowsPerTable, true);
    report('MariaDB', small, large);
  } finally {
    await server.stop();
  }
}

async function mariadbAt(server: MariadbServer, rowsPerTable: number, peers: boolean): Promise<Sized> {
  {
    await server.query('DROP DATABASE IF EXISTS bench; CREATE DATABASE bench;', 'mysql');
    log(`MariaDB: generating 4 tables of ${rowsPerTable} rows and tiny (100 rows)`);
    for (let i = 1; i <= 4; i++)
      await server.query(
        `CREATE TABLE big_${i} (id INT PRIMARY KEY, a CHAR(32), b TEXT, c DOUBLE) CHARACTER SET utf8mb4;
         INSERT INTO big_${i} SELECT seq, MD5(seq), REPEAT(CONCAT(MD5(seq * ${i}), ' Straße; (x) '), 8), seq / 7 FROM seq_1_to_${rowsPerTable};`,
        'bench',
      );
    await server.query(
      "CREATE TABLE tiny (id INT PRIMARY KEY, t VARCHAR(100)); INSERT INTO tiny SELECT seq, CONCAT('row ', seq) FROM seq_1_to_100;",
      'bench',
    );
    const target: DatabaseTarget = {
      engine: 'mariadb',
      host: '127.0.0.1',
      port: server.port,
      database: 'bench',
      user: server.user,
      password: server.password,
    };
    const file = join(dataDir, 'maria.resistro');
    const sink = createWriteStream(file);
    await runPipeline({
      engine: getEngine('mariadb'),
      target,
      key,
      level: 3,
      compressor: 'auto',
      sink,
      tableStats: true,
    });
    await finished(sink);
    const plain = join(dataDir, 'maria.sql');
    const conn = `--host=127.0.0.1 --port=${server.port} --user=${server.user}`;
    const pw = { MYSQL_PWD: server.password };
    await timed(`mariadb-dump ${conn} --single-transaction bench > ${plain}`, pw);
    log(
      `MariaDB: plain dump ${(statSync(plain).size / 1e6).toFixed(0)} MB, backup ${(statSync(file).size / 1e6).toFixed(0)} MB`,
    );
    const env = agentEnv(server.password, 'MYSQL_PWD');
    const cli = `${process.execPath} --no-warnings ${CLI} restore --file ${file} --host 127.0.0.1 --port ${server.port} --user ${server.user}`;
    const fresh = async (name: string) => {
      await server.query(`DROP DATABASE IF EXISTS ${name}; CREATE DATABASE ${name};`, 'bench');
      return name;
    };
    const count = async (db: string, table: string) =>
      (await server.query(`SELECT COUNT(*) FROM ${table}`, db))[0]?.[0];
    const one = await timed(`${cli} --table tiny --database ${await fresh('one_r')}`, env);
    if ((await count('one_r', 'tiny')) !== '100') throw new Error('the table did not restore');
    const all = await timed(`${cli} --database ${await fresh('all_r')}`, env);
    if ((await count('all_r', 'big_4')) !== String(rowsPerTable))
      throw new Error('the restore is incomplete');
    const sized: Sized = { dumpBytes: statSync(plain).size, backupBytes: statSync(file).size, one, all };
    if (!peers) return sized;
    const peerOne = await timed(
      `sed -n '/^-- Table structure for table \`tiny\`/,/^UNLOCK TABLES;/p' ${plain} | mariadb ${conn} ${await fresh('one_p')}`,
      pw,
    );
    if ((await count('one_p', 'tiny')) !== '100') throw new Error('sed did not find the table');
    const peerAll = await timed(`mariadb ${conn} ${await fresh('all_p')} < ${plain}`, pw);
    return {
      ...sized,
      peers: [
        ['`sed` cutting `tiny` out of the plain dump `| mariadb`', peerOne],
        ['`mariadb < dump.sql` (everything)', peerAll],
      ],
    };
  }
}

async function benchPostgres(): Promise<void> {
  const port = await freePort();
  const server = await startPostgres({ dir: join(dataDir, 'pg'), port, fast: true });
  const sql = async (database: string, text: string) => {
    const c = new pg.Client({ connectionString: server.url(database) });
    await c.connect();
    try {
      return await c.query(text);
    } finally {
      await c.end();
    }
  };
  try {
    const small = await postgresAt(server, sql, Math.ceil(rowsPerTable / 5), false);
    const large = await postgresAt(server, sql, rowsPerTable, true);
    report('PostgreSQL', small, large);
  } finally {
    await server.stop();
  }
}

async function postgresAt(
  server: PostgresServer,
  sql: (database: string, text: string) => Promise<pg.QueryResult>,
  rowsPerTable: number,
  peers: boolean,
): Promise<Sized> {
  const port = server.port;
  {
    await sql('postgres', 'drop database if exists bench');
    await sql('postgres', 'create database bench');
    log(`PostgreSQL: generating 4 tables of ${rowsPerTable} rows and tiny (100 rows)`);
    for (let i = 1; i <= 4; i++)
      await sql(
        'bench',
        `create table big_${i} (id int primary key, a char(32), b text, c double precision);
         insert into big_${i} select g, md5(g::text), repeat(md5((g * ${i})::text) || ' Straße; (x) ', 8), g / 7.0 from generate_series(1, ${rowsPerTable}) g;`,
      );
    await sql(
      'bench',
      "create table tiny (id int primary key, t text); insert into tiny select g, 'row ' || g from generate_series(1, 100) g;",
    );
    const target: DatabaseTarget = {
      engine: 'postgres',
      host: '127.0.0.1',
      port,
      database: 'bench',
      user: 'postgres',
    };
    const file = join(dataDir, 'pg.resistro');
    const sink = createWriteStream(file);
    const plan = await getEngine('postgres').parallelDump!(target);
    await runParallelPipeline({
      plan,
      target,
      key,
      level: 3,
      compressor: 'auto',
      jobs: 2,
      sink,
      tableStats: true,
    });
    await finished(sink);
    const pgArgs = `-h 127.0.0.1 -p ${port} -U postgres`;
    const custom = join(dataDir, 'pg.dump');
    await timed(`${join(server.binDir, 'pg_dump')} ${pgArgs} -Fc -f ${custom} bench`);
    const plainBytes = Number(
      (await run('bash', ['-c', `${join(server.binDir, 'pg_dump')} ${pgArgs} bench | wc -c`])).stdout.trim(),
    );
    log(
      `PostgreSQL: plain dump about ${(plainBytes / 1e6).toFixed(0)} MB, backup ${(statSync(file).size / 1e6).toFixed(0)} MB`,
    );
    const env = agentEnv('unused (trust)', 'PGPASSWORD');
    const cli = `${process.execPath} --no-warnings ${CLI} restore --file ${file} --host 127.0.0.1 --port ${port} --user postgres`;
    const fresh = async (name: string) => {
      await sql('postgres', `drop database if exists ${name}`);
      await sql('postgres', `create database ${name}`);
      return name;
    };
    const count = async (db: string, table: string) =>
      (await sql(db, `select count(*)::text as n from ${table}`)).rows[0]?.n;
    const one = await timed(`${cli} --table public.tiny --database ${await fresh('one_r')}`, env);
    if ((await count('one_r', 'tiny')) !== '100') throw new Error('the table did not restore');
    const all = await timed(`${cli} --database ${await fresh('all_r')}`, env);
    if ((await count('all_r', 'big_4')) !== String(rowsPerTable))
      throw new Error('the restore is incomplete');
    const sized: Sized = { dumpBytes: plainBytes, backupBytes: statSync(file).size, one, all };
    if (!peers) return sized;
    const peerOne = await timed(
      `${join(server.binDir, 'pg_restore')} ${pgArgs} -d ${await fresh('one_p')} -t tiny ${custom}`,
    );
    const peerAll = await timed(
      `${join(server.binDir, 'pg_restore')} ${pgArgs} -d ${await fresh('all_p')} ${custom}`,
    );
    return {
      ...sized,
      peers: [
        ['`pg_restore -t tiny` of a `pg_dump -Fc` file', peerOne],
        ['`pg_restore` of the `-Fc` file (everything)', peerAll],
      ],
    };
  }
}

/** one backup size: the plain dump and the backup file, and the two resistro restores of it */
type Sized = {
  dumpBytes: number;
  backupBytes: number;
  one: Measure;
  all: Measure;
  peers?: [string, Measure][];
};

function report(engine: string, small: Sized, large: Sized): void {
  const mb = (b: number) => (b / 1e6).toFixed(0);
  const row = (name: string, m: Measure) => `| ${name} | ${m.wall.toFixed(2)} | ${m.rssMb.toFixed(0)} |`;
  const tableName = engine === 'PostgreSQL' ? 'public.tiny' : 'tiny';
  lines.push(
    '',
    `${engine}: backups of four large tables and \`tiny\` (100 rows), each restore into a new empty database:`,
    '',
    '| restore | wall s | peak RSS MB (largest process) |',
    '|---|---|---|',
    ...[small, large].flatMap((s) => [
      row(
        `**\`resistro restore --table ${tableName}\`**, backup of ${mb(s.dumpBytes)} MB of dump (${mb(s.backupBytes)} MB file)`,
        s.one,
      ),
      row(`\`resistro restore\` (everything), backup of ${mb(s.dumpBytes)} MB of dump`, s.all),
    ]),
    ...(large.peers ?? []).map(([name, m]) => row(`${name}, ${mb(large.dumpBytes)} MB of dump`, m)),
    '',
    `One table alone: peak RSS ${small.one.rssMb.toFixed(0)} MB from the ${mb(small.dumpBytes)} MB backup, ${large.one.rssMb.toFixed(0)} MB from the ${mb(large.dumpBytes)} MB one (${(large.dumpBytes / small.dumpBytes).toFixed(1)}× the data, ${(large.one.rssMb / small.one.rssMb).toFixed(2)}× the memory: the dump never sits in memory); everything from the large one ${large.all.rssMb.toFixed(0)} MB.`,
  );
}

if (engines.includes('mariadb')) await benchMariadb();
if (engines.includes('postgres')) await benchPostgres();
process.stdout.write(`Single-table restore from a large backup, --size ${sizeGB} GB${lines.join('\n')}\n`);
rmSync(dataDir, { recursive: true, force: true });
