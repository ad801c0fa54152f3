// The CLI as users meet it, run as a real process: usage errors exit 2 with a hint, configuration
// errors name each bad value, keygen writes private files, install writes the unit and a private
// env file and never overwrites one.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseEncryptionKey } from './format/index.ts';

const CLI = new URL('./cli.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'resistro-cli-'));
const emptyEnvFile = join(dir, 'empty-env');
writeFileSync(emptyEnvFile, '');

function resistro(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--no-warnings', CLI, ...args], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH!,
      HOME: dir,
      RESISTRO_ENV_FILE: emptyEnvFile,
      RESISTRO_LOG_FORMAT: 'text',
      ...env,
    },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('resistro CLI', { timeout: 60_000 }, () => {
  test('--help lists the commands; --version prints the version', () => {
    const help = resistro(['--help']);
    expect(help.code).toBe(0);
    for (const c of [
      'agent',
      'backup',
      'restore',
      'decrypt',
      'verify',
      'update',
      'keygen',
      'status',
      'install',
    ])
      expect(help.stdout).toContain(`  ${c}`);
    expect(resistro(['--version']).stdout).toMatch(/^resistro \d+\.\d+\.\d+ \(source\)\n$/);
    expect(resistro(['restore', '--help']).stdout).toMatch(
      /--file <backup\.resistro> --host <host> --port <port> --database <name> --user <user>/,
    );
  });

  test('usage errors exit 2 with a hint', () => {
    const cases: [string[], RegExp][] = [
      [[], /Usage: resistro <command>/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['backup', '--bogus'], /Unknown option '--bogus'/],
      [['decrypt', '--file'], /--file/],
      [['verify', 'positional'], /Unexpected argument 'positional'/],
      [
        ['agent', '--heartbeat-interval', '0'],
        /--heartbeat-interval must be a number of seconds, at least 1/,
      ],
      [
        ['restore', '--file', 'x.resistro', '--database', 'd'],
        /restore needs --database <name> and --user <user>/,
      ],
      [
        ['restore', '--file', 'a', '--backup', 'b', '--database', 'd', '--user', 'u'],
        /either --file .* or --backup/,
      ],
      [
        ['restore', '--file', 'a', '--database', 'd', '--user', 'u', '--port', 'http'],
        /--port must be a number/,
      ],
    ];
    const key = `resistro-key-1:${Buffer.alloc(32, 3).toString('base64url')}`;
    for (const [args, message] of cases) {
      const r = resistro(args, {
        RESISTRO_API_KEY: 'rsk_0123456789abcdef0123',
        RESISTRO_ENCRYPTION_KEY: key,
      });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout + r.stderr, args.join(' ')).toMatch(message);
      if (args.length > 0) expect(r.stderr, args.join(' ')).toMatch(/\nhint: /);
    }
  });

  test('configuration errors exit 2 and name every bad value', () => {
    const envFile = join(dir, 'bad-env');
    writeFileSync(
      envFile,
      'RESISTRO_API_KEY=your-api-key-here\nRESISTRO_ENDPOINT=cloud.resistro.org\nRESISTRO_ENCRYPTION_KEY="0000000000000000000000000000000000000000000000000000000000000000"\nthis line is broken\n',
    );
    const r = resistro(['backup', '--database', 'x'], { RESISTRO_ENV_FILE: envFile });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad-env, line 4: expected KEY=VALUE/);
    expect(r.stderr).toMatch(/RESISTRO_API_KEY is not a Resistro API key/);
    expect(r.stderr).toMatch(/RESISTRO_ENDPOINT is not a URL/);
    expect(r.stderr).toMatch(/RESISTRO_ENCRYPTION_KEY: the encryption key is all zeros/);
    expect(r.stderr).toMatch(/hint: /);
    const missing = resistro(['agent']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/RESISTRO_API_KEY is not set/);
    expect(missing.stderr).toMatch(/RESISTRO_ENCRYPTION_KEY is not set/);
  });

  test('user-fixable errors exit 1 with a hint', () => {
    const key = `resistro-key-1:${Buffer.alloc(32, 3).toString('base64url')}`;
    const r = resistro(['verify', '--file', join(dir, 'nope.resistro')], { RESISTRO_ENCRYPTION_KEY: key });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/resistro: error: .*nope\.resistro/);
    expect(r.stderr).toMatch(/hint: Check the path/);
  });

  test('keygen prints a key, or writes it (and a public key) to new private files it never overwrites', () => {
    const printed = resistro(['keygen']);
    expect(printed.code).toBe(0);
    expect(parseEncryptionKey(printed.stdout.trim()).kind).toBe('symmetric');

    const file = join(dir, 'key');
    expect(resistro(['keygen', '--output', file]).code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = resistro(['keygen', '--output', file]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists; refusing to overwrite a key file/);

    const pair = join(dir, 'pair');
    const made = resistro(['keygen', '--public-key-mode', '--output', pair]);
    expect(made.code).toBe(0);
    expect(statSync(pair).mode & 0o777).toBe(0o600);
    const pub = parseEncryptionKey(readFileSync(`${pair}.pub`, 'utf8').split('\n')[1]!);
    const priv = parseEncryptionKey(readFileSync(pair, 'utf8').split('\n')[1]!);
    expect(pub.kind).toBe('recipient');
    expect(priv.kind).toBe('private');
    expect(pub.keyId).toBe(priv.keyId);
    expect(made.stdout.trim()).toMatch(/^resistro-pub-1:/);
  });

  test('install writes the systemd unit and a private env file under --prefix, and never overwrites the env file', () => {
    const prefix = mkdtempSync(join(tmpdir(), 'resistro-install-'));
    const first = resistro(['install', '--prefix', prefix], {
      RESISTRO_API_KEY: 'rsk_0123456789abcdef0123',
      RESISTRO_ENDPOINT: 'https://cloud.example/api',
    });
    expect(first.code, first.stderr).toBe(0);
    const unit = readFileSync(join(prefix, 'etc/systemd/system/resistro-agent.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\S+node \S+cli\.ts agent$/m);
    expect(unit).toMatch(/^KillMode=mixed$/m);
    expect(unit).toMatch(/^ReadWritePaths=\/var\/lib\/resistro-agent$/m);
    const envPath = join(prefix, 'etc/resistro-agent/env');
    expect(statSync(envPath).mode & 0o777).toBe(0o600);
    const env = readFileSync(envPath, 'utf8');
    expect(env).toMatch(/^RESISTRO_API_KEY=rsk_0123456789abcdef0123$/m);
    expect(env).toMatch(/^RESISTRO_ENDPOINT=https:\/\/cloud\.example\/api$/m);
    expect(parseEncryptionKey(/^RESISTRO_ENCRYPTION_KEY=(.*)$/m.exec(env)![1]!).kind).toBe('symmetric');
    expect(first.stdout).toMatch(/Copy it to a safe place/);
    expect(statSync(join(prefix, 'var/lib/resistro-agent')).mode & 0o777).toBe(0o700);

    writeFileSync(envPath, 'RESISTRO_API_KEY=rsk_mine_and_precious_0000\n', { mode: 0o600 });
    const second = resistro(['install', '--prefix', prefix]);
    expect(second.code).toBe(0);
    expect(readFileSync(envPath, 'utf8')).toBe('RESISTRO_API_KEY=rsk_mine_and_precious_0000\n');

    const dry = mkdtempSync(join(tmpdir(), 'resistro-dry-'));
    const dryRun = resistro(['install', '--prefix', dry, '--dry-run']);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toMatch(/would:/);
    expect(existsSync(join(dry, 'etc'))).toBe(false);
  });

  test('install --dry-run on this machine plans systemctl only when systemd runs (sd_booted: /run/systemd/system)', () => {
    // Containers and WSL often have systemctl but not systemd; every systemctl call fails there.
    const dryRun = resistro(['install', '--dry-run']);
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(dryRun.stdout).toMatch(/write \/etc\/systemd\/system\/resistro-agent\.service/);
    if (existsSync('/run/systemd/system')) expect(dryRun.stdout).toMatch(/- systemctl daemon-reload/);
    else expect(dryRun.stdout).not.toMatch(/systemctl/);
  });
});
