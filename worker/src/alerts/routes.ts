import { ListAlertsQuery } from '@resistro/contract';
import { Hono } from 'hono';
import { principalLocale } from '../accounts/locale.ts';
import type { AppEnv } from '../app-types.ts';
import { auditRequest } from '../audit/audit.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readId, readQuery } from '../lib/validate.ts';
import { acknowledgeAlert, findAlert, listAlerts, toAlert } from './alerts.ts';
import { localizeAlert, localizeAlerts } from './localize.ts';

export const alertRoutes = new Hono<AppEnv>()
  .get('/alerts', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    const list = await listAlerts(c.get('db'), p.accountId, readQuery(c, ListAlertsQuery));
    const locale = await principalLocale(c, p.accountId);
    return c.json({ ...list, items: await localizeAlerts(c.get('db'), locale, list.items) });
  })
  .get('/alerts/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    const row = await findAlert(c.get('db'), p.accountId, readId(c, 'alert'));
    return c.json({ alert: localizeAlert(toAlert(row), row, await principalLocale(c, p.accountId)) });
  })
  .post('/alerts/:id/acknowledge', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const alert = await acknowledgeAlert(c.get('db'), p.accountId, readId(c, 'alert'), c.get('now'));
    await auditRequest(c, 'alert.acknowledged', { kind: 'alert', id: alert.id });
    const locale = await principalLocale(c, p.accountId);
    return c.json({ alert: (await localizeAlerts(c.get('db'), locale, [alert]))[0] });
  });
