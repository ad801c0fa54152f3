import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DEFAULT_ENDPOINT, loadConfig, parseSize } from './config.ts';
import { UsageError } from './errors.ts';

const API_KEY = 'rsk_0123456789abcdefABCDEF_-xyz';
const KEY = `resistro-key-1:${Buffer.alloc(32, 7).toString('base64url')}`;
const dir = mkdtempSync(join(tmpdir(), 'resistro-config-'));
const noFile = { RESISTRO_ENV_FILE: join(dir, 'missing') };
const empty = join(dir, 'empty');
writeFileSync(empty, '# nothing here\n');

function problems(env: NodeJS.ProcessEnv, needs = {}): string {
  try {
    loadConfig(env, needs);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return `${(error as UsageError).message}\n${(error as UsageError).hint}`;
  }
  throw new Error('expected a configuration error');
}

describe('loadConfig', () => {
  test('reads the env file and lets the environment override it', () => {
    const file = join(dir, 'env');
    writeFileSync(
      file,
      `RESISTRO_API_KEY=${API_KEY}\nRESISTRO_ENDPOINT=https://file.example/api\nRESISTRO_ENCRYPTION_KEY=${KEY}\n`,
    );
    const { config } = loadConfig(
      { RESISTRO_ENV_FILE: file, RESISTRO_ENDPOINT: 'https://env.example/api/v1/' },
      { apiKey: true, encryptionKey: 'encrypt' },
    );
    expect(config.apiKey).toBe(API_KEY);
    expect(config.endpoint).toBe('https://env.example/api');
    expect(config.encryptionKey?.kind).toBe('symmetric');
    expect(config.envFile).toBe(file);
    expect(config.stateDir).toBe('/var/lib/resistro-agent');
    expect(config.spoolMaxBytes).toBe(5 * 1024 ** 3);
  });

  test('defaults: the public endpoint, info logs, automatic compressor; nothing required', () => {
    const { config } = loadConfig({ RESISTRO_ENV_FILE: empty }, {});
    expect(config.endpoint).toBe(DEFAULT_ENDPOINT);
    expect(config.logLevel).toBe('info');
    expect(config.compressor).toBe('auto');
  });

  test('names every bad value on its own, without repeating a secret', () => {
    const text = problems({
      ...noFile,
      RESISTRO_API_KEY: 'your-api-key-here',
      RESISTRO_ENDPOINT: 'ftp://example.com',
      RESISTRO_ENCRYPTION_KEY: 'resistro-key-1:short-secret',
      RESISTRO_STATE_DIR: 'relative/dir',
      RESISTRO_SPOOL_MAX_BYTES: 'lots',
      RESISTRO_LOG_LEVEL: 'loud',
      RESISTRO_COMPRESSOR: 'gzip',
    });
    expect(text).toMatch(/RESISTRO_ENV_FILE names .*missing, which does not exist/);
    expect(text).toMatch(/RESISTRO_API_KEY is not a Resistro API key/);
    expect(text).toMatch(/RESISTRO_ENDPOINT must be an https:\/\/ URL/);
    expect(text).toMatch(
      /RESISTRO_ENCRYPTION_KEY: the key after resistro-key-1: must be 43 base64url characters/,
    );
    expect(text).toMatch(/RESISTRO_STATE_DIR must be an absolute path/);
    expect(text).toMatch(/RESISTRO_SPOOL_MAX_BYTES is not a size/);
    expect(text).toMatch(/RESISTRO_LOG_LEVEL must be one of debug, info, warn, error/);
    expect(text).toMatch(/RESISTRO_COMPRESSOR must be one of auto, zstd, node/);
    expect(text).toMatch(/The configuration has 8 problems/);
    expect(text).not.toContain('short-secret');
    expect(text).not.toContain('your-api-key-here');
  });

  test('names what a command needs and is missing', () => {
    const text = problems({ RESISTRO_ENV_FILE: empty }, { apiKey: true, encryptionKey: 'encrypt' });
    expect(text).toMatch(/RESISTRO_API_KEY is not set/);
    expect(text).toMatch(/RESISTRO_ENCRYPTION_KEY is not set/);
    expect(text).toMatch(/resistro keygen/);
  });

  test('refuses plain http to another machine (the API key would travel in clear), allows loopback', () => {
    expect(problems({ ...noFile, RESISTRO_ENDPOINT: 'http://backup.example.com/api' })).toMatch(
      /plain http to another machine/,
    );
    for (const host of ['127.0.0.1:8787', 'localhost:8787', '[::1]:8787']) {
      const env = { RESISTRO_ENV_FILE: empty, RESISTRO_ENDPOINT: `http://${host}/api` };
      expect(() => loadConfig(env, {})).not.toThrow();
    }
  });

  test('a public key encrypts but cannot restore; a private key on the agent draws a warning', () => {
    const pub = `resistro-pub-1:${Buffer.from('09'.padEnd(64, '0'), 'hex').toString('base64url')}`;
    expect(
      problems({ RESISTRO_ENV_FILE: empty, RESISTRO_ENCRYPTION_KEY: pub }, { encryptionKey: 'decrypt' }),
    ).toMatch(/is a public key/);
    const priv = `resistro-sec-1:${Buffer.alloc(32, 9).toString('base64url')}`;
    const { warnings } = loadConfig(
      { RESISTRO_ENV_FILE: empty, RESISTRO_ENCRYPTION_KEY: priv },
      { encryptionKey: 'encrypt' },
    );
    expect(warnings.join()).toMatch(/holds a private key; on the database server put only its public key/);
  });

  test('unknown RESISTRO_ settings in the file are reported with a suggestion', () => {
    const file = join(dir, 'typo');
    writeFileSync(file, `RESISTRO_APIKEY=${API_KEY}\n`);
    const text = problems({ RESISTRO_ENV_FILE: file }, { apiKey: true });
    expect(text).toMatch(/RESISTRO_API_KEY is not set/);
    expect(text).toMatch(/unknown setting RESISTRO_APIKEY \(did you mean RESISTRO_API_KEY\?\)/);
  });

  test('warns when the env file with secrets is readable by other users', () => {
    const file = join(dir, 'open-env');
    writeFileSync(file, `RESISTRO_API_KEY=${API_KEY}\n`, { mode: 0o644 });
    const { warnings } = loadConfig({ RESISTRO_ENV_FILE: file }, {});
    expect(warnings.join()).toMatch(/other users may read it \(mode 644\); run: chmod 600/);
  });

  test('parseSize understands bytes and binary and decimal units', () => {
    expect(parseSize('1024')).toBe(1024);
    expect(parseSize('5GiB')).toBe(5 * 1024 ** 3);
    expect(parseSize('5G')).toBe(5 * 1024 ** 3);
    expect(parseSize('500MB')).toBe(500_000_000);
    expect(parseSize('1.5 mib')).toBe(1.5 * 1024 ** 2);
    expect(parseSize('0')).toBe(0);
    expect(parseSize('-1')).toBeUndefined();
    expect(parseSize('ten')).toBeUndefined();
  });
});
