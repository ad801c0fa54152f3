// `npm test`: every suite (unit, engines on real database servers, integration on the local
// stack with workerd, dashboard components, browser end-to-end) in one vitest run, then one line
// "N passed, N failed" that sums them all.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preflightMessage, selectedProjects, systemLookup } from './test/preflight.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const missing = preflightMessage(selectedProjects(process.argv.slice(2)), systemLookup());
if (missing) {
  console.error(missing);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const out = join(ROOT, '.test-data', 'results.json');
mkdirSync(join(ROOT, '.test-data'), { recursive: true });
rmSync(out, { force: true });

const vitest = join(ROOT, 'node_modules/vitest/vitest.mjs');
const run = spawnSync(
  process.execPath,
  [
    vitest,
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${out}`,
    ...process.argv.slice(2),
  ],
  {
    cwd: ROOT,
    stdio: 'inherit',
  },
);

let passed = 0;
let failed = 0;
if (existsSync(out)) {
  const r = JSON.parse(readFileSync(out, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    testResults: { status: string; assertionResults: unknown[] }[];
  };
  passed = r.numPassedTests;
  failed = r.numFailedTests;
  // A file that failed to load or whose hooks failed has no failing test but is a failure.
  failed += r.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
}
if (run.status !== 0 && failed === 0) failed = 1; // the run itself broke (e.g. global setup)
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && run.status === 0 ? 0 : 1);
