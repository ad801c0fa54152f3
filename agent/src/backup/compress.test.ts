// Compression runs on the engines' process layer: the same PATH search, environment and exit
// handling. A fake zstd program shows what zstd is given; the real one round-trips the bytes.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { zstdDecompressSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { EngineError } from '../engines/index.ts';
import { nodeToolHost } from '../engines/tools.ts';
import { UserError } from '../errors.ts';
import { CompressorError, chooseCompression, findZstdProgram, startCompressor } from './compress.ts';

const dir = mkdtempSync(join(tmpdir(), 'resistro-compress-'));

/** A directory holding one program called zstd, made of a shell script. */
function fakeZstd(name: string, script: string): string {
  const bin = join(dir, name);
  mkdirSync(bin, { recursive: true });
  const path = join(bin, 'zstd');
  writeFileSync(
    path,
    `#!/bin/sh\nif [ "$1" = --version ]; then echo '*** Zstandard CLI (64-bit) v1.5.9, by Yann Collet ***'; exit 0; fi\n${script}\n`,
  );
  chmodSync(path, 0o755);
  return bin;
}

const hostWith = (searchPath: string) => ({ ...nodeToolHost(), searchPath });

describe('choosing the compressor', () => {
  test('RESISTRO_COMPRESSOR=zstd without the zstd program is a user error with a hint, before any dump', async () => {
    const error = await chooseCompression('zstd', hostWith(join(dir, 'nothing-here'))).catch((e) => e);
    expect(error).toBeInstanceOf(CompressorError);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(/RESISTRO_COMPRESSOR=zstd, but the zstd program is not installed/);
    expect(error.hint).toMatch(/apt-get install -y zstd/);
  });

  test('finds zstd on PATH with its version, as the dump tools are found', async () => {
    const bin = fakeZstd('found', 'cat');
    expect(await findZstdProgram(hostWith(bin))).toEqual({
      name: 'zstd',
      version: '1.5.9',
      path: join(bin, 'zstd'),
    });
    expect(await chooseCompression('node', hostWith(bin))).toBe('node');
    expect(await chooseCompression('auto', hostWith(join(dir, 'nothing-here')))).toBe('node');
  });
});

describe('the zstd program', () => {
  test('gets the agent environment without the RESISTRO_* secrets', async () => {
    const bin = fakeZstd('env', 'cat >/dev/null; env');
    const program = await findZstdProgram(hostWith(bin));
    process.env.RESISTRO_API_KEY = 'rsk_live_secret-api-key';
    process.env.RESISTRO_ENCRYPTION_KEY = 'resistro-key-1:secret-encryption-key';
    try {
      const running = startCompressor(Readable.from([Buffer.from('select 1;\n')]), 3, program!);
      const env = await text(running.stdout);
      await running.done;
      expect(env).toContain(`PATH=${process.env.PATH}`);
      expect(env).not.toMatch(/RESISTRO_|secret-api-key|secret-encryption-key/);
    } finally {
      delete process.env.RESISTRO_API_KEY;
      delete process.env.RESISTRO_ENCRYPTION_KEY;
    }
  });

  test('a failing zstd rejects with its exit code and stderr', async () => {
    const bin = fakeZstd('failing', 'cat >/dev/null; echo "zstd: error 70 : Write error" >&2; exit 1');
    const running = startCompressor(
      Readable.from([Buffer.from('x')]),
      3,
      (await findZstdProgram(hostWith(bin)))!,
    );
    running.stdout.resume();
    const error = await running.done.catch((e) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect(error.message).toMatch(/^zstd exited with code 1: zstd: error 70 : Write error/);
  });

  test('the installed zstd compresses to a standard zstd frame', async () => {
    const sql = Buffer.from('insert into t values (1);\n'.repeat(1000));
    const running = startCompressor(Readable.from([sql]), 3, (await findZstdProgram())!);
    const chunks: Buffer[] = [];
    for await (const chunk of running.stdout) chunks.push(chunk as Buffer);
    await running.done;
    expect(running.description).toMatch(/^zstd \d+\.\d+\.\d+ \(program, piped\)$/);
    expect(zstdDecompressSync(Buffer.concat(chunks)).equals(sql)).toBe(true);
  });
});
