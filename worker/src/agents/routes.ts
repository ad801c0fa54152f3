import { HeartbeatBody } from '@resistro/contract';
import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { readBody, readId } from '../lib/validate.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { deleteAgent, getAgent, heartbeat, listAgents } from './agents.ts';

export const agentRoutes = new Hono<AppEnv>()
  .post('/agent/heartbeat', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const input = await readBody(c, HeartbeatBody);
    return c.json(await heartbeat(c.get('db'), p, input, c.get('now')));
  })
  .get('/agents', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    return c.json({ items: await listAgents(c.get('db'), p.accountId, c.get('now')) });
  })
  .get('/agents/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    return c.json({ agent: await getAgent(c.get('db'), p.accountId, readId(c, 'agent'), c.get('now')) });
  })
  .delete('/agents/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    await deleteAgent(c.get('db'), p.accountId, readId(c, 'agent'));
    return c.body(null, 204);
  });
