import {
  AgentRestoresQuery,
  CreateRestoreBody,
  FinishRestoreBody,
  ListRestoresQuery,
  RestoreProgressBody,
} from '@resistro/contract';
import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readBody, readId, readQuery } from '../lib/validate.ts';
import {
  cancelRestore,
  claimRestore,
  createRestore,
  findRestore,
  finishRestore,
  listRestores,
  pendingRestoreJobs,
  reportRestoreProgress,
  toRestore,
} from './restores.ts';

export const restoreRoutes = new Hono<AppEnv>()
  .post('/restores', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const input = await readBody(c, CreateRestoreBody);
    return c.json({ restore: await createRestore(c.get('db'), p, input, c.get('now')) }, 202);
  })
  .get('/restores', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    return c.json({ items: await listRestores(c.get('db'), p.accountId, readQuery(c, ListRestoresQuery)) });
  })
  .get('/restores/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    return c.json({ restore: toRestore(await findRestore(c.get('db'), p.accountId, readId(c, 'restore'))) });
  })
  .post('/restores/:id/cancel', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    return c.json({
      restore: await cancelRestore(c.get('db'), p.accountId, readId(c, 'restore'), c.get('now')),
    });
  })
  .get('/agent/restores', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const q = readQuery(c, AgentRestoresQuery);
    return c.json({ items: await pendingRestoreJobs(c.get('db'), p.accountId, q.agentId) });
  })
  .post('/restores/:id/claim', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    return c.json({
      restore: await claimRestore(c.get('db'), p.accountId, readId(c, 'restore'), c.get('now')),
    });
  })
  .post('/restores/:id/progress', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'restore');
    const input = await readBody(c, RestoreProgressBody);
    return c.json(await reportRestoreProgress(c.get('db'), p.accountId, id, input, c.get('now')));
  })
  .post('/restores/:id/finish', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'restore');
    const input = await readBody(c, FinishRestoreBody);
    return c.json({ restore: await finishRestore(c.get('db'), p.accountId, id, input, c.get('now')) });
  });
