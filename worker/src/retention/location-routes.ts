// The second storage location's settings, the agent's side of a copy transfer, and downloads,
// which fall back to the copy when the primary storage cannot serve the backup (and say so).
import {
  backupFileName,
  CompleteCopyBody,
  CopyPartsBody,
  FailCopyBody,
  PutStorageLocationBody,
} from '@resistro/contract';
import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { auditRequest } from '../audit/audit.ts';
import { downloadUrl, findBackup } from '../backups/backups.ts';
import { ApiError } from '../errors.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readBody, readId } from '../lib/validate.ts';
import { completeTransfer, copyDownload, failTransfer, startTransfer, transferPartUrls } from './copies.ts';
import { deleteLocation, findLocation, putLocation, toStorageLocation } from './location.ts';

export const locationRoutes = new Hono<AppEnv>()
  .get('/storage-location', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    const row = await findLocation(c.get('db'), p.accountId);
    return c.json({ location: row ? toStorageLocation(row, c.get('config').s3) : null });
  })
  .put('/storage-location', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const input = await readBody(c, PutStorageLocationBody);
    const location = await putLocation(c.get('db'), c.get('config'), p.accountId, input, c.get('now'));
    // SECURITY: the audit entry names the bucket, never the keys
    await auditRequest(
      c,
      'storage_location.changed',
      { kind: 'account', id: p.accountId },
      { endpoint: location.endpoint, bucket: location.bucket, copies: location.copies },
    );
    return c.json({ location });
  })
  .delete('/storage-location', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    if (!(await deleteLocation(c.get('db'), p.accountId)))
      throw new ApiError('not_found', 'No second storage location is set');
    await auditRequest(c, 'storage_location.removed', { kind: 'account', id: p.accountId });
    return c.body(null, 204);
  })
  .post('/backups/:id/copy/start', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'backup');
    return c.json(
      await startTransfer(c.get('db'), c.get('storage'), c.get('config'), p.accountId, id, c.get('now')),
    );
  })
  .post('/backups/:id/copy/parts', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'backup');
    const input = await readBody(c, CopyPartsBody);
    return c.json(
      await transferPartUrls(c.get('db'), c.get('config'), p.accountId, id, input.parts, c.get('now')),
    );
  })
  .post('/backups/:id/copy/complete', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'backup');
    const input = await readBody(c, CompleteCopyBody);
    const copy = await completeTransfer(c.get('db'), c.get('config'), p.accountId, id, input, c.get('now'));
    return c.json({ copy });
  })
  .post('/backups/:id/copy/fail', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'agent');
    const id = readId(c, 'backup');
    const input = await readBody(c, FailCopyBody);
    const copy = await failTransfer(c.get('db'), c.get('config'), p.accountId, id, input.error, c.get('now'));
    return c.json({ copy });
  })
  .get('/backups/:id/download', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'download');
    const id = readId(c, 'backup');
    const db = c.get('db');
    const config = c.get('config');
    const now = c.get('now');
    let link: { url: string; fileName: string; expiresAt: string; source: 'primary' | 'copy' };
    try {
      link = {
        ...(await downloadUrl(db, c.get('storage'), config, p.accountId, id, now, new URL(c.req.url).origin)),
        source: 'primary',
      };
    } catch (e) {
      // The primary storage is down or lost the object: the verified copy, if there is one.
      if (!(e instanceof ApiError) || e.code !== 'storage_error') throw e;
      const backup = await findBackup(db, p.accountId, id);
      const url = await copyDownload(db, config, p.accountId, backup).catch(() => undefined);
      if (!url) throw e;
      const fileName = backupFileName(backup.databaseName, backup.startedAt);
      link = {
        url,
        fileName,
        expiresAt: new Date(now.getTime() + config.downloadUrlTtlSeconds * 1000).toISOString(),
        source: 'copy',
      };
    }
    await auditRequest(
      c,
      'backup.downloaded',
      { kind: 'backup', id },
      { fileName: link.fileName, source: link.source },
    );
    return c.json(link);
  });
