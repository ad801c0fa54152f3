// A real redis-server for the tests (Debian's), on a free port in a folder of its own, with a
// password and AOF persistence, and a fast way to load many keys (redis-cli --pipe).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { freePort, waitFor } from '../../../scripts/stack/ports.ts';

export type RedisServer = {
  port: number;
  dir: string;
  /** runs redis-cli against this server and returns its stdout */
  cli(...args: string[]): string;
  stop(): Promise<void>;
};

export async function startRedis(opts: {
  dir: string;
  password?: string;
  extra?: string[];
}): Promise<RedisServer> {
  mkdirSync(opts.dir, { recursive: true });
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    opts.dir,
    '--save',
    '',
    '--daemonize',
    'no',
    '--enable-debug-command',
    'local',
    '--logfile',
    '',
    '--loglevel',
    'warning',
    ...(opts.password ? ['--requirepass', opts.password] : []),
    ...(opts.extra ?? []),
  ];
  const child: ChildProcess = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const env = { ...process.env, ...(opts.password && { REDISCLI_AUTH: opts.password }) };
  const cli = (...a: string[]) => {
    const r = spawnSync('redis-cli', ['-p', String(port), '--no-auth-warning', ...a], {
      env,
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    });
    if (r.status !== 0) throw new Error(`redis-cli ${a.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited: ${err}`);
      try {
        return cli('PING').trim() === 'PONG';
      } catch {
        return false;
      }
    },
    20_000,
    'redis-server',
  );
  return {
    port,
    dir: opts.dir,
    cli,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function resp(...parts: Array<string | Buffer>): Buffer {
  const chunks: Buffer[] = [Buffer.from(`*${parts.length}\r\n`)];
  for (const p of parts) {
    const b = Buffer.isBuffer(p) ? p : Buffer.from(p);
    chunks.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(chunks);
}

/**
 * `count` keys of every type: strings (one holding every byte value), hashes, lists, sets and
 * sorted sets, a third of them with a TTL of a day or more, and a few awkward key names.
 */
export function seedCommands(count: number): Buffer {
  const out: Buffer[] = [];
  out.push(resp('SET', 'bytes', Buffer.from(Array.from({ length: 256 }, (_, i) => i))));
  out.push(resp('SET', 'Grüße 😀 key with spaces', 'ü'));
  for (let i = 0; i < count; i++) {
    const k = `k:${i}`;
    switch (i % 5) {
      case 0:
        out.push(resp('SET', k, `value ${i} ${'x'.repeat(i % 50)}`));
        break;
      case 1:
        out.push(resp('HSET', k, 'a', String(i), 'b', `b${i}`));
        break;
      case 2:
        out.push(resp('RPUSH', k, 'one', String(i), 'three'));
        break;
      case 3:
        out.push(resp('SADD', k, 'x', String(i)));
        break;
      default:
        out.push(resp('ZADD', k, String(i), 'm1', String(i / 3), 'm2'));
    }
    if (i % 3 === 0) out.push(resp('PEXPIRE', k, String(86_400_000 + i)));
  }
  return Buffer.concat(out);
}

export function loadKeys(server: RedisServer, password: string | undefined, commands: Buffer): void {
  const r = spawnSync('redis-cli', ['-p', String(server.port), '--no-auth-warning', '--pipe'], {
    input: commands,
    env: { ...process.env, ...(password && { REDISCLI_AUTH: password }) },
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0 || !/errors: 0/.test(r.stdout))
    throw new Error(`redis-cli --pipe: ${r.stdout} ${r.stderr}`);
}
