import { BackupAuditExportQuery, PutRetentionBody, RetentionPreviewBody } from '@resistro/contract';
import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { auditRequest } from '../audit/audit.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { streamBody } from '../lib/stream.ts';
import { readBody, readId, readQuery } from '../lib/validate.ts';
import {
  CSV_HEADER,
  csvLines,
  exportBatches,
  exportSubject,
  publicKeyInfo,
  signedExportChunks,
  signingKey,
} from './audit-export.ts';
import { getRule, previewRule, putRule } from './rules.ts';

export const retentionRoutes = new Hono<AppEnv>()
  .get('/databases/:id/retention', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    const id = readId(c, 'database');
    const lock = c.get('config').s3.objectLock;
    return c.json({ rule: await getRule(c.get('db'), p.accountId, id, lock) });
  })
  .put('/databases/:id/retention', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const id = readId(c, 'database');
    const input = await readBody(c, PutRetentionBody);
    const lock = c.get('config').s3.objectLock;
    const rule = await putRule(c.get('db'), p.accountId, id, input, lock, c.get('now'));
    await auditRequest(
      c,
      'retention.rule_changed',
      { kind: 'database', id: rule.databaseId },
      {
        mode: rule.mode,
        tiers: rule.tiers,
        objectLock: rule.objectLock,
      },
    );
    return c.json({ rule });
  })
  .post('/databases/:id/retention/preview', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    const id = readId(c, 'database');
    const input = await readBody(c, RetentionPreviewBody);
    return c.json(await previewRule(c.get('db'), p.accountId, id, input.tiers, c.get('now')));
  })
  .get('/databases/:id/audit-export', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    const id = readId(c, 'database');
    const { format } = readQuery(c, BackupAuditExportQuery);
    // checked before anything streams: another account's database is 404, a missing key 409
    const database = await exportSubject(c.get('db'), p.accountId, id);
    const key = format === 'csv' ? undefined : await signingKey(c.get('config').auditSigningKey);
    await auditRequest(c, 'retention.audit_exported', { kind: 'database', id: database.id }, { format });
    const generatedAt = c.get('now').toISOString();
    // streamed in keyset batches with a pool of its own (lib/stream.ts), however many backups
    const body = streamBody(c.get('openDb'), async function* (own) {
      const batches = exportBatches(own, p.accountId, database.id);
      if (!key) {
        yield CSV_HEADER;
        for await (const batch of batches) yield csvLines(batch);
      } else yield* signedExportChunks({ database, generatedAt }, batches, key);
    });
    return new Response(body, {
      headers: {
        'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
        'content-disposition': `attachment; filename="resistro-audit-${database.id}.${format}"`,
        'cache-control': 'no-store',
      },
    });
  })
  .get('/audit-signing-key', async (c) => {
    requirePrincipal(c.get('principal'), 'read');
    return c.json(publicKeyInfo(await signingKey(c.get('config').auditSigningKey)));
  });
