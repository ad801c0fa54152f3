import {
  CompleteBackupBody,
  FailBackupBody,
  ListBackupsQuery,
  PartUrlsBody,
  StartBackupBody,
} from '@resistro/contract';
import { type Context, Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { auditRequest, principalActor, recordAudit, requestIp } from '../audit/audit.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readBody, readId, readQuery } from '../lib/validate.ts';
import { findBackup, listBackups, presignParts, startBackup, toBackup } from './backups.ts';
import { completeBackup, failBackup } from './finish.ts';
import { deleteBackup } from './remove.ts';

/** An agent's step of a backup: by the agent that runs it (else the API key that called). */
async function auditAgent(
  c: Context<AppEnv>,
  action: string,
  b: { id: string; databaseId: string; agentId: string | null; status: string; sizeBytes: number | null },
) {
  const p = c.get('principal');
  if (!p) return;
  const actor = b.agentId ? { kind: 'agent' as const, agentId: b.agentId } : principalActor(p);
  if (!actor) return;
  await recordAudit(c.get('db'), {
    accountId: p.accountId,
    actor,
    ip: requestIp(c),
    action,
    objectKind: 'backup',
    objectId: b.id,
    details: {
      database: b.databaseId,
      status: b.status,
      ...(b.sizeBytes !== null && { sizeBytes: b.sizeBytes }),
    },
  });
}

export const backupRoutes = new Hono<AppEnv>()
  .get('/backups', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    return c.json(await listBackups(c.get('db'), p.accountId, readQuery(c, ListBackupsQuery)));
  })
  .post('/backups', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const input = await readBody(c, StartBackupBody);
    const checksum = c.get('config').s3.partChecksum;
    const started = await startBackup(
      c.get('db'),
      c.get('storage'),
      p.accountId,
      input,
      c.get('now'),
      checksum,
    );
    await auditAgent(c, 'backup.started', started.backup);
    return c.json(started, 201);
  })
  .get('/backups/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'download');
    return c.json({ backup: toBackup(await findBackup(c.get('db'), p.accountId, readId(c, 'backup'))) });
  })
  .post('/backups/:id/parts', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'backup');
    const input = await readBody(c, PartUrlsBody);
    return c.json(
      await presignParts(
        c.get('db'),
        c.get('storage'),
        c.get('config'),
        p.accountId,
        id,
        input,
        c.get('now'),
      ),
    );
  })
  .post('/backups/:id/complete', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'backup');
    const input = await readBody(c, CompleteBackupBody);
    const backup = await completeBackup(c.get('db'), c.get('storage'), p.accountId, id, input, c.get('now'));
    await auditAgent(c, backup.status === 'succeeded' ? 'backup.completed' : 'backup.failed', backup);
    return c.json({ backup });
  })
  .post('/backups/:id/fail', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'backup');
    const input = await readBody(c, FailBackupBody);
    const backup = await failBackup(c.get('db'), c.get('storage'), p.accountId, id, input, c.get('now'));
    await auditAgent(c, 'backup.failed', backup);
    return c.json({ backup });
  })
  .delete('/backups/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const id = readId(c, 'backup');
    await deleteBackup(c.get('db'), c.get('storage'), p.accountId, id);
    await auditRequest(c, 'backup.deleted', { kind: 'backup', id });
    return c.body(null, 204);
  });
