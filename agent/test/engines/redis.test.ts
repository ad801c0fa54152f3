// Redis against real redis-server instances: the source contract, then a few hundred thousand keys
// of every type with TTLs restored into a new server, which must hold the same keys, values and
// expiry times — loaded from the AOF and, separately, from the RDB snapshot alone.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type DatabaseTarget, getEngine } from '../../src/engines/index.ts';
import { makeTestDataDir, recordingSpawn, TEST_PASSWORD } from './helpers.ts';
import { loadKeys, type RedisServer, seedCommands, startRedis } from './redis-setup.ts';
import { byteStream, dumpToBuffer, runSourceContract } from './source-contract.ts';

const data = makeTestDataDir('redis');
let n = 0;
const scratch = () => join(data.dir, `s${n++}`);
const servers: RedisServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
  data.remove();
});

const target = (port: number, password = TEST_PASSWORD): DatabaseTarget => ({
  engine: 'redis',
  host: '127.0.0.1',
  port,
  database: '',
  user: 'default',
  password,
  source: { kind: 'redis', tls: false },
});

/** Everything Redis holds, compared as Redis itself digests it (values and expiry times). */
function fingerprint(s: RedisServer) {
  return {
    keys: Number(s.cli('DBSIZE').trim()),
    keyspace: /db0:(.*)/.exec(s.cli('INFO', 'keyspace'))?.[1]?.replace(/,avg_ttl=\d+/, ''),
    digest: s.cli('DEBUG', 'DIGEST').trim(),
  };
}

async function serverOn(dir: string, aof: boolean): Promise<RedisServer> {
  const s = await startRedis({
    dir,
    extra: aof ? ['--appendonly', 'yes'] : ['--appendonly', 'no', '--dbfilename', 'dump.rdb'],
  });
  servers.push(s);
  return s;
}

runSourceContract(
  'Redis',
  async () => {
    const source = await startRedis({
      dir: scratch(),
      password: TEST_PASSWORD,
      extra: ['--appendonly', 'yes'],
    });
    servers.push(source);
    loadKeys(source, TEST_PASSWORD, seedCommands(20_000));
    const { spawn, records } = recordingSpawn();
    return {
      engine: getEngine('redis', { spawn }),
      spawned: records,
      target: target(source.port),
      missing: { ...target(1), port: 1 },
      missingCodes: ['connection_failed'],
      restoreOptions: (dir) => ({ target: target(source.port), options: { targetDir: dir } }),
      fingerprintSource: async () => fingerprint(source),
      fingerprintRestored: async (dir) => {
        const restored = await serverOn(dir, true);
        const f = fingerprint(restored);
        await restored.stop();
        return f;
      },
      expectedTools: ['redis-cli'],
      secret: TEST_PASSWORD,
      stop: async () => {},
    };
  },
  scratch,
);

describe('Redis', () => {
  let source: RedisServer;
  beforeAll(async () => {
    source = await startRedis({ dir: scratch(), password: TEST_PASSWORD, extra: ['--appendonly', 'yes'] });
    servers.push(source);
    loadKeys(source, TEST_PASSWORD, seedCommands(300_000));
  });

  test('300,000 keys come back with the same values and TTLs, from the AOF and from the RDB alone', async () => {
    const engine = getEngine('redis');
    const { bytes, notes } = await dumpToBuffer(engine, target(source.port));
    expect(notes).toEqual([]);
    const expected = fingerprint(source);
    expect(expected.keys).toBe(300_002);
    expect(expected.keyspace).toMatch(/^keys=300002,expires=100000/);

    const dir = scratch();
    const report = await engine.restore(target(source.port), byteStream(bytes), { targetDir: dir });
    expect(readdirSync(dir).sort()).toEqual(['appendonlydir', 'dump.rdb', 'resistro-redis.json']);
    const text = (report as { notes: string[] }).notes.join('\n');
    expect(text).toContain('systemctl stop redis-server');
    expect(text).toContain('appendonlydir/ too');

    const fromAof = await serverOn(dir, true);
    expect(fingerprint(fromAof)).toEqual(expected);
    // spot checks a reader can follow: a binary value, a hash, an absolute expiry time
    expect(fromAof.cli('--no-raw', 'GET', 'bytes')).toBe(source.cli('--no-raw', 'GET', 'bytes'));
    expect(fromAof.cli('HGETALL', 'k:1')).toBe('a\n1\nb\nb1\n');
    expect(fromAof.cli('PEXPIRETIME', 'k:3').trim()).toBe(source.cli('PEXPIRETIME', 'k:3').trim());
    expect(Number(fromAof.cli('PEXPIRETIME', 'k:3'))).toBeGreaterThan(Date.now());
    await fromAof.stop();

    const fromRdb = await serverOn(dir, false);
    expect(fingerprint(fromRdb)).toEqual(expected);
    await fromRdb.stop();
  });

  test('a wrong password fails as an authentication problem and says what to do', async () => {
    const err = await getEngine('redis')
      .dump(target(source.port, 'wrong'))
      .catch((e) => e);
    expect(err.code).toBe('auth_failed');
    expect(err.hint).toMatch(/password/);
    const check = await getEngine('redis').checkConnection(target(source.port, 'wrong'));
    expect(check.items).toMatchObject([
      { step: 'connection', ok: true },
      { step: 'authentication', ok: false, code: 'auth_failed' },
    ]);
  });
});
