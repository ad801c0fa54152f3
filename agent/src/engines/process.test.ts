import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { DumpError, EngineError } from './engine.ts';
import { feedStdin, runTool, startTool, TailBuffer, type ToolSpec } from './process.ts';

const sh = (script: string, extra: Partial<ToolSpec> = {}): ToolSpec => ({
  tool: 'sh',
  path: '/bin/sh',
  args: ['-c', script],
  errorLine: /^fatal:/,
  explain: () => undefined,
  spawn,
  ...extra,
});

describe('TailBuffer', () => {
  test('keeps only the last bytes and never starts inside a UTF-8 sequence', () => {
    const tail = new TailBuffer(8);
    tail.push(Buffer.from('0123456789'));
    tail.push(Buffer.from('ab€'));
    expect(tail.toString()).toBe('789ab€');
    expect(Buffer.byteLength(tail.toString())).toBeLessThanOrEqual(8);
  });
});

describe('running a tool', () => {
  test('a non-zero exit rejects with the exit code and the stderr tail', async () => {
    const err = await runTool(sh('echo oops >&2; exit 3', { isDump: true })).catch((x) => x);
    expect(err).toBeInstanceOf(DumpError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/^sh exited with code 3: oops/);
    expect(err.stderr).toBe('oops');
  });

  test("a tool's environment has the agent's, its own additions, and none of the RESISTRO_* secrets", async () => {
    // As in the agent: the keys are in the process's own environment (given on the command line
    // of a shell or by systemd), and nobody removed them from it.
    process.env.RESISTRO_API_KEY = 'rsk_live_secret-api-key';
    process.env.RESISTRO_ENCRYPTION_KEY = 'resistro-key-1:secret-encryption-key';
    try {
      const env = await runTool(sh('env', { env: { PGPASSWORD: 'for the tool only' } }));
      expect(env).toContain('PGPASSWORD=for the tool only');
      expect(env).toContain(`PATH=${process.env.PATH}`);
      expect(env).not.toMatch(/RESISTRO_|secret-api-key|secret-encryption-key/);
    } finally {
      delete process.env.RESISTRO_API_KEY;
      delete process.env.RESISTRO_ENCRYPTION_KEY;
    }
  });

  test('an error line fails the run even with exit code 0', async () => {
    const err = await runTool(sh('echo "fatal: broken" >&2; exit 0')).catch((x) => x);
    expect(err).toBeInstanceOf(EngineError);
    expect(err.message).toMatch(/reported an error \(exit code 0\): fatal: broken/);
  });

  test('stderr beyond 4 KB keeps its end', async () => {
    const err = await runTool(
      sh('i=0; while [ $i -lt 2000 ]; do echo "line $i" >&2; i=$((i+1)); done; exit 1'),
    ).catch((x) => x);
    expect(Buffer.byteLength(err.stderr)).toBeLessThanOrEqual(4096);
    expect(err.stderr).toMatch(/line 1999$/);
  });

  test('a missing binary is a tool_missing error', async () => {
    const err = await runTool({ ...sh(''), path: '/nonexistent/pg_dump', tool: 'pg_dump' }).catch((x) => x);
    expect(err).toBeInstanceOf(EngineError);
    expect(err.code).toBe('tool_missing');
  });

  test('cleanup runs after the tool is gone, on success and failure', async () => {
    let cleaned = 0;
    const cleanup = async () => {
      cleaned++;
    };
    await runTool(sh('exit 0', { cleanup }));
    await runTool(sh('exit 1', { cleanup })).catch(() => {});
    expect(cleaned).toBe(2);
  });

  test('a failing input kills the tool before it can see a clean end of input', async () => {
    // `cat > file` would keep a partial file if it saw EOF; killed, the exit says so.
    const running = startTool(sh('cat >/dev/null; echo finished-cleanly'), 'pipe');
    const output: Buffer[] = [];
    running.stdout.on('data', (b: Buffer) => output.push(b));
    const input = Readable.from(
      (async function* () {
        yield Buffer.from('partial');
        throw new Error('input broke');
      })(),
      { objectMode: false },
    );
    await expect(feedStdin(running, input)).rejects.toThrow('input broke');
    const err = await running.done.catch((x) => x);
    expect(err.code).toBe('killed');
    expect(Buffer.concat(output).toString()).not.toContain('finished-cleanly');
  });

  test('an input stopped before it is handed over kills the tool instead of leaving it waiting', async () => {
    // `cat` with an open stdin would wait forever; the stopped input must end it.
    const running = startTool(sh('cat >/dev/null; echo finished-cleanly'), 'pipe');
    const output: Buffer[] = [];
    running.stdout.on('data', (b: Buffer) => output.push(b));
    const input = Readable.from(['SELECT 1;']);
    input.on('error', () => {});
    input.destroy(new Error('restore stopped'));
    await expect(feedStdin(running, input)).rejects.toThrow('restore stopped');
    const err = await running.done.catch((x) => x);
    expect(err.code).toBe('killed');
    expect(Buffer.concat(output).toString()).not.toContain('finished-cleanly');

    // Destroyed without an error, too.
    const second = startTool(sh('cat >/dev/null; echo finished-cleanly'), 'pipe');
    const closed = Readable.from(['SELECT 1;']);
    closed.destroy();
    await expect(feedStdin(second, closed)).rejects.toThrow(/closed before it was read/);
    expect((await second.done.catch((x) => x)).code).toBe('killed');
  });
});
