import { HeartbeatBody } from '@resistro/contract';
import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readBody, readId } from '../lib/validate.ts';
import { deleteAgent, heartbeat } from './agent-work.ts';

/** The agent routes that need its databases: the heartbeat's work list and the delete guard. */
export const agentWorkRoutes = new Hono<AppEnv>()
  .post('/agent/heartbeat', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const input = await readBody(c, HeartbeatBody);
    return c.json(await heartbeat(c.get('db'), p, input, c.get('now')));
  })
  .delete('/agents/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    await deleteAgent(c.get('db'), p.accountId, readId(c, 'agent'));
    return c.body(null, 204);
  });
