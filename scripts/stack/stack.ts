// The whole local service: PostgreSQL (metadata), the WebSocket proxy the Neon driver needs, the
// signature-checking S3 server, migrations, and the worker in `wrangler dev`. Used by `npm start`
// and by the integration tests, so both run the same thing.
import { join } from 'node:path';
import { applyMigrations } from './migrate.ts';
import { type OidcProvider, startOidcProvider } from './oidc.ts';
import { LOCAL_PADDLE, type PaddleStandIn, startPaddle } from './paddle.ts';
import { freePort } from './ports.ts';
import { type PostgresServer, startPostgres } from './postgres.ts';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, type S3Server, startS3 } from './s3.ts';
import { localDataEncryptionKeys } from './secrets.ts';
import { type SinkServer, startSink } from './sink.ts';
import { startWorker, type WorkerServer } from './worker.ts';
import { startWsProxy } from './ws-proxy.ts';

/** A second bucket on the stack's own S3 server: a second location at the same provider. */
export const PEER_BUCKET = 'resistro-backups-peer';

export type Stack = {
  url: string;
  pg: PostgresServer;
  databaseUrl: string;
  s3: S3Server;
  /** a second S3 server (another provider), for second storage locations */
  s3Copy: S3Server;
  /** records the e-mails and webhooks the worker sends (GET <sink>/messages) */
  sink: SinkServer;
  /** the local Paddle stand-in (API, Paddle.js checkout, signed webhooks to the worker) */
  paddle: PaddleStandIn;
  /** a local OpenID Connect provider for single sign-on (issuer, client id and secret) */
  oidc: OidcProvider;
  worker: WorkerServer;
  vars: Record<string, string>;
  /** run the cron handler as if the trigger fired at `at` */
  runCron(at?: Date): Promise<void>;
  stop(): Promise<void>;
};

/** The worker's variables on the local stack: its PostgreSQL, S3 server and mail/webhook sink. */
export function localWorkerVars(at: {
  databaseUrl: string;
  wsProxyPort: number;
  s3Url: string;
  bucket: string;
  /** the worker's own origin */
  url: string;
  sinkUrl: string;
  /** the local Paddle stand-in; without it billing is off (nothing billed or stopped) */
  paddleUrl?: string;
}): Record<string, string> {
  return {
    DATABASE_URL: at.databaseUrl,
    NEON_WS_PROXY: `127.0.0.1:${at.wsProxyPort}`,
    S3_ENDPOINT: at.s3Url,
    S3_REGION: 'us-east-1',
    S3_BUCKET: at.bucket,
    S3_ACCESS_KEY_ID,
    S3_SECRET_ACCESS_KEY,
    S3_FORCE_PATH_STYLE: 'true',
    // The local bucket is created with S3 Object Lock, so backups can be locked (docs/object-lock.md).
    S3_OBJECT_LOCK: 'true',
    // Local only: a fixed key that signs audit exports (production sets its own secret).
    AUDIT_SIGNING_KEY: 'cmVzaXN0cm8tbG9jYWwtYXVkaXQtc2lnbmluZy1rZXk=',
    APP_ORIGIN: at.url,
    // Alert e-mails and webhooks go to the local sink; http:// hook URLs are allowed locally.
    EMAIL_PROVIDER: 'http',
    EMAIL_HTTP_URL: `${at.sinkUrl}/email`,
    EMAIL_FROM: 'Resistro <alerts@resistro.local>',
    WEBHOOK_ALLOW_HTTP: 'true',
    ...(at.paddleUrl && paddleVars(at.paddleUrl)),
  };
}

/** Billing against the local Paddle stand-in (docs/billing.md: a real Paddle account instead). */
export function paddleVars(paddleUrl: string): Record<string, string> {
  const at = { paddleUrl };
  return {
    PADDLE_API_URL: at.paddleUrl,
    PADDLE_API_KEY: LOCAL_PADDLE.apiKey,
    PADDLE_WEBHOOK_SECRET: LOCAL_PADDLE.webhookSecret,
    PADDLE_CLIENT_TOKEN: LOCAL_PADDLE.clientToken,
    PADDLE_ENVIRONMENT: 'sandbox',
    PADDLE_JS_URL: `${at.paddleUrl}/paddle.js`,
    PADDLE_PRICE_STARTER: LOCAL_PADDLE.prices.starter,
    PADDLE_PRICE_BUSINESS: LOCAL_PADDLE.prices.business,
    PADDLE_PRICE_PROFESSIONAL: LOCAL_PADDLE.prices.professional,
    PADDLE_PRICE_ENTERPRISE: LOCAL_PADDLE.prices.enterprise,
    // the dashboard's CSP lets Paddle.js and its checkout frame come from the stand-in
    CHECKOUT_ORIGINS: at.paddleUrl,
  };
}

export async function startStack(opts: {
  dataDir: string;
  ports?: {
    worker?: number;
    pg?: number;
    s3?: number;
    wsProxy?: number;
    sink?: number;
    paddle?: number;
    oidc?: number;
  };
  fast?: boolean;
  /** where the S3 server keeps objects (default: <dataDir>/s3) */
  s3Dir?: string;
  vars?: Record<string, string>;
  log?: (s: string) => void;
}): Promise<Stack> {
  const ports = {
    worker: opts.ports?.worker ?? (await freePort()),
    pg: opts.ports?.pg ?? (await freePort()),
    s3: opts.ports?.s3 ?? (await freePort()),
    wsProxy: opts.ports?.wsProxy ?? (await freePort()),
    sink: opts.ports?.sink ?? (await freePort()),
    paddle: opts.ports?.paddle ?? (await freePort()),
    oidc: opts.ports?.oidc ?? (await freePort()),
  };
  const pg = await startPostgres({ dir: join(opts.dataDir, 'postgres'), port: ports.pg, fast: opts.fast });
  const stops: Array<() => Promise<void>> = [() => pg.stop()];
  try {
    await pg.createDatabase('resistro');
    const databaseUrl = pg.url('resistro');
    await applyMigrations(databaseUrl);
    const proxy = await startWsProxy({ port: ports.wsProxy, pgHost: '127.0.0.1', pgPort: ports.pg });
    stops.unshift(() => proxy.stop());
    const bucket = 'resistro-backups';
    const s3 = await startS3({
      dir: opts.s3Dir ?? join(opts.dataDir, 's3'),
      port: ports.s3,
      bucket,
      objectLock: true,
      // a second bucket at the same provider: a second location copied to server-side
      extraBuckets: [PEER_BUCKET],
    });
    stops.unshift(() => s3.stop());
    // A second S3 server: another provider for an account's second storage location (issue 18).
    const s3Copy = await startS3({
      dir: join(opts.dataDir, 's3-copy'),
      port: await freePort(),
      bucket: 'resistro-copies',
      objectLock: true,
    });
    stops.unshift(() => s3Copy.stop());
    const sink = await startSink({ port: ports.sink, certDir: join(opts.dataDir, 'sink-certs') });
    stops.unshift(() => sink.stop());
    const oidc = await startOidcProvider({ port: ports.oidc });
    stops.unshift(() => oidc.stop());
    // The worker's port was free when chosen, but PostgreSQL and the other servers start before
    // wrangler binds it, and on a shared machine another program may take it meanwhile: then a fresh
    // port, at most three times (only when no port was asked for).
    let url = '';
    let vars: Record<string, string> = {};
    // Paddle's webhooks go to the worker; its address is set once the worker's port is known.
    const paddle = await startPaddle({ port: ports.paddle, webhookUrl: '' });
    stops.unshift(() => paddle.stop());
    let worker: WorkerServer | undefined;
    for (let attempt = 1; !worker; attempt++) {
      const port = attempt === 1 ? ports.worker : await freePort();
      url = `http://127.0.0.1:${port}`;
      paddle.setWebhookUrl(`${url}/api/v1/billing/webhook`);
      vars = {
        ...localWorkerVars({
          databaseUrl,
          wsProxyPort: proxy.port,
          s3Url: s3.url,
          bucket,
          url,
          sinkUrl: sink.url,
          paddleUrl: paddle.url,
        }),
        // generated on the first start and kept in the data directory (TOTP seeds sealed with it
        // stay readable across restarts)
        DATA_ENCRYPTION_KEYS: localDataEncryptionKeys(opts.dataDir),
        ...opts.vars,
      };
      try {
        worker = await startWorker({
          port,
          vars,
          persistDir: join(opts.dataDir, 'wrangler'),
          log: opts.log,
          // The syslog stand-in's TLS certificate comes from a local CA the worker must trust.
          extraCaFile: sink.syslog.caFile,
        });
      } catch (e) {
        const taken = /address already in use/i.test((e as Error).message);
        if (!taken || opts.ports?.worker !== undefined || attempt >= 3) throw e;
        opts.log?.(`port ${port} was taken before wrangler bound it; trying another\n`);
      }
    }
    const started = worker;
    stops.unshift(() => started.stop());
    const runCron = async (at = new Date()) => {
      // Miniflare's trigger route sets controller.scheduledTime from `time` and answers after the
      // handler and its waitUntil work finished (500 if a job threw); /__scheduled does neither.
      const r = await fetch(
        `${url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent('* * * * *')}&time=${at.getTime()}`,
      );
      if (!r.ok) throw new Error(`cron run failed: ${r.status} ${await r.text()}`);
    };
    return {
      url,
      pg,
      databaseUrl,
      s3,
      s3Copy,
      sink,
      paddle,
      oidc,
      worker,
      vars,
      runCron,
      async stop() {
        for (const s of stops) await s().catch(() => {});
      },
    };
  } catch (e) {
    for (const s of stops) await s().catch(() => {});
    throw e;
  }
}
