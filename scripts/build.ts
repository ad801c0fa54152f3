// `npm run build`: the dashboard (web/dist, served by the worker as static assets) and the agent's
// single-file build, published next to the dashboard for the install script to download.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function run(args: string[], cwd: string, what: string) {
  const r = spawnSync(process.execPath, args, { cwd, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${what} failed`);
}

export function buildAll(): void {
  run(
    [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'],
    join(ROOT, 'web'),
    'dashboard build',
  );
  if (existsSync(join(ROOT, 'agent/build.ts'))) {
    run(['--no-warnings', join(ROOT, 'agent/build.ts')], join(ROOT, 'agent'), 'agent build');
    // The installer (served by the worker at /install-agent.sh with this service's origin filled
    // in) downloads the single-file agent and its checksum from /downloads/.
    mkdirSync(join(ROOT, 'web/dist/downloads'), { recursive: true });
    for (const [from, to] of [
      ['agent/dist/resistro.mjs', 'web/dist/downloads/resistro.mjs'],
      ['agent/dist/resistro.mjs.sha256', 'web/dist/downloads/resistro.mjs.sha256'],
      ['agent/install-agent.sh', 'web/dist/install-agent.sh'],
    ] as const) {
      if (existsSync(join(ROOT, from))) copyFileSync(join(ROOT, from), join(ROOT, to));
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) buildAll();
