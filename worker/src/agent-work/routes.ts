import { HeartbeatBody } from '@resistro/contract';
import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { auditRequest } from '../audit/audit.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readBody, readId } from '../lib/validate.ts';
import { deleteAgent, heartbeat } from './agent-work.ts';

/** The agent routes that need its databases: the heartbeat's work list and the delete guard. */
export const agentWorkRoutes = new Hono<AppEnv>()
  .post('/agent/heartbeat', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const input = await readBody(c, HeartbeatBody);
    const answer = await heartbeat(c.get('db'), p, input, c.get('now'), c.get('config').billing);
    // its first heartbeat registered it (created now)
    if (answer.agent.createdAt === c.get('now').toISOString())
      await auditRequest(
        c,
        'agent.registered',
        { kind: 'agent', id: answer.agent.id },
        { hostname: answer.agent.hostname },
      );
    return c.json(answer);
  })
  .delete('/agents/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const id = readId(c, 'agent');
    await deleteAgent(c.get('db'), p.accountId, id);
    await auditRequest(c, 'agent.removed', { kind: 'agent', id });
    return c.body(null, 204);
  });
