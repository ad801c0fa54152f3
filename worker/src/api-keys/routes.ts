import { CreateApiKeyBody, PageQuery } from '@resistro/contract';
import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { auditRequest } from '../audit/audit.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readBody, readId, readQuery } from '../lib/validate.ts';
import { createApiKey, listApiKeys, revokeApiKey } from './api-keys.ts';

export const apiKeyRoutes = new Hono<AppEnv>()
  .get('/api-keys', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    return c.json(await listApiKeys(c.get('db'), p.accountId, readQuery(c, PageQuery)));
  })
  .post('/api-keys', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const input = await readBody(c, CreateApiKeyBody);
    const created = await createApiKey(c.get('db'), p.accountId, input, p, c.get('now'));
    await auditRequest(
      c,
      'api_key.created',
      { kind: 'api_key', id: created.apiKey.id },
      { name: created.apiKey.name, scope: created.apiKey.scope, role: created.apiKey.role },
    );
    return c.json(created, 201);
  })
  .delete('/api-keys/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const id = readId(c, 'API key');
    const key = await revokeApiKey(c.get('db'), p.accountId, id, p, c.get('now'));
    await auditRequest(c, 'api_key.revoked', { kind: 'api_key', id }, { name: key.name });
    return c.body(null, 204);
  });
