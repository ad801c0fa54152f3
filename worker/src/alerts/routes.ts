import { ListAlertsQuery } from '@resistro/contract';
import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { readId, readQuery } from '../lib/validate.ts';
import { requirePrincipal } from '../middleware/auth.ts';
import { acknowledgeAlert, findAlert, listAlerts, toAlert } from './alerts.ts';

export const alertRoutes = new Hono<AppEnv>()
  .get('/alerts', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    return c.json(await listAlerts(c.get('db'), p.accountId, readQuery(c, ListAlertsQuery)));
  })
  .get('/alerts/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    return c.json({ alert: toAlert(await findAlert(c.get('db'), p.accountId, readId(c, 'alert'))) });
  })
  .post('/alerts/:id/acknowledge', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    return c.json({
      alert: await acknowledgeAlert(c.get('db'), p.accountId, readId(c, 'alert'), c.get('now')),
    });
  });
