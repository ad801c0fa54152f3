import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { auditRequest } from '../audit/audit.ts';
import { requirePrincipal } from '../lib/principal.ts';
import {
  authenticateScrape,
  createMetricsToken,
  deleteMetricsToken,
  getMetricsToken,
  renderMetrics,
} from './metrics.ts';

/**
 * GET /metrics authenticates with its own token, not an API key or a session: it is mounted
 * before the authenticate middleware, which would refuse a bearer token that is not an API key.
 */
export const metricsScrapeRoutes = new Hono<AppEnv>().get('/metrics', async (c) => {
  const accountId = await authenticateScrape(c.get('db'), c.req.header('authorization'), c.get('now'));
  const body = await renderMetrics(c.get('db'), accountId, c.get('now'));
  return c.body(body, 200, {
    'content-type': 'text/plain; version=0.0.4; charset=utf-8',
    'cache-control': 'no-store',
  });
});

export const metricsTokenRoutes = new Hono<AppEnv>()
  .get('/metrics-token', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    return c.json({ token: await getMetricsToken(c.get('db'), p.accountId) });
  })
  .post('/metrics-token', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const created = await createMetricsToken(c.get('db'), p.accountId, c.get('now'));
    await auditRequest(c, 'metrics_token.created');
    return c.json(created, 201);
  })
  .delete('/metrics-token', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    await deleteMetricsToken(c.get('db'), p.accountId);
    await auditRequest(c, 'metrics_token.revoked');
    return c.body(null, 204);
  });
