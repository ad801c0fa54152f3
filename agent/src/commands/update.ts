// `resistro update`: replaces this executable with the one the service now hands out, the same way
// the one-line install does (it runs the service's install-agent.sh): checked against its SHA-256
// and run once before it replaces the old one by rename, so a failed update leaves the old agent
// working; the service is restarted when systemd runs it. The env file and the state are kept.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSea } from 'node:sea';
import { childEnv } from '../child-env.ts';
import type { CommandInput } from '../command.ts';
import { UsageError, UserError } from '../errors.ts';

/** The service's origin: the API endpoint without its /api (or /api/v1) path. */
export function serviceOrigin(endpoint: string): string {
  const url = new URL(endpoint);
  url.pathname = url.pathname.replace(/\/api(\/v1)?\/?$/, '/');
  return url.href.replace(/\/$/, '');
}

export async function run({ options, config, log, signal }: CommandInput): Promise<number> {
  const prefix = (options.prefix as string | undefined) ?? '';
  if (prefix && !prefix.startsWith('/'))
    throw new UsageError('--prefix must be an absolute path', 'Example: --prefix /tmp/stage');
  if (!isSea()) {
    throw new UserError(
      'this resistro runs on Node.js from a checkout or npm, not as the installed executable',
      'Update the checkout (git pull) or the npm package instead; servers install the executable with curl -fsSL <service>/install-agent.sh | sudo sh.',
    );
  }
  if (!prefix && process.getuid?.() !== 0) {
    throw new UserError(
      'updating the agent needs root (it replaces /usr/local/bin/resistro)',
      'Run: sudo resistro update',
    );
  }
  const origin = serviceOrigin(config.endpoint);
  const url = `${origin}/install-agent.sh`;
  log.info('update.fetch', `fetching the installer from ${url}`);
  let script: string;
  try {
    const res = await fetch(url, { signal, redirect: 'follow' });
    script = await res.text();
    if (!res.ok || !script.startsWith('#!')) throw new Error(`HTTP ${res.status}`);
  } catch (error) {
    throw new UserError(
      `cannot fetch the installer from ${url}`,
      'Check RESISTRO_ENDPOINT in /etc/resistro-agent/env and that this server reaches the service.',
      { cause: error },
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'resistro-update-'));
  try {
    const file = join(dir, 'install-agent.sh');
    writeFileSync(file, script, { mode: 0o700 });
    // SECURITY: the installer gets no RESISTRO_* secrets from this process; the env file it keeps
    // already has them.
    const env = { ...childEnv(), ...(prefix ? { RESISTRO_PREFIX: prefix } : {}) };
    const r = spawnSync('sh', [file], { stdio: 'inherit', env });
    if (r.status !== 0) {
      throw new UserError(
        'the update failed; the installed agent was left as it was',
        `The installer said why above. Run it by hand to retry: curl -fsSL ${url} | sudo sh`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}
