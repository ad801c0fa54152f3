import {
  CompleteBackupBody,
  FailBackupBody,
  ListBackupsQuery,
  PartUrlsBody,
  StartBackupBody,
} from '@resistro/contract';
import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readBody, readId, readQuery } from '../lib/validate.ts';
import { downloadUrl, findBackup, listBackups, presignParts, startBackup, toBackup } from './backups.ts';
import { completeBackup, failBackup } from './finish.ts';
import { deleteBackup } from './remove.ts';

export const backupRoutes = new Hono<AppEnv>()
  .get('/backups', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    return c.json(await listBackups(c.get('db'), p.accountId, readQuery(c, ListBackupsQuery)));
  })
  .post('/backups', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const input = await readBody(c, StartBackupBody);
    const checksum = c.get('config').s3.partChecksum;
    return c.json(
      await startBackup(c.get('db'), c.get('storage'), p.accountId, input, c.get('now'), checksum),
      201,
    );
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
    return c.json({
      backup: await completeBackup(c.get('db'), c.get('storage'), p.accountId, id, input, c.get('now')),
    });
  })
  .post('/backups/:id/fail', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'backup');
    const input = await readBody(c, FailBackupBody);
    return c.json({
      backup: await failBackup(c.get('db'), c.get('storage'), p.accountId, id, input, c.get('now')),
    });
  })
  .get('/backups/:id/download', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'download');
    const id = readId(c, 'backup');
    return c.json(
      await downloadUrl(c.get('db'), c.get('storage'), c.get('config'), p.accountId, id, c.get('now')),
    );
  })
  .delete('/backups/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    await deleteBackup(c.get('db'), c.get('storage'), p.accountId, readId(c, 'backup'));
    return c.body(null, 204);
  });
