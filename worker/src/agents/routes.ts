import { PageQuery } from '@resistro/contract';
import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readId, readQuery } from '../lib/validate.ts';
import { getAgent, listAgents } from './agents.ts';

// The heartbeat and deleting an agent need the databases too: agent-work/routes.ts.
export const agentRoutes = new Hono<AppEnv>()
  .get('/agents', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    return c.json(await listAgents(c.get('db'), p.accountId, c.get('now'), readQuery(c, PageQuery)));
  })
  .get('/agents/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    return c.json({ agent: await getAgent(c.get('db'), p.accountId, readId(c, 'agent'), c.get('now')) });
  });
