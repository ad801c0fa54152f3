// `npm run build`: the dashboard (web/dist, served by the worker as static assets), the agent's
// single-file build (agent/dist/resistro.mjs, for `npx resistro`) and its executables
// (agent/dist/resistro-linux-<arch>, published to the bucket: `npm run agent:publish`).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDocs } from './docs/build-docs.ts';

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
  // The documentation, served at /docs from the same assets.
  buildDocs(join(ROOT, 'web/dist'));
  run(['--no-warnings', join(ROOT, 'agent/build.ts')], join(ROOT, 'agent'), 'agent build');
  // The agent's executables (agent/dist/resistro-linux-<arch>): published to the bucket, where the
  // worker's /downloads hands them to install-agent.sh. This machine's architecture must build;
  // the other one needs its Node runtime from the npm registry and is skipped when that fails.
  const sea = join(ROOT, 'agent/sea/build.ts');
  const native = process.arch === 'arm64' ? 'arm64' : 'x64';
  run(['--no-warnings', sea, '--arch', native], ROOT, 'agent executable build');
  const other = native === 'x64' ? 'arm64' : 'x64';
  const r = spawnSync(process.execPath, ['--no-warnings', sea, '--arch', other], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (r.status !== 0)
    console.warn(`warning: the linux-${other} agent was not built (see above); linux-${native} only`);
}

if (import.meta.url === `file://${process.argv[1]}`) buildAll();
