import {
  DedupHaveBody,
  DedupPackBody,
  DedupPackCompleteBody,
  DedupRefsBody,
  DedupSealBody,
} from '@resistro/contract';
import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { backups } from '../backups/backups.sql.ts';
import { ApiError } from '../errors.ts';
import { checkFileLink } from '../lib/file-link.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readBody, readId } from '../lib/validate.ts';
import {
  addRefs,
  collectGarbage,
  completePack,
  dedupUsage,
  haveChunks,
  readUrls,
  sealDedup,
  startPack,
} from './dedup.ts';
import { streamBackupFile } from './file.ts';

/** The agent's side of a deduplicated backup, and the account's usage. */
export const dedupRoutes = new Hono<AppEnv>()
  .post('/backups/:id/dedup/have', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'backup');
    const input = await readBody(c, DedupHaveBody);
    return c.json(await haveChunks(c.get('db'), p.accountId, id, input.ids));
  })
  .post('/backups/:id/dedup/packs', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'backup');
    const input = await readBody(c, DedupPackBody);
    const pack = await startPack(
      c.get('db'),
      c.get('storage'),
      c.get('config'),
      p.accountId,
      id,
      input,
      c.get('now'),
    );
    return c.json(pack, 201);
  })
  .post('/backups/:id/dedup/packs/:packId/complete', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'backup');
    const packId = readId(c, 'pack', 'packId');
    const input = await readBody(c, DedupPackCompleteBody);
    await completePack(c.get('db'), c.get('storage'), p.accountId, id, packId, input, c.get('now'));
    return c.body(null, 204);
  })
  .post('/backups/:id/dedup/refs', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'backup');
    const input = await readBody(c, DedupRefsBody);
    await addRefs(c.get('db'), p.accountId, id, input, c.get('now'));
    return c.body(null, 204);
  })
  .post('/backups/:id/dedup/seal', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'backup');
    const input = await readBody(c, DedupSealBody);
    await sealDedup(c.get('db'), c.get('storage'), p.accountId, id, input, c.get('now'));
    return c.body(null, 204);
  })
  .get('/backups/:id/dedup/reads', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'download');
    const id = readId(c, 'backup');
    return c.json(
      await readUrls(c.get('db'), c.get('storage'), c.get('config'), p.accountId, id, c.get('now')),
    );
  })
  .get('/dedup/usage', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    return c.json(await dedupUsage(c.get('db'), p.accountId));
  })
  .post('/dedup/collect', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const collected = await collectGarbage(c.get('db'), c.get('storage'), p.accountId, c.get('now'));
    // what it cost in storage requests (deletes, rewrites, merges), for the benchmark's figures
    return c.json({ ...collected, storageRequests: c.get('storage').requestCount });
  });

/** The signed download link of a deduplicated backup's single file (before authentication). */
export const dedupFileRoutes = new Hono<AppEnv>().get('/dedup/files/:id', async (c) => {
  const id = readId(c, 'backup');
  await checkFileLink(c.get('config'), id, c.req.query('expires'), c.req.query('sig'), c.get('now'));
  const [row] = await c.get('db').select().from(backups).where(eq(backups.id, id));
  if (!row || row.status !== 'succeeded' || !row.dedup) throw new ApiError('not_found', 'backup not found');
  return streamBackupFile(c.get('db'), c.get('storage'), c.get('config'), row);
});
