// What a user meets when a path, a name or an address is wrong: each gets a message about what is
// wrong (never "the backup is damaged" for a good backup), a hint, and the right exit code.
// Real CLI processes; a tiny HTTP server on loopback plays a wrong endpoint and a refused key.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdCompressSync } from 'node:zlib';
import type { DatabaseWork } from '@resistro/contract';
import { ApiClientError } from '@resistro/contract';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findDatabase } from './context.ts';
import { explainApiError, UsageError } from './errors.ts';
import { generateSymmetricKey, parseEncryptionKey } from './format/index.ts';
import { encryptToBuffer } from './format/testing.ts';

const CLI = new URL('./cli.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'resistro-inputs-'));
const envFile = join(dir, 'env');
writeFileSync(envFile, '');
const keyText = generateSymmetricKey();
const SQL = 'create table t (id int);\ninsert into t values (1);\n';

function resistro(args: string[], env: Record<string, string> = {}) {
  // spawn, not spawnSync: the test's own HTTP server must keep answering meanwhile.
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--no-warnings', CLI, ...args], {
      env: {
        PATH: process.env.PATH!,
        HOME: dir,
        RESISTRO_ENV_FILE: envFile,
        RESISTRO_LOG_FORMAT: 'text',
        RESISTRO_STATE_DIR: join(dir, 'state'),
        RESISTRO_ENCRYPTION_KEY: keyText,
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => {
      stdout += b;
    });
    child.stderr.on('data', (b) => {
      stderr += b;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let backup: string;
let server: ReturnType<typeof createServer>;
let base: string;
beforeAll(async () => {
  backup = join(dir, 'backup-shop-2026-11-23.resistro');
  writeFileSync(
    backup,
    await encryptToBuffer(parseEncryptionKey(keyText), zstdCompressSync(Buffer.from(SQL))),
  );
  server = createServer((req, res) => {
    if (req.url?.startsWith('/api/v1/')) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'unauthorized', message: 'Unknown or revoked API key' } }));
    } else {
      // what a web server answers when RESISTRO_ENDPOINT lacks the /api
      res.writeHead(405, { 'content-type': 'text/html' });
      res.end('<h1>405 Method Not Allowed</h1>');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server?.close());

describe('paths', { timeout: 60_000 }, () => {
  test('a folder or a missing file as --file is named as such, for verify, decrypt and restore', async () => {
    for (const args of [
      ['verify', '--file', dir],
      ['decrypt', '--file', dir, '--output', join(dir, 'x.sql')],
      ['restore', '--file', dir, '--database', 'd', '--user', 'u', '--port', '5432'],
    ]) {
      const r = await resistro(args);
      expect(r.code, args[0]).toBe(2);
      expect(r.stderr, args[0]).toMatch(
        /is a folder, not a backup file\nhint: Give --file the \.resistro file/,
      );
    }
    const missing = await resistro(['decrypt', '--file', join(dir, 'nope'), '--output', join(dir, 'y.sql')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/there is no file .*nope\nhint: Check the path given to --file/);
  });

  test('decrypt refuses outputs that cannot be written, blaming the output and not the backup', async () => {
    const noFolder = await resistro(['decrypt', '--file', backup, '--output', join(dir, 'missing', 'x.sql')]);
    expect(noFolder.code).toBe(1);
    expect(noFolder.stderr).toMatch(/cannot write .*x\.sql: the folder .*missing does not exist/);
    expect(noFolder.stderr).not.toMatch(/zstd|damaged|invalid/);
    const stdout = await resistro(['decrypt', '--file', backup, '--output', '-']);
    expect(stdout.code).toBe(2);
    expect(stdout.stderr).toMatch(
      /decrypt writes a file, not standard output[^\n]*\nhint: .*resistro restore/,
    );
    const itself = await resistro(['decrypt', '--file', backup, '--output', backup]);
    expect(itself.code).toBe(2);
    expect(itself.stderr).toMatch(/--output names the backup file itself/);
  });

  test('decrypt keeps an existing output file unless --force', async () => {
    const out = join(dir, 'kept.sql');
    writeFileSync(out, 'my notes');
    const refused = await resistro(['decrypt', '--file', backup, '--output', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/kept\.sql exists; decrypt does not overwrite files\nhint: .*--force/);
    expect(readFileSync(out, 'utf8')).toBe('my notes');
    const forced = await resistro(['decrypt', '--file', backup, '--output', out, '--force']);
    expect(forced.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(SQL);
    mkdirSync(join(dir, 'a-folder'), { recursive: true });
    const folder = await resistro(['decrypt', '--file', backup, '--output', join(dir, 'a-folder')]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toMatch(/a-folder is a folder/);
  });

  test('restore --backup with something that is not a backup id says so before any request', async () => {
    const r = await resistro(
      ['restore', '--backup', 'not-a-uuid', '--database', 'd', '--user', 'u', '--port', '5432'],
      { RESISTRO_API_KEY: 'rsk_0123456789abcdef0123', RESISTRO_ENDPOINT: `${base}/api` },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--backup not-a-uuid is not a backup id\nhint: .*dashboard/);
  });

  test('verify --restore and restore --table/--as: wrong combinations are usage errors with a hint', async () => {
    const api = { RESISTRO_API_KEY: 'rsk_0123456789abcdef0123', RESISTRO_ENDPOINT: `${base}/api` };
    const cases: [string[], RegExp][] = [
      [['verify', '--restore'], /needs either --backup <backup id> or --file[^\n]*\nhint: /],
      [['verify', '--restore', '--backup', 'not-a-uuid'], /--backup not-a-uuid is not a backup id\nhint: /],
      [
        ['verify', '--restore', '--backup', '0f9c0a57-0000-4000-8000-000000000000', '--time-limit', '0'],
        /--time-limit must be 1–1440 minutes\nhint: /,
      ],
      [['verify', '--file', 'x.resistro', '--host', 'db'], /--host goes with --restore\nhint: /],
      [
        ['restore', '--file', 'x.resistro', '--as', 'copy', '--database', 'd', '--user', 'u'],
        /--as goes with exactly one --table\nhint: /,
      ],
      [
        ['restore', '--file', 'x.resistro', '--list', '--table', 't'],
        /--list and --table do not go together\nhint: /,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await resistro(args, api);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });
});

describe('restore --pitr', { timeout: 60_000 }, () => {
  const pitr = (...args: string[]) =>
    resistro([
      'restore',
      '--pitr',
      '--file',
      backup,
      '--database',
      'd',
      '--user',
      'u',
      '--no-password',
      ...args,
    ]);

  test('needs exactly one well-formed target, and the segments', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--engine', 'mariadb', '--segments', dir],
        /needs exactly one of --time .*, --position .* or --latest\nhint: /,
      ],
      [
        ['--engine', 'mariadb', '--segments', dir, '--time', '2026-12-01 10:00Z', '--latest'],
        /needs exactly one of/,
      ],
      [
        ['--engine', 'mariadb', '--segments', dir, '--time', 'yesterday'],
        /--time "yesterday" is not a date and time\nhint: .*\+01/,
      ],
      [
        ['--engine', 'mariadb', '--segments', dir, '--time', '2026-02-30 10:00:00Z'],
        /is not a date and time/,
      ],
      [
        ['--engine', 'mariadb', '--segments', dir, '--position', 'mysql-bin:12'],
        /is not a binlog position\nhint: .*mysql-bin\.000042:1234/,
      ],
      [['--engine', 'mariadb', '--latest'], /needs --segments <directory>/],
      [
        ['--engine', 'postgres', '--latest'],
        /with a dump file is for MySQL\/MariaDB; this backup is postgres/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await pitr(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    const both = await resistro(
      ['restore', '--pitr', '--from', 'shop', '--file', backup, '--latest', '--database', 'd', '--user', 'u'],
      {
        RESISTRO_API_KEY: 'rsk_0123456789abcdef0123',
        RESISTRO_ENDPOINT: `${base}/api`,
      },
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--from picks the dump itself; leave out --file and --backup/);
  });

  test('a dump without a binlog position is refused before anything is restored', async () => {
    const r = await pitr('--engine', 'mariadb', '--segments', dir, '--latest');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not record where it stands in the binary log\nhint: .*log_bin/);
  });
});

describe('keys and addresses', { timeout: 60_000 }, () => {
  test('each kind of bad API key gets one message of its own', async () => {
    const cases: [string, RegExp][] = [
      ['', /RESISTRO_API_KEY is empty/],
      ['api-key-from-the-mail', /RESISTRO_API_KEY is not a Resistro API key \(those start with rsk_\)/],
      ['rsk_wrongwrongwro', /RESISTRO_API_KEY is cut short or mistyped/],
    ];
    for (const [value, message] of cases) {
      // in the env file: an empty variable in the environment counts as not set
      const file = join(dir, 'key-env');
      writeFileSync(file, `RESISTRO_API_KEY=${value}\nRESISTRO_ENDPOINT=${base}/api\n`);
      const r = await resistro(['status'], { RESISTRO_ENV_FILE: file });
      expect(r.code, value).toBe(2);
      expect(r.stderr, value).toMatch(message);
      expect(r.stderr.match(/^ {2}- /gm)?.length, value).toBe(1);
    }
  });

  test('off a terminal, a usage or configuration error is a JSON line like every other event', async () => {
    for (const args of [['frobnicate'], ['status']]) {
      const file = join(dir, 'bad-format-env');
      writeFileSync(file, 'RESISTRO_API_KEY=nope\n');
      const r = await resistro(args, { RESISTRO_ENV_FILE: file, RESISTRO_LOG_FORMAT: '' });
      expect(r.code, args[0]).toBe(2);
      const event = JSON.parse(r.stderr.trim().split('\n').at(-1)!);
      expect(event).toMatchObject({ level: 'error', event: 'command.failed', exitCode: 2 });
      expect(event.hint).toEqual(expect.any(String));
    }
  });

  test('keygen works while the env file is still being written (a warning, not an error)', async () => {
    const file = join(dir, 'half-env');
    writeFileSync(file, 'RESISTRO_API_KEY=\n');
    const r = await resistro(['keygen'], { RESISTRO_ENV_FILE: file, RESISTRO_ENCRYPTION_KEY: '' });
    expect(r.code).toBe(0);
    expect(parseEncryptionKey(r.stdout.trim()).kind).toBe('symmetric');
    expect(r.stderr).toMatch(/the configuration is not usable yet: .*RESISTRO_API_KEY is empty/);
  });

  test('status tells a refused key from an endpoint that is not the API', async () => {
    const refused = await resistro(['status'], {
      RESISTRO_API_KEY: 'rsk_0123456789abcdef0123',
      RESISTRO_ENDPOINT: `${base}/api`,
    });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/control plane: +REFUSED: The control plane refused the API key/);
    expect(refused.stdout).toMatch(/hint: Check RESISTRO_API_KEY \(the agent's env file or environment\)/);
    const wrongPath = await resistro(['status'], {
      RESISTRO_API_KEY: 'rsk_0123456789abcdef0123',
      RESISTRO_ENDPOINT: base,
    });
    expect(wrongPath.code).toBe(1);
    expect(wrongPath.stdout).toMatch(
      /control plane: +UNREACHABLE: Unexpected response \(HTTP 405, not JSON\)/,
    );
    expect(wrongPath.stdout).toMatch(
      /hint: RESISTRO_ENDPOINT must be the API address of the service, ending in \/api/,
    );
  });

  test('the hint for an answer that is not the API points at RESISTRO_ENDPOINT', () => {
    const e = new ApiClientError(
      404,
      'unexpected_response',
      'Unexpected response (HTTP 404, no error envelope)',
    );
    expect(explainApiError(e).hint).toMatch(/RESISTRO_ENDPOINT must be the API address/);
  });
});

describe('database names', () => {
  const db = (id: string, name: string) =>
    ({ id, name, engine: 'postgres', host: 'db', port: 5432, database: 'shop' }) as unknown as DatabaseWork;
  const list = [db('a1', 'shop'), db('b2', 'shop'), db('c3', 'Billing')];

  test('an id, a unique name, or a name in another case', () => {
    expect(findDatabase(list, 'b2')?.id).toBe('b2');
    expect(findDatabase(list, 'Billing')?.id).toBe('c3');
    expect(findDatabase(list, 'billing')?.id).toBe('c3');
    expect(findDatabase(list, 'nope')).toBeUndefined();
  });

  test('a name two databases share is refused with their ids', () => {
    expect(() => findDatabase(list, 'shop')).toThrow(UsageError);
    expect(() => findDatabase(list, 'shop')).toThrow(/2 databases of this agent are named "shop"/);
    try {
      findDatabase(list, 'shop');
    } catch (e) {
      expect((e as UsageError).hint).toMatch(/a1 \(postgres db:5432\/shop\), b2/);
    }
  });
});
