// The MariaDB half of `npm run bench:pitr` (agent/bench/pitr.bench.ts); alone:
//   node --no-warnings agent/bench/pitr-mariadb.bench.ts [--seconds 20] [--clients 2]
//
// A real MariaDB with a binary log under an INSERT load at full speed (--clients connections, each
// committing one row of ~200 bytes per transaction in a loop), while the agent's binlog streamer
// (mariadb-binlog --raw into its spool, cut every second, zstd, AES-GCM, into a segment store on
// local disk) keeps up. Prints, side by side: binlog the server wrote per second against what the
// agent stored per second, the lag of each written byte until it was stored (p50/p99/max), CPU
// per GB of binlog (the agent's Node process; mariadb-binlog itself), and the replay of the same
// log by the agent (checked segments) against plain `mariadb-binlog files | mariadb`, both over
// TCP as the same account.
// A benchmark, not a test: it prints.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startMariadb } from '../../scripts/stack/mariadb.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import { prepareReplay, replayBinlog } from '../src/binlog/replay.ts';
import { directoryStore } from '../src/binlog/store.ts';
import { BinlogStreamer } from '../src/binlog/streamer.ts';
import { generateSymmetricKey, parseEncryptionKey } from '../src/format/index.ts';
import { createLogger } from '../src/log.ts';

export type BenchRow = { metric: string; value: string; note?: string };

const MB = 1024 ** 2;
const REPLICA_ID = 4_100_000_007;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** user+system CPU seconds of a process, from /proc (0 when it is gone) */
function cpuSecondsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** the streamer's mariadb-binlog (pgrep exits 1 while it has not started yet) */
function receiverProcess(): number {
  try {
    const out = execFileSync('pgrep', ['-f', `stop-never-slave-server-id=${REPLICA_ID}`], {
      encoding: 'utf8',
    });
    return Number(out.split('\n')[0] || 0);
  } catch {
    return 0;
  }
}

export async function benchMariadbBinlog(opts: { seconds: number; clients: number }): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'resistro-bench-binlog-'));
  const server = await startMariadb({
    dir: join(dir, 'server'),
    port: await freePort(),
    fast: true,
    binlog: {},
    ...(process.env.BENCH_SERVER_LOG && { log: (line: string) => void process.stderr.write(line) }),
  });
  try {
    await server.createDatabase('load');
    await server.query(
      `CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY, payload VARCHAR(255)) ENGINE=InnoDB;
       DELIMITER //
       CREATE PROCEDURE fill(IN until_at DATETIME(6))
       BEGIN
         WHILE NOW(6) < until_at DO
           INSERT INTO t (payload) VALUES (CONCAT(MD5(RAND()), MD5(RAND()), MD5(RAND()), MD5(RAND()), MD5(RAND()), MD5(RAND())));
         END WHILE;
       END //
       DELIMITER ;`,
      'load',
    );
    const binlogBytes = async () =>
      (await server.query('SHOW BINARY LOGS')).reduce((n, r) => n + Number(r[1]), 0);
    const [[startFile, startSize]] = (await server.query('SHOW BINARY LOGS')).slice(-1) as [[string, string]];
    const before = await binlogBytes();
    const segments = join(dir, 'segments');
    const key = parseEncryptionKey(generateSymmetricKey());
    const streamer = new BinlogStreamer({
      engine: 'mariadb',
      target: {
        engine: 'mariadb',
        host: '127.0.0.1',
        port: server.port,
        database: '',
        user: server.user,
        password: server.password,
      },
      spoolDir: join(dir, 'spool'),
      key,
      store: directoryStore(segments),
      cutIntervalMs: 1000,
      tickMs: 200,
      startFile,
      replicaServerId: REPLICA_ID,
      log: createLogger({ level: 'error' }),
    });
    await streamer.start();
    // the streamer counts the current file from its first byte
    const stored = () => streamer.status().storedBytes - Number(startSize);
    const cpuBefore = process.cpuUsage();
    const started = Date.now();
    const until = new Date(started + opts.seconds * 1000).toISOString().replace('T', ' ').slice(0, 23);
    const load = Promise.all(
      Array.from({ length: opts.clients }, () =>
        server.query(`SET time_zone = '+00:00'; CALL fill('${until}')`, 'load'),
      ),
    );
    const samples: { at: number; written: number }[] = [];
    const lags: number[] = [];
    let loadDone = false;
    void load.then(() => {
      loadDone = true;
    });
    let receiverPid = 0;
    while (!loadDone || stored() < samples.at(-1)!.written) {
      const at = Date.now();
      samples.push({ at, written: (await binlogBytes()) - before });
      const have = stored();
      while (samples.length > 0 && lags.length < samples.length && samples[lags.length]!.written <= have)
        lags.push(at - samples[lags.length]!.at);
      receiverPid ||= receiverProcess();
      if (at - started > (opts.seconds + 120) * 1000)
        throw new Error('the streamer did not catch up within 2 minutes');
      await new Promise((r) => setTimeout(r, 200));
    }
    const end = Date.now();
    const loadSeconds = opts.seconds;
    const written = samples.at(-1)!.written;
    for (let i = lags.length; i < samples.length; i++) lags.push(end - samples[i]!.at);
    const receiverCpu = cpuSecondsOf(receiverPid);
    const cpu = process.cpuUsage(cpuBefore);
    await streamer.stop();
    const segmentFiles = await directoryStore(segments).list();
    const segmentBytes = segmentFiles.length
      ? Number(execFileSync('du', ['-sb', segments], { encoding: 'utf8' }).split('\t')[0])
      : 0;
    const gb = written / 1024 ** 3;

    // Replay of the same log: the agent (every segment checked, then mariadb-binlog | mariadb) …
    await server.createDatabase('replayed');
    await server.query(
      'CREATE TABLE t (id BIGINT PRIMARY KEY, payload VARCHAR(255)) ENGINE=InnoDB',
      'replayed',
    );
    const from = { file: startFile, pos: Number(startSize) };
    const agentStart = Date.now();
    const plan = await prepareReplay({
      source: directoryStore(segments),
      key,
      from,
      stop: { latest: true },
      log: createLogger({ level: 'error' }),
    });
    const target = {
      engine: 'mariadb' as const,
      host: '127.0.0.1',
      port: server.port,
      database: 'replayed',
      user: server.user,
      password: server.password,
    };
    const checkedMs = Date.now() - agentStart;
    await replayBinlog({
      plan,
      key,
      engine: 'mariadb',
      target,
      sourceDatabase: 'load',
      from,
      stop: { latest: true },
    });
    await plan.cleanup();
    const agentReplayMs = Date.now() - agentStart;
    // … against plain mariadb-binlog over the server's own files piped into the client.
    await server.createDatabase('plain');
    await server.query('CREATE TABLE t (id BIGINT PRIMARY KEY, payload VARCHAR(255)) ENGINE=InnoDB', 'plain');
    const files = (await server.query('SHOW BINARY LOGS'))
      .map((r) => r[0]!)
      .filter((f) => f >= startFile)
      .map((f) => join(server.socket, '..', f));
    const plainStart = Date.now();
    await new Promise<void>((resolve, reject) => {
      const decode = spawn('mariadb-binlog', [
        `--start-position=${startSize}`,
        '--database=load',
        '--rewrite-db=load->plain',
        ...files,
      ]);
      // the same account over the same TCP connection as the agent's client (a Unix socket is ~3x
      // faster for many small transactions, for both)
      const client = spawn(
        'mariadb',
        ['--no-defaults', '--host=127.0.0.1', `--port=${server.port}`, `--user=${server.user}`, 'plain'],
        { env: { ...process.env, MYSQL_PWD: server.password } },
      );
      decode.stdout.pipe(client.stdin);
      client.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`mariadb exited ${code}`))));
    });
    const plainReplayMs = Date.now() - plainStart;
    const [[agentRows]] = (await server.query('SELECT COUNT(*) FROM t', 'replayed')) as [[string]];
    const [[plainRows]] = (await server.query('SELECT COUNT(*) FROM t', 'plain')) as [[string]];
    const [[sourceRows]] = (await server.query('SELECT COUNT(*) FROM t', 'load')) as [[string]];

    const mbps = (bytes: number, seconds: number) => `${(bytes / MB / seconds).toFixed(2)} MB/s`;
    return [
      {
        metric: 'load',
        value: `${opts.clients} clients, ${loadSeconds} s, ${sourceRows} rows (one per transaction)`,
      },
      {
        metric: 'binlog written by the server',
        value: mbps(written, loadSeconds),
        note: `${(written / MB).toFixed(1)} MB`,
      },
      {
        metric: 'binlog stored by the agent',
        value: mbps(stored(), (end - started) / 1000),
        note: `over ${((end - started) / 1000).toFixed(1)} s until caught up; ${segmentFiles.length} segments, ${(segmentBytes / MB).toFixed(1)} MB encrypted (${(written / Math.max(segmentBytes, 1)).toFixed(1)}x smaller)`,
      },
      {
        metric: 'lag written → stored (cut every 1 s)',
        value: `p50 ${(percentile(lags, 50) / 1000).toFixed(2)} s, p99 ${(percentile(lags, 99) / 1000).toFixed(2)} s, max ${(Math.max(...lags) / 1000).toFixed(2)} s`,
        note: `${lags.length} samples of the server position`,
      },
      {
        metric: 'agent CPU per GB of binlog',
        value: `${((cpu.user + cpu.system) / 1e6 / gb).toFixed(0)} s (node: cut, zstd, AES-GCM)`,
        note: `mariadb-binlog --raw receiving: ${(receiverCpu / gb).toFixed(0)} s per GB`,
      },
      {
        metric: 'replay of this log',
        value: `resistro ${(agentReplayMs / 1000).toFixed(1)} s (${agentRows} rows; of it ${(checkedMs / 1000).toFixed(1)} s checking every segment first)`,
        note: `plain mariadb-binlog | mariadb: ${(plainReplayMs / 1000).toFixed(1)} s (${plainRows} rows)`,
      },
    ];
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '20' }, clients: { type: 'string', default: '2' } },
  });
  const rows = await benchMariadbBinlog({ seconds: Number(values.seconds), clients: Number(values.clients) });
  const width = Math.max(...rows.map((r) => r.metric.length));
  process.stdout.write('MariaDB binlog (point-in-time recovery)\n');
  for (const r of rows)
    process.stdout.write(`  ${r.metric.padEnd(width)}  ${r.value}${r.note ? `  (${r.note})` : ''}\n`);
}
