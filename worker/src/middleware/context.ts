import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-types.ts';
import { createDb } from '../db.ts';
import { parseConfig } from '../env.ts';
import { createS3Storage } from '../storage/s3.ts';

/** Config, a per-request database pool (closed after the response) and storage. */
export const context = createMiddleware<AppEnv>(async (c, next) => {
  const config = parseConfig(c.env);
  const { db, close } = createDb(config);
  c.set('config', config);
  c.set('db', db);
  c.set('openDb', () => createDb(config));
  c.set('storage', createS3Storage(config.s3));
  c.set('now', new Date());
  c.set('principal', null);
  try {
    await next();
  } finally {
    c.executionCtx.waitUntil(close().catch(() => {}));
  }
});
