// GET /audit (cursor pages) and GET /audit/export (CSV or JSON, every matching entry), admins only
// (the route table's role).
import { AuditExportQuery, AuditQuery } from '@resistro/contract';
import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { streamBody } from '../lib/stream.ts';
import { readQuery } from '../lib/validate.ts';
import { auditRequest } from './audit.ts';
import { CSV_HEADER, csvLine, exportAuditBatches, listAudit } from './log.ts';

export const auditRoutes = new Hono<AppEnv>()
  .get('/audit', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    const q = readQuery(c, AuditQuery);
    return c.json(await listAudit(c.get('db'), p.accountId, q));
  })
  .get('/audit/export', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    const { format = 'csv', ...filter } = readQuery(c, AuditExportQuery);
    // The export is itself recorded (before, so it is in what an auditor receives).
    await auditRequest(c, 'audit.exported', undefined, { format, filter });
    const day = c.get('now').toISOString().slice(0, 10);
    // Streamed in keyset-paged batches (exportAuditBatches), whatever the log's length.
    const body = streamBody(c.get('openDb'), async function* (own) {
      yield format === 'csv' ? CSV_HEADER : '{"items":[';
      let first = true;
      for await (const batch of exportAuditBatches(own, p.accountId, filter)) {
        if (format === 'csv') yield batch.map(csvLine).join('');
        else {
          yield (first ? '' : ',') + batch.map((e) => JSON.stringify(e)).join(',');
          first = false;
        }
      }
      if (format !== 'csv') yield ']}';
    });
    return new Response(body, {
      headers: {
        'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
        'content-disposition': `attachment; filename="resistro-audit-${day}.${format}"`,
        'cache-control': 'no-store',
      },
    });
  });
