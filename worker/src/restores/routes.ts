import {
  AgentRestoresQuery,
  CreateRestoreBody,
  FinishRestoreBody,
  ListRestoresQuery,
  type Restore,
  RestoreProgressBody,
} from '@resistro/contract';
import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { auditRequest, recordAudit, requestIp } from '../audit/audit.ts';
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

/** Which backup, where to, who asked, and (once over) the result and its duration; no secrets. */
function auditDetails(r: Restore): Record<string, unknown> {
  return {
    databaseId: r.databaseId,
    backupId: r.backupId,
    backupStartedAt: r.backupStartedAt,
    target: `${r.target.kind} ${r.target.host}:${r.target.port}/${r.target.database}`,
    replace: r.target.replace,
    requestedBy: r.requestedBy,
    state: r.state,
    ...(r.durationMs !== null && { durationMs: r.durationMs }),
    ...(r.errorCode && { errorCode: r.errorCode }),
  };
}

export const restoreRoutes = new Hono<AppEnv>()
  .post('/restores', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const input = await readBody(c, CreateRestoreBody);
    const restore = await createRestore(c.get('db'), p, input, c.get('now'));
    await auditRequest(c, 'restore.started', { kind: 'restore', id: restore.id }, auditDetails(restore));
    return c.json({ restore }, 202);
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
    const restore = await cancelRestore(c.get('db'), p.accountId, readId(c, 'restore'), c.get('now'));
    await auditRequest(c, 'restore.cancelled', { kind: 'restore', id: restore.id }, auditDetails(restore));
    return c.json({ restore });
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
    const restore = await finishRestore(c.get('db'), p.accountId, id, input, c.get('now'));
    if (restore.agentId)
      await recordAudit(c.get('db'), {
        accountId: p.accountId,
        actor: { kind: 'agent', agentId: restore.agentId },
        ip: requestIp(c),
        action: 'restore.finished',
        objectKind: 'restore',
        objectId: restore.id,
        details: auditDetails(restore),
      });
    return c.json({ restore });
  });
