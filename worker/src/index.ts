import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { requestLanguage } from './accounts/locale.ts';
import { agentWorkRoutes } from './agent-work/routes.ts';
import { agentRoutes } from './agents/routes.ts';
import { alertRoutes } from './alerts/routes.ts';
import { apiKeyRoutes } from './api-keys/routes.ts';
import type { AppEnv } from './app-types.ts';
import { auditRoutes } from './audit/routes.ts';
import { backupRoutes } from './backups/routes.ts';
import { billingSubscriptionPort } from './billing/closing-hooks.ts';
import { billingRoutes, billingWebhookRoutes } from './billing/routes.ts';
import { refuseBackupsWhenUnpaid } from './billing/stop-backups.ts';
import { refuseWritesWhenReadOnly } from './closing/read-only.ts';
import { closingRoutes } from './closing/routes.ts';
import { runScheduled } from './cron/index.ts';
import { databaseRoutes } from './databases/routes.ts';
import { dedupFileRoutes, dedupRoutes } from './dedup/routes.ts';
import { docsRoutes } from './docs/routes.ts';
import { downloadRoutes } from './downloads/routes.ts';
import type { Bindings } from './env.ts';
import { ApiError, errorEnvelope } from './errors.ts';
import { identityRoutes, ssoRoutes } from './identity/routes.ts';
import { installScript } from './install/install-script.ts';
import { metricsScrapeRoutes, metricsTokenRoutes } from './metrics/routes.ts';
import { authenticate, authorize, csrf } from './middleware/auth.ts';
import { context } from './middleware/context.ts';
import { securityHeaders } from './middleware/security-headers.ts';
import { notificationRoutes } from './notifications/routes.ts';
import { openApiDocument } from './openapi/openapi.ts';
import { pitrRoutes } from './pitr/routes.ts';
import { accountRoutes } from './plans/routes.ts';
import { restoreTestRoutes } from './restore-tests/routes.ts';
import { restoreRoutes } from './restores/routes.ts';
import { locationRoutes } from './retention/location-routes.ts';
import { retentionRoutes } from './retention/routes.ts';
import { teamRoutes } from './teams/routes.ts';

const api = new Hono<AppEnv>()
  .get('/health', (c) => c.json({ ok: true }))
  .get('/openapi.json', (c) => c.json(openApiDocument()))
  .use(
    bodyLimit({
      maxSize: 1024 * 1024,
      onError: () => {
        throw new ApiError('payload_too_large', 'The request body is larger than 1 MiB');
      },
    }),
  )
  .use(context)
  .use(csrf)
  // before authenticate: the scrape endpoint takes its own token, not an API key
  .route('/', metricsScrapeRoutes)
  .route('/', billingWebhookRoutes)
  // before authenticate: a deduplicated backup's download link is signed, like a presigned URL
  .route('/', dedupFileRoutes)
  .use(authenticate)
  .use(authorize)
  .use(refuseWritesWhenReadOnly)
  .use(refuseBackupsWhenUnpaid)
  .route('/', identityRoutes)
  .route('/', ssoRoutes)
  .route('/', accountRoutes)
  // billing ends the Paddle subscription at the paid period's end, and takes that back on reopen
  .route('/', closingRoutes(billingSubscriptionPort))
  .route('/', apiKeyRoutes)
  .route('/', agentRoutes)
  .route('/', agentWorkRoutes)
  .route('/', databaseRoutes)
  .route('/', backupRoutes)
  .route('/', dedupRoutes)
  .route('/', restoreRoutes)
  .route('/', restoreTestRoutes)
  .route('/', alertRoutes)
  .route('/', notificationRoutes)
  .route('/', metricsTokenRoutes)
  .route('/', teamRoutes)
  .route('/', auditRoutes)
  .route('/', retentionRoutes)
  .route('/', pitrRoutes)
  .route('/', locationRoutes)
  .route('/', billingRoutes);

const app = new Hono<AppEnv>();
app.use('*', securityHeaders);
app.route('/api/v1', api);
app.get('/install-agent.sh', (c) => installScript(c.req.raw, c.env));
app.route('/', docsRoutes);
app.route('/downloads', downloadRoutes);
// The worker runs first for every path (security headers); the rest is the dashboard's static
// files, with the assets' single-page fallback.
app.all('*', async (c, next) => {
  if (c.req.path.startsWith('/api/') || !c.env.ASSETS) return next();
  return c.env.ASSETS.fetch(c.req.raw);
});
app.notFound(async (c) =>
  c.json(errorEnvelope({ code: 'not_found', message: 'No such route' }, await requestLanguage(c)), 404),
);
app.onError(async (err, c) => {
  if (err instanceof ApiError) {
    if (err.code === 'rate_limited') c.header('Retry-After', '900');
    return c.json(errorEnvelope(err, await requestLanguage(c)), err.status as ContentfulStatusCode);
  }
  if (err instanceof HTTPException && err.status < 500) {
    const error = { code: 'bad_request' as const, message: 'The request could not be read' };
    return c.json(errorEnvelope(error, await requestLanguage(c)), 400);
  }
  console.error('unhandled error', c.req.method, new URL(c.req.url).pathname, err);
  const error = { code: 'internal' as const, message: 'Internal error; it has been logged' };
  return c.json(errorEnvelope(error, await requestLanguage(c)), 500);
});

export default {
  fetch: app.fetch,
  // Awaited (not waitUntil) so a run's failure marks the invocation failed in the logs.
  async scheduled(controller: ScheduledController, env: Bindings) {
    await runScheduled(env, controller.scheduledTime);
  },
} satisfies ExportedHandler<Bindings>;

export { app };
