import { PutRetentionBody, RetentionPreviewBody } from '@resistro/contract';
import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readBody, readId } from '../lib/validate.ts';
import { getRule, previewRule, putRule } from './rules.ts';

export const retentionRoutes = new Hono<AppEnv>()
  .get('/databases/:id/retention', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    const id = readId(c, 'database');
    const lock = c.get('config').s3.objectLock;
    return c.json({ rule: await getRule(c.get('db'), p.accountId, id, lock) });
  })
  .put('/databases/:id/retention', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const id = readId(c, 'database');
    const input = await readBody(c, PutRetentionBody);
    const lock = c.get('config').s3.objectLock;
    return c.json({ rule: await putRule(c.get('db'), p.accountId, id, input, lock, c.get('now')) });
  })
  .post('/databases/:id/retention/preview', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    const id = readId(c, 'database');
    const input = await readBody(c, RetentionPreviewBody);
    return c.json(await previewRule(c.get('db'), p.accountId, id, input.tiers, c.get('now')));
  });
