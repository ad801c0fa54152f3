// A control plane of its own for the test files whose assertions depend on the cron's clock.
// The shared test stack's cron acts on every account at whatever time another test file gives
// it, so a file that checks exact backoff times would race those runs. This starts a second
// worker (real workerd) on its own database of the same PostgreSQL server, sharing the S3 server
// and the sink; `stackInfo()` then points at it for the rest of the file.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { applyMigrations } from '../stack/migrate.ts';
import { startPaddle } from '../stack/paddle.ts';
import { freePort } from '../stack/ports.ts';
import { type S3Server, startS3 } from '../stack/s3.ts';
import { paddleVars } from '../stack/stack.ts';
import { startWorker } from '../stack/worker.ts';
import { useControlPlane } from './api.ts';

export async function startIsolatedControlPlane(
  tag: string,
  /** ownS3: a primary S3 server of its own (the test may stop it), not the shared one */
  opts: { ownS3?: boolean } = {},
): Promise<{ stop(): Promise<void>; s3: S3Server | undefined }> {
  const shared = inject('stack');
  const name = `resistro_${tag.replace(/\W/g, '_')}_${process.pid}_${Date.now()}`.toLowerCase();
  const admin = new pg.Client({ connectionString: shared.databaseUrl });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(shared.databaseUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  await applyMigrations(databaseUrl);
  const persistDir = join(shared.dataDir, `wrangler-${name}`);
  mkdirSync(persistDir, { recursive: true });
  const port = await freePort();
  const s3 = opts.ownS3
    ? await startS3({
        dir: join(shared.dataDir, `s3-${name}`),
        port: await freePort(),
        bucket: shared.bucket,
        objectLock: true,
      })
    : undefined;
  // A Paddle stand-in of its own: its webhooks must reach this worker, not the shared one.
  const paddle = await startPaddle({
    port: await freePort(),
    webhookUrl: `http://127.0.0.1:${port}/api/v1/billing/webhook`,
  });
  const worker = await startWorker({
    port,
    vars: {
      ...shared.vars,
      ...paddleVars(paddle.url),
      DATABASE_URL: databaseUrl,
      APP_ORIGIN: `http://127.0.0.1:${port}`,
      ...(s3 && { S3_ENDPOINT: s3.url }),
    },
    persistDir,
    // the shared sink's syslog collector speaks TLS with a certificate of the stack's local CA
    extraCaFile: join(shared.dataDir, 'sink-certs', 'ca.pem'),
  }).catch(async (e) => {
    await paddle.stop();
    await s3?.stop();
    throw e;
  });
  const restore = useControlPlane({ url: worker.url, databaseUrl, paddleUrl: paddle.url });
  return {
    s3,
    async stop() {
      restore();
      await worker.stop();
      await paddle.stop();
      await s3?.stop();
      rmSync(persistDir, { recursive: true, force: true });
      const c = new pg.Client({ connectionString: shared.databaseUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
