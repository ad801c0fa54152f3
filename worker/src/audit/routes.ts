// GET /audit (cursor pages) and GET /audit/export (CSV or JSON, every matching entry), admins only
// (the route table's role).
import { AuditExportQuery, AuditQuery } from '@resistro/contract';
import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readQuery } from '../lib/validate.ts';
import { auditRequest } from './audit.ts';
import { CSV_HEADER, csvLine, exportAudit, listAudit } from './log.ts';

export const auditRoutes = new Hono<AppEnv>()
  .get('/audit', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    const q = readQuery(c, AuditQuery);
    return c.json(await listAudit(c.get('db'), p.accountId, q));
  })
  .get('/audit/export', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    const { format = 'csv', ...filter } = readQuery(c, AuditExportQuery);
    const db = c.get('db');
    // The export is itself recorded (before, so it is in what an auditor receives).
    await auditRequest(c, 'audit.exported', undefined, { format, filter });
    const day = c.get('now').toISOString().slice(0, 10);
    // Built whole before answering: the request's database pool closes with the response.
    const parts: string[] = [];
    for await (const e of exportAudit(db, p.accountId, filter))
      parts.push(format === 'csv' ? csvLine(e) : JSON.stringify(e));
    const body = format === 'csv' ? CSV_HEADER + parts.join('') : `{"items":[${parts.join(',')}]}`;
    return new Response(body, {
      headers: {
        'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
        'content-disposition': `attachment; filename="resistro-audit-${day}.${format}"`,
        'cache-control': 'no-store',
      },
    });
  });
