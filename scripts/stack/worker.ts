import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './ports.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type WorkerServer = { url: string; stop(): Promise<void>; output(): string };

/** The worker's variables as a dotenv file (mode 0600) in its persist directory. */
export function writeEnvFile(dir: string, vars: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  const lines = Object.entries(vars).map(([k, v]) => {
    if (!/^[A-Z][A-Z0-9_]*$/.test(k)) throw new Error(`worker variable name ${k} is not NAME_LIKE_THIS`);
    // single quotes: dotenv takes the value literally (no escapes, no expansion)
    if (/['\n\r]/.test(v)) throw new Error(`worker variable ${k} holds a quote or a line break`);
    return `${k}='${v}'`;
  });
  const file = join(dir, 'worker.env');
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return file;
}

/** `wrangler dev` (real workerd) with cron test route, in its own process group. */
export async function startWorker(opts: {
  port: number;
  vars: Record<string, string>;
  persistDir: string;
  log?: (s: string) => void;
  /** wrangler's log level; the worker's console.log lines show from 'log' on (default 'warn') */
  logLevel?: 'warn' | 'log';
  /** a PEM file of CAs the worker trusts besides the public ones (miniflare reads NODE_EXTRA_CA_CERTS) */
  extraCaFile?: string;
}): Promise<WorkerServer> {
  const wrangler = fileURLToPath(new URL('../../node_modules/wrangler/bin/wrangler.js', import.meta.url));
  const args = [
    wrangler,
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--test-scheduled',
    '--persist-to',
    opts.persistDir,
    '--show-interactive-dev-session=false',
    '--log-level',
    opts.logLevel ?? 'warn',
  ];
  // SECURITY: the variables hold secrets (S3 key, data encryption keys, Paddle keys): they go to
  // wrangler in a file only we can read, never on its command line (visible to every local user).
  args.push('--env-file', writeEnvFile(opts.persistDir, opts.vars));
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      WRANGLER_SEND_METRICS: 'false',
      NO_COLOR: '1',
      ...(opts.extraCaFile && { NODE_EXTRA_CA_CERTS: opts.extraCaFile }),
    },
  });
  let out = '';
  const collect = (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000);
    opts.log?.(b.toString());
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const url = `http://127.0.0.1:${opts.port}`;
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`wrangler exited:\n${out}`);
        const r = await fetch(`${url}/api/v1/health`);
        return r.ok;
      },
      60_000,
      'wrangler dev',
    );
  } catch (e) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
    throw new Error(`${(e as Error).message}\n${out}`);
  }
  return {
    url,
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        // workerd is a grandchild: stop the whole process group.
        try {
          process.kill(-child.pid!, 'SIGTERM');
        } catch {
          resolve();
        }
        setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {}
        }, 3000).unref();
      }),
  };
}
