// Runs the real agent daemon (agent/src/cli.ts) against the local stack, as a customer would on
// their database server, with its own state directory and encryption key.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../agent/src/cli.ts', import.meta.url));

export type RunningAgent = {
  stop(): Promise<void>;
  output(): string;
  child: ChildProcess;
  /** the agent's settings, for running its CLI (e.g. a restore) as the customer would on that host */
  env: Record<string, string>;
};

export function startAgent(opts: {
  apiKey: string;
  endpoint: string;
  heartbeatSeconds?: number;
}): RunningAgent {
  const encryptionKey = execFileSync(process.execPath, ['--no-warnings', CLI, 'keygen'], {
    encoding: 'utf8',
  }).trim();
  const parent = mkdtempSync(join(tmpdir(), 'resistro-web-agent-'));
  // An empty env file of our own, so a real /etc/resistro-agent/env on this machine is not read.
  writeFileSync(join(parent, 'env'), '');
  const env = {
    RESISTRO_API_KEY: opts.apiKey,
    RESISTRO_ENDPOINT: opts.endpoint,
    RESISTRO_ENCRYPTION_KEY: encryptionKey,
    // the agent creates its state directory itself, with its own permissions
    RESISTRO_STATE_DIR: join(parent, 'state'),
    RESISTRO_ENV_FILE: join(parent, 'env'),
    RESISTRO_LOG_FORMAT: 'text',
  };
  const child = spawn(
    process.execPath,
    ['--no-warnings', CLI, 'agent', '--heartbeat-interval', String(opts.heartbeatSeconds ?? 2)],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const collect = (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return {
    child,
    env,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          rmSync(parent, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return done();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          done();
        });
        child.kill('SIGTERM');
      }),
  };
}
