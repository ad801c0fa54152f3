import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './ports.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type WorkerServer = { url: string; stop(): Promise<void>; output(): string };

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
  for (const [k, v] of Object.entries(opts.vars)) args.push('--var', `${k}:${v}`);
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
