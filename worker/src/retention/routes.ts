import { BackupAuditExportQuery, PutRetentionBody, RetentionPreviewBody } from '@resistro/contract';
import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { auditRequest } from '../audit/audit.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readBody, readId, readQuery } from '../lib/validate.ts';
import { exportRows, publicKeyInfo, signedExport, signingKey, toCsv } from './audit-export.ts';
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
    const doc = await exportRows(c.get('db'), p.accountId, id);
    await auditRequest(c, 'retention.audit_exported', { kind: 'database', id: doc.database.id }, { format });
    const name = `resistro-audit-${doc.database.id}.${format}`;
    c.header('content-disposition', `attachment; filename="${name}"`);
    if (format === 'csv') {
      c.header('content-type', 'text/csv; charset=utf-8');
      return c.body(toCsv(doc));
    }
    const key = await signingKey(c.get('config').auditSigningKey);
    return c.json(await signedExport({ ...doc, generatedAt: c.get('now').toISOString() }, key));
  })
  .get('/audit-signing-key', async (c) => {
    requirePrincipal(c.get('principal'), 'read');
    return c.json(publicKeyInfo(await signingKey(c.get('config').auditSigningKey)));
  });
