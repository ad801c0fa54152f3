// The progress bar: drawn on a terminal only, at most every 150 ms (and once at the end), with
// bytes, rate and percentage; cleared before a log line and when done. Also checked through a real
// pseudo-terminal: `resistro verify` under script(1) draws it, and piped it draws nothing.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdCompressSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { generateSymmetricKey, parseEncryptionKey } from './format/index.ts';
import { encryptToBuffer } from './format/testing.ts';
import { createLogger } from './log.ts';
import { createProgress } from './progress.ts';

function terminal(isTTY = true) {
  let t = 0;
  const writes: string[] = [];
  return {
    writes,
    tick: (ms: number) => {
      t += ms;
    },
    io: { stream: { isTTY, write: (s: string) => writes.push(s) }, now: () => t },
  };
}

describe('progress bar', () => {
  test('draws bytes, rate and percentage, at most every 150 ms, and the last state', () => {
    const term = terminal();
    const log = createLogger({ json: false, write: () => {} });
    const p = createProgress(log, 'checking f', 4_000_000, term.io);
    term.tick(1000);
    p.add(1_000_000);
    expect(term.writes.at(-1)).toBe(
      '\r\x1b[2Kchecking f [######..................] 25% 1.00 MB of 4.00 MB  1.00 MB/s',
    );
    term.tick(10);
    p.add(1_000_000); // too soon: not drawn
    expect(term.writes).toHaveLength(1);
    term.tick(990);
    p.add(2_000_000); // the end is always drawn
    expect(term.writes.at(-1)).toMatch(/\[#{24}\] 100% 4\.00 MB of 4\.00 MB {2}2\.00 MB\/s$/);
    p.done();
    expect(term.writes.at(-1)).toBe('\r\x1b[2K');
  });

  test('without a total: bytes and rate, no bar', () => {
    const term = terminal();
    const p = createProgress(
      createLogger({ json: false, write: () => {} }),
      'backup shop',
      undefined,
      term.io,
    );
    term.tick(2000);
    p.add(3_000_000);
    expect(term.writes.at(-1)).toBe('\r\x1b[2Kbackup shop 3.00 MB  1.50 MB/s');
  });

  test('a log line first clears the bar, so they never share a line', () => {
    const term = terminal();
    const lines: string[] = [];
    const log = createLogger({
      json: false,
      write: (l) => lines.push(`${term.writes.at(-1) === '\r\x1b[2K' ? 'after-clear ' : ''}${l}`),
    });
    const p = createProgress(log, 'restoring', 100, term.io);
    term.tick(200);
    p.add(50);
    log.warn('x', 'something happened');
    expect(lines).toEqual(['after-clear resistro: warn: something happened\n']);
    p.done();
  });

  test('nothing on a pipe or with JSON logs', () => {
    const pipe = terminal(false);
    createProgress(createLogger({ json: false, write: () => {} }), 'x', 10, pipe.io).add(10);
    const json = terminal(true);
    createProgress(createLogger({ json: true, write: () => {} }), 'x', 10, json.io).add(10);
    expect([...pipe.writes, ...json.writes]).toEqual([]);
  });

  test('resistro verify draws it on a real terminal, and not when piped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resistro-progress-'));
    const keyText = generateSymmetricKey();
    const key = parseEncryptionKey(keyText);
    const file = join(dir, 'b.resistro');
    writeFileSync(
      file,
      await encryptToBuffer(key, zstdCompressSync(Buffer.from(randomBytes(2_000_000).toString('hex')))),
    );
    writeFileSync(join(dir, 'env'), '');
    const env = {
      PATH: process.env.PATH!,
      HOME: dir,
      RESISTRO_ENV_FILE: join(dir, 'env'),
      RESISTRO_ENCRYPTION_KEY: keyText,
      TERM: 'xterm',
    };
    const cli = new URL('./cli.ts', import.meta.url).pathname;
    const command = `${process.execPath} --no-warnings ${cli} verify --file ${file}`;
    // script(1) gives the command a pseudo-terminal and copies what it printed to stdout.
    const tty = spawnSync('script', ['-q', '-e', '-c', command, '/dev/null'], { encoding: 'utf8', env });
    expect(tty.stdout + tty.stderr).toMatch(/OK .*b\.resistro/);
    expect(tty.status).toBe(0);
    expect(tty.stdout).toMatch(/checking .*b\.resistro \[#{24}\] 100% \d\.\d\d MB of \d\.\d\d MB/);
    expect(tty.stdout).toContain('\x1b[2K');
    // the result once: the OK line, not also a log line saying the same
    expect(tty.stdout).not.toMatch(/is intact/);
    const piped = spawnSync(process.execPath, ['--no-warnings', cli, 'verify', '--file', file], {
      encoding: 'utf8',
      env,
    });
    expect(piped.status).toBe(0);
    expect(piped.stderr).not.toContain('\x1b[2K');
    expect(piped.stdout).toMatch(/^OK /);
  });
});
