import { CreateApiKeyBody } from '@resistro/contract';
import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readBody, readId } from '../lib/validate.ts';
import { createApiKey, listApiKeys, revokeApiKey } from './api-keys.ts';

export const apiKeyRoutes = new Hono<AppEnv>()
  .get('/api-keys', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    return c.json({ items: await listApiKeys(c.get('db'), p.accountId) });
  })
  .post('/api-keys', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const input = await readBody(c, CreateApiKeyBody);
    return c.json(await createApiKey(c.get('db'), p.accountId, input, c.get('now')), 201);
  })
  .delete('/api-keys/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    await revokeApiKey(c.get('db'), p.accountId, readId(c, 'API key'), c.get('now'));
    return c.body(null, 204);
  });
