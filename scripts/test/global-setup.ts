// Vitest global setup for the integration project: one local stack (PostgreSQL, S3, workerd)
// for all integration test files. Each test makes its own accounts, so files do not collide.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { buildDocs } from '../docs/build-docs.ts';
import { PEER_BUCKET, type Stack, startStack } from '../stack/stack.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let stack: Stack | undefined;

export async function setup(project: TestProject) {
  // RESISTRO_SKIP_WEB_BUILD=1 reuses an existing web/dist while iterating on other parts.
  const build =
    process.env.RESISTRO_SKIP_WEB_BUILD === '1'
      ? { status: 0, stdout: '', stderr: '' }
      : spawnSync(
          process.execPath,
          [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'],
          {
            cwd: join(ROOT, 'web'),
            encoding: 'utf8',
          },
        );
  if (build.status !== 0) throw new Error(`web build failed:\n${build.stdout}\n${build.stderr}`);
  // The documentation is rebuilt every time (a fraction of a second): vite empties web/dist.
  buildDocs(join(ROOT, 'web/dist'));
  // Under the system temp folder, not the checkout: PostgreSQL runs as the postgres user (when we
  // are root), which may not be able to enter the folder the checkout lives in.
  const dataDir = mkdtempSync(join(tmpdir(), 'resistro-stack-'));
  chmodSync(dataDir, 0o755);
  stack = await startStack({
    dataDir,
    fast: true,
    // Short download URLs so a test can watch one expire.
    vars: { DOWNLOAD_URL_TTL_SECONDS: '15', PBKDF2_ITERATIONS: '100000' },
  });
  project.provide('stack', {
    url: stack.url,
    databaseUrl: stack.databaseUrl,
    s3Url: stack.s3.url,
    bucket: stack.s3.bucket,
    peerBucket: PEER_BUCKET,
    s3CopyUrl: stack.s3Copy.url,
    copyBucket: stack.s3Copy.bucket,
    sinkUrl: stack.sink.url,
    paddleUrl: stack.paddle.url,
    oidc: { issuer: stack.oidc.issuer, clientId: stack.oidc.clientId, clientSecret: stack.oidc.clientSecret },
    dataDir,
    vars: stack.vars,
  });
  return async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: {
      url: string;
      databaseUrl: string;
      s3Url: string;
      bucket: string;
      /** a second bucket on the same S3 server (server-side copies) */
      peerBucket: string;
      /** a second S3 server with its bucket, for second storage locations */
      s3CopyUrl: string;
      copyBucket: string;
      dataDir: string;
      sinkUrl: string;
      /** the local Paddle stand-in (its /__control routes play Paddle's side in tests) */
      paddleUrl: string;
      /** the local OIDC provider (scripts/stack/oidc.ts) */
      oidc: { issuer: string; clientId: string; clientSecret: string };
      /** the worker's variables, for a test file that starts a control plane of its own */
      vars: Record<string, string>;
    };
  }
}
