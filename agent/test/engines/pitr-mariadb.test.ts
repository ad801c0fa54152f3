// Point-in-time recovery for MariaDB against a real server with a binary log: the dump records its
// binlog position, the streamer stores the binlog as encrypted segments while a write load runs,
// and `resistro restore --pitr` brings back exactly the transactions committed before a time (or a
// position). A deleted or damaged segment refuses the restore with its name, before the database
// is touched.

import { randomBytes } from 'node:crypto';
import { createWriteStream, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type MariadbServer, startMariadb } from '../../../scripts/stack/mariadb.ts';
import { freePort, waitFor } from '../../../scripts/stack/ports.ts';
import { runPipeline } from '../../src/backup/pipeline.ts';
import { directoryStore } from '../../src/binlog/store.ts';
import { BinlogStreamer } from '../../src/binlog/streamer.ts';
import { getEngine } from '../../src/engines/index.ts';
import type { LogPosition } from '../../src/engines/mysql-log-position.ts';
import { parseEncryptionKey } from '../../src/format/index.ts';
import { createLogger } from '../../src/log.ts';
import { runCli, testDir } from '../helpers.ts';

const KEY_TEXT = `resistro-key-1:${randomBytes(32).toString('base64url')}`;
const key = parseEncryptionKey(KEY_TEXT);

describe('MariaDB point-in-time recovery: dump + binlog replay', () => {
  const work = testDir('pitr-maria');
  let server: MariadbServer;
  let streamer: BinlogStreamer;
  let dumpPath: string;
  let dumpPosition: LogPosition | undefined;
  let masterBeforeDump: { file: string; pos: number };
  const segments = join(work.dir, 'segments');
  const envFile = join(work.dir, 'env');
  let written = 0;
  const streamerLog: { event: string; msg: string; hint?: string }[] = [];
  /** rows committed before T, and before the noted position */
  let rowsBeforeT = 0;
  let rowsBeforePosition = 0;
  let T: Date;
  let position: { file: string; pos: number };

  const target = (database: string) => ({
    engine: 'mariadb' as const,
    host: '127.0.0.1',
    port: server.port,
    database,
    user: server.user,
    password: server.password,
  });
  const masterStatus = async () => {
    const [row] = await server.query('SHOW MASTER STATUS');
    return { file: row![0]!, pos: Number(row![1]) };
  };
  const write = async (n: number) => {
    for (let i = 0; i < n; i++) {
      written++;
      await server.query(`INSERT INTO ledger (n, note) VALUES (${written}, 'row ${written}')`, 'shop');
    }
  };
  const env = () => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: work.dir,
    LANG: 'C.UTF-8',
    RESISTRO_ENV_FILE: envFile,
    RESISTRO_ENCRYPTION_KEY: KEY_TEXT,
    RESISTRO_LOG_FORMAT: 'json',
    MYSQL_PWD: server.password,
  });
  const restore = (database: string, ...how: string[]) =>
    runCli(
      [
        'restore',
        '--pitr',
        '--file',
        dumpPath,
        '--segments',
        segments,
        ...how,
        '--host',
        '127.0.0.1',
        '--port',
        String(server.port),
        '--database',
        database,
        '--user',
        server.user,
      ],
      env(),
    );
  const ledger = async (database: string) =>
    (await server.query('SELECT n FROM ledger ORDER BY n', database)).map((r) => Number(r[0]));
  const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

  beforeAll(async () => {
    writeFileSync(envFile, '# restore-only: the key comes from the environment\n', { mode: 0o600 });
    // a short retention: the streamer must warn that an outage longer than that leaves a gap
    server = await startMariadb({
      dir: join(work.dir, 'server'),
      port: await freePort(),
      fast: true,
      binlog: { expireSeconds: 3600 },
    });
    await server.createDatabase('shop');
    await server.createDatabase('other');
    await server.query(
      'CREATE TABLE ledger (n INT PRIMARY KEY, note VARCHAR(40), at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB',
      'shop',
    );
    await server.query('CREATE TABLE noise (x INT) ENGINE=InnoDB', 'other');
    await write(20);

    // The dump: through the agent's own pipeline (dump → zstd → encryption) into a file.
    masterBeforeDump = await masterStatus();
    dumpPath = join(work.dir, 'shop.resistro');
    const result = await runPipeline({
      engine: getEngine('mariadb'),
      target: target('shop'),
      key,
      level: 3,
      compressor: 'auto',
      sink: createWriteStream(dumpPath),
    });
    dumpPosition = result.logPosition;
    rowsBeforeT = written;

    const streamerOptions = {
      engine: 'mariadb' as const,
      target: target(''),
      spoolDir: join(work.dir, 'spool'),
      key,
      store: directoryStore(segments),
      cutIntervalMs: 300,
      tickMs: 100,
      startFile: dumpPosition?.file,
      replicaServerId: 4_000_000_001,
      log: createLogger({ level: 'warn', json: true, write: (line) => streamerLog.push(JSON.parse(line)) }),
    };
    streamer = new BinlogStreamer(streamerOptions);
    await streamer.start();

    await write(15);
    await server.query('INSERT INTO noise VALUES (1)', 'other');
    // The agent restarts: the new streamer continues from the stored state, no byte lost or doubled.
    await waitFor(async () => streamer.status().storedBytes > 0, 30_000, 'a first segment');
    await streamer.stop();
    await write(5);
    streamer = new BinlogStreamer(streamerOptions);
    await streamer.start();
    await server.query('FLUSH BINARY LOGS');
    await write(15);
    // a cut here: this binlog file gets at least two segments (one of them is deleted below)
    await waitFor(
      async () => (await directoryStore(segments).list()).some((r) => r.stream !== dumpPosition?.file),
      30_000,
      'a segment of the second binlog file',
    );
    await streamer.flush();
    // T: the writer stops, T is the next whole second, and the writer resumes after it: every row
    // so far committed before T, every later row at T or after (binlog times have whole seconds).
    rowsBeforeT = written;
    T = new Date(Math.ceil((Date.now() + 1) / 1000) * 1000);
    await new Promise((r) => setTimeout(r, T.getTime() - Date.now() + 20));
    await write(10);
    rowsBeforePosition = written;
    position = await masterStatus();
    await write(10);
    await server.query('FLUSH BINARY LOGS');
    await write(5);

    // Everything the server wrote is stored: the newest file's segments reach its current end.
    const end = await masterStatus();
    await waitFor(
      async () => {
        await streamer.flush();
        const refs = await directoryStore(segments).list();
        return refs.some((r) => r.stream === end.file && r.end === end.pos);
      },
      30_000,
      'the binlog stored up to the server position',
    );
  }, 120_000);

  afterAll(async () => {
    await streamer?.stop();
    await server?.stop();
    work.remove();
  });

  test('the dump records the binlog position of its snapshot', () => {
    expect(dumpPosition).toEqual({
      ...masterBeforeDump,
      gtid: expect.stringMatching(/^0-1-\d+$/),
      seenAt: expect.any(Date),
    });
  });

  test('the streamer stored the binlog as encrypted segments across rotated files', async () => {
    const refs = await directoryStore(segments).list();
    expect(new Set(refs.map((r) => r.stream)).size).toBeGreaterThanOrEqual(3);
    const first = readFileSync(join(segments, refs[0]!.id));
    expect(first.subarray(1, 9).toString()).toBe('RESISTRO');
    // no plaintext of the log in the segment files
    for (const ref of refs) expect(readFileSync(join(segments, ref.id)).includes('row 1')).toBe(false);
    expect(streamer.status()).toMatchObject({
      connected: true,
      lastError: undefined,
      retentionSeconds: 3600,
    });
  });

  test("warns that the server's binlog retention is shorter than an outage may be", () => {
    const warning = streamerLog.find((e) => e.event === 'binlog.retention');
    expect(warning?.msg).toMatch(/keeps binlogs for only 1.0 h/);
    expect(warning?.hint).toMatch(/binlog_expire_logs_seconds/);
  });

  test('restores to a time: exactly the transactions committed before it', async () => {
    await server.createDatabase('at_time');
    const r = await restore('at_time', '--time', T.toISOString());
    expect(r.code, r.stderr).toBe(0);
    expect(await ledger('at_time')).toEqual(upTo(rowsBeforeT));
    // only the dumped database's changes were replayed
    expect(await server.query("SHOW TABLES FROM at_time LIKE 'noise'")).toEqual([]);
  });

  test('restores to a binlog position, and to the latest stored change', async () => {
    await server.createDatabase('at_position');
    const r = await restore('at_position', '--position', `${position.file}:${position.pos}`);
    expect(r.code, r.stderr).toBe(0);
    expect(await ledger('at_position')).toEqual(upTo(rowsBeforePosition));

    await server.createDatabase('at_latest');
    const latest = await restore('at_latest', '--latest');
    expect(latest.code, latest.stderr).toBe(0);
    expect(await ledger('at_latest')).toEqual(upTo(written));
  });

  test('a damaged or deleted segment refuses the restore with its name, before anything is written', async () => {
    const refs = await directoryStore(segments).list();
    // a segment in the middle of a file after the dump's: the next one of its file is there
    const victim = refs.find((r, i) => r.stream !== dumpPosition?.file && refs[i + 1]?.stream === r.stream)!;
    const path = join(segments, victim.id);
    const original = readFileSync(path);
    const name = `${victim.stream} bytes ${victim.start}–${victim.end}`;

    const damaged = Buffer.from(original);
    damaged[damaged.length - 30]! ^= 0x01;
    writeFileSync(path, damaged);
    await server.createDatabase('damaged');
    const r1 = await restore('damaged', '--latest');
    expect(r1.code).toBe(1);
    const failed1 = r1.events.find((e) => e.event === 'command.failed');
    expect(failed1?.msg).toContain(name);
    expect(failed1?.msg).toMatch(/damaged/);

    rmSync(path);
    const r2 = await restore('damaged', '--latest');
    expect(r2.code).toBe(1);
    const failed2 = r2.events.find((e) => e.event === 'command.failed');
    expect(failed2?.msg).toMatch(
      new RegExp(`log segment ${victim.stream} bytes ${victim.start}–\\d+ is missing`),
    );
    expect(await server.query('SHOW TABLES FROM damaged')).toEqual([]);

    writeFileSync(path, original);
    expect(readdirSync(segments)).toContain(victim.id);
  });
});

describe('MariaDB point-in-time recovery: the server purges a binlog the agent has not stored', () => {
  const work = testDir('pitr-maria-purge');
  let server: MariadbServer;
  let streamer: BinlogStreamer | undefined;
  const events: { event: string; msg: string; hint?: string }[] = [];

  afterAll(async () => {
    await streamer?.stop();
    await server?.stop();
    work.remove();
  });

  test('the streamer reports the gap and goes on; a restore across it refuses naming the file', async () => {
    const envFile = join(work.dir, 'env');
    writeFileSync(envFile, '', { mode: 0o600 });
    server = await startMariadb({
      dir: join(work.dir, 'server'),
      port: await freePort(),
      fast: true,
      binlog: {},
    });
    await server.createDatabase('shop');
    await server.query('CREATE TABLE ledger (n INT PRIMARY KEY) ENGINE=InnoDB', 'shop');
    await server.query('INSERT INTO ledger VALUES (1), (2)', 'shop');
    const target = {
      engine: 'mariadb' as const,
      host: '127.0.0.1',
      port: server.port,
      database: 'shop',
      user: server.user,
      password: server.password,
    };
    const dumpPath = join(work.dir, 'shop.resistro');
    const { logPosition } = await runPipeline({
      engine: getEngine('mariadb'),
      target,
      key,
      level: 3,
      compressor: 'auto',
      sink: createWriteStream(dumpPath),
    });
    const segments = join(work.dir, 'segments');
    const options = {
      engine: 'mariadb' as const,
      target: { ...target, database: '' },
      spoolDir: join(work.dir, 'spool'),
      key,
      store: directoryStore(segments),
      cutIntervalMs: 200,
      tickMs: 100,
      startFile: logPosition!.file,
      replicaServerId: 4_000_000_002,
      log: createLogger({ level: 'warn', json: true, write: (line) => events.push(JSON.parse(line)) }),
    };
    streamer = new BinlogStreamer(options);
    await streamer.start();
    await server.query('INSERT INTO ledger VALUES (3)', 'shop');
    await waitFor(async () => streamer!.status().storedBytes > 0, 30_000, 'a first segment');
    await streamer.stop();

    // While the agent is away the server rotates twice and purges what the agent did not get.
    await server.query('INSERT INTO ledger VALUES (4)', 'shop');
    await server.query('FLUSH BINARY LOGS; FLUSH BINARY LOGS;');
    const [[current]] = (await server.query('SHOW MASTER STATUS')) as [[string]];
    // (the server keeps a file a replica connection still reads: retried until that one is gone)
    await waitFor(
      async () => {
        await server.query(`PURGE BINARY LOGS TO '${current}'`);
        return (await server.query('SHOW BINARY LOGS'))[0]?.[0] === current;
      },
      30_000,
      'the purge',
    );
    await server.query('INSERT INTO ledger VALUES (5)', 'shop');

    streamer = new BinlogStreamer(options);
    await streamer.start();
    const [[file, pos]] = (await server.query('SHOW MASTER STATUS')) as [[string, string]];
    await waitFor(
      async () => {
        await streamer!.flush();
        return (await directoryStore(segments).list()).some(
          (r) => r.stream === file && r.end === Number(pos),
        );
      },
      30_000,
      'the stream to continue after the gap',
    );
    const gap = events.find((e) => e.event === 'binlog.gap');
    expect(gap?.msg).toMatch(
      new RegExp(`purged binlog ${logPosition!.file} before it was stored; continuing from ${current}`),
    );
    expect(gap?.hint).toMatch(/take a new backup now/);
    // the purged file's remains left the spool
    expect(readdirSync(join(work.dir, 'spool')).filter((n) => n.startsWith('binlog.'))).toEqual([current]);

    await server.createDatabase('across');
    const r = await runCli(
      [
        'restore',
        '--pitr',
        '--file',
        dumpPath,
        '--segments',
        segments,
        '--latest',
        '--host',
        '127.0.0.1',
        '--port',
        String(server.port),
        '--database',
        'across',
        '--user',
        server.user,
      ],
      {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: work.dir,
        RESISTRO_ENV_FILE: envFile,
        RESISTRO_ENCRYPTION_KEY: KEY_TEXT,
        RESISTRO_LOG_FORMAT: 'json',
        MYSQL_PWD: server.password,
      },
    );
    expect(r.code).toBe(1);
    expect(r.events.find((e) => e.event === 'command.failed')?.msg).toMatch(
      new RegExp(`log segment ${logPosition!.file} from byte \\d+ to its end is missing`),
    );
    expect(await server.query('SHOW TABLES FROM across')).toEqual([]);
  });
});
