// Bindings as wrangler provides them (vars and secrets), parsed once into a typed Config.
import type { PlanId } from '@resistro/contract';
import * as v from 'valibot';

export type Bindings = {
  /** the built dashboard and agent downloads (web/dist) */
  ASSETS?: Fetcher;
  DATABASE_URL: string;
  /** local only: host:port of a WebSocket-to-TCP proxy in front of a plain PostgreSQL */
  NEON_WS_PROXY?: string;
  S3_ENDPOINT: string;
  S3_REGION: string;
  S3_BUCKET: string;
  S3_ACCESS_KEY_ID: string;
  S3_SECRET_ACCESS_KEY: string;
  S3_FORCE_PATH_STYLE?: string;
  /** how storage checks each uploaded part: 'sha256' (default) or 'md5' for providers without SHA-256 checksums */
  S3_PART_CHECKSUM?: string;
  /** 'true': the bucket was created with S3 Object Lock, so backups can be locked (docs/object-lock.md) */
  S3_OBJECT_LOCK?: string;
  /** SECURITY (secret): 32 random bytes in base64, the Ed25519 key that signs audit exports */
  AUDIT_SIGNING_KEY?: string;
  /**
   * SECURITY (secret): `<id>:<base64 32 bytes>[,<id>:<base64>…]`, AES-256-GCM keys that seal
   * secrets the service reads back (TOTP seeds); the first seals, all open (lib/secret-box.ts)
   */
  DATA_ENCRYPTION_KEYS?: string;
  APP_ORIGIN?: string;
  PART_URL_TTL_SECONDS?: string;
  DOWNLOAD_URL_TTL_SECONDS?: string;
  SESSION_TTL_HOURS?: string;
  PBKDF2_ITERATIONS?: string;
  /** alert e-mail: 'ses' (Amazon SES v2), 'http' (JSON POST, e.g. the local sink) or 'none' */
  EMAIL_PROVIDER?: string;
  EMAIL_FROM?: string;
  SES_REGION?: string;
  SES_ACCESS_KEY_ID?: string;
  SES_SECRET_ACCESS_KEY?: string;
  /** default https://email.<SES_REGION>.amazonaws.com */
  SES_ENDPOINT?: string;
  EMAIL_HTTP_URL?: string;
  EMAIL_HTTP_TOKEN?: string;
  /** 'true' allows http:// Slack/webhook URLs (local development); production requires https */
  WEBHOOK_ALLOW_HTTP?: string;
  /** Paddle Billing (docs/billing.md); without PADDLE_API_KEY nothing is billed or stopped */
  PADDLE_API_URL?: string;
  /** SECURITY: Worker secret */
  PADDLE_API_KEY?: string;
  /** SECURITY: Worker secret: the notification destination's secret key */
  PADDLE_WEBHOOK_SECRET?: string;
  /** Paddle's client-side token (public: Paddle.js in the browser uses it) */
  PADDLE_CLIENT_TOKEN?: string;
  PADDLE_ENVIRONMENT?: string;
  PADDLE_JS_URL?: string;
  PADDLE_PRICE_STARTER?: string;
  PADDLE_PRICE_BUSINESS?: string;
  PADDLE_PRICE_PROFESSIONAL?: string;
  PADDLE_PRICE_ENTERPRISE?: string;
  /** days after a failed payment (or a sign-up without payment) until new backups stop */
  BILLING_GRACE_DAYS?: string;
  [key: string]: unknown;
};

const Url = v.pipe(v.string(), v.url());
const IntString = (min: number, max: number, fallback: number) =>
  v.pipe(
    v.optional(v.string(), String(fallback)),
    v.transform(Number),
    v.integer(),
    v.minValue(min),
    v.maxValue(max),
  );

const ConfigSchema = v.object({
  DATABASE_URL: v.pipe(v.string(), v.regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')),
  NEON_WS_PROXY: v.optional(v.pipe(v.string(), v.minLength(1))),
  S3_ENDPOINT: Url,
  S3_REGION: v.optional(v.string(), 'auto'),
  S3_BUCKET: v.pipe(v.string(), v.minLength(3)),
  S3_ACCESS_KEY_ID: v.pipe(v.string(), v.minLength(1)),
  S3_SECRET_ACCESS_KEY: v.pipe(v.string(), v.minLength(1)),
  S3_FORCE_PATH_STYLE: v.optional(v.picklist(['true', 'false']), 'true'),
  S3_PART_CHECKSUM: v.optional(v.picklist(['sha256', 'md5']), 'sha256'),
  S3_OBJECT_LOCK: v.optional(v.picklist(['true', 'false']), 'false'),
  AUDIT_SIGNING_KEY: v.optional(v.pipe(v.string(), v.minLength(1))),
  DATA_ENCRYPTION_KEYS: v.optional(v.pipe(v.string(), v.minLength(1))),
  APP_ORIGIN: v.optional(Url),
  PART_URL_TTL_SECONDS: IntString(5, 7 * 24 * 3600, 900),
  DOWNLOAD_URL_TTL_SECONDS: IntString(1, 7 * 24 * 3600, 300),
  SESSION_TTL_HOURS: IntString(1, 24 * 90, 24 * 14),
  PBKDF2_ITERATIONS: IntString(1000, 100_000, 100_000),
  EMAIL_PROVIDER: v.optional(v.picklist(['none', 'ses', 'http']), 'none'),
  EMAIL_FROM: v.optional(
    v.pipe(v.string(), v.minLength(3), v.maxLength(320)),
    'Resistro <alerts@resistro.invalid>',
  ),
  SES_REGION: v.optional(v.pipe(v.string(), v.regex(/^[a-z0-9-]+$/))),
  SES_ACCESS_KEY_ID: v.optional(v.pipe(v.string(), v.minLength(1))),
  SES_SECRET_ACCESS_KEY: v.optional(v.pipe(v.string(), v.minLength(1))),
  SES_ENDPOINT: v.optional(Url),
  EMAIL_HTTP_URL: v.optional(Url),
  EMAIL_HTTP_TOKEN: v.optional(v.pipe(v.string(), v.minLength(1))),
  WEBHOOK_ALLOW_HTTP: v.optional(v.picklist(['true', 'false']), 'false'),
  PADDLE_API_URL: v.optional(Url, 'https://api.paddle.com'),
  PADDLE_API_KEY: v.optional(v.pipe(v.string(), v.minLength(1))),
  PADDLE_WEBHOOK_SECRET: v.optional(v.pipe(v.string(), v.minLength(1))),
  PADDLE_CLIENT_TOKEN: v.optional(v.pipe(v.string(), v.minLength(1))),
  PADDLE_ENVIRONMENT: v.optional(v.picklist(['sandbox', 'production']), 'production'),
  PADDLE_JS_URL: v.optional(Url, 'https://cdn.paddle.com/paddle/v2/paddle.js'),
  PADDLE_PRICE_STARTER: v.optional(v.pipe(v.string(), v.regex(/^pri_[a-z0-9]+$/))),
  PADDLE_PRICE_BUSINESS: v.optional(v.pipe(v.string(), v.regex(/^pri_[a-z0-9]+$/))),
  PADDLE_PRICE_PROFESSIONAL: v.optional(v.pipe(v.string(), v.regex(/^pri_[a-z0-9]+$/))),
  PADDLE_PRICE_ENTERPRISE: v.optional(v.pipe(v.string(), v.regex(/^pri_[a-z0-9]+$/))),
  BILLING_GRACE_DAYS: IntString(0, 90, 7),
});

export type BillingConfig =
  | { enabled: false }
  | {
      enabled: true;
      apiUrl: string;
      /** SECURITY: never logged, never sent anywhere but Paddle's API */
      apiKey: string;
      /** SECURITY: never logged; verifies Paddle-Signature */
      webhookSecret: string;
      clientToken: string;
      environment: 'sandbox' | 'production';
      scriptUrl: string;
      /** Paddle price id per plan */
      prices: Record<PlanId, string>;
      graceMs: number;
    };

/** Paddle's settings: all of them or none (billing off: a self-hosted service bills nothing). */
function billingConfig(o: v.InferOutput<typeof ConfigSchema>): BillingConfig {
  if (!o.PADDLE_API_KEY) return { enabled: false };
  const prices = {
    starter: o.PADDLE_PRICE_STARTER,
    business: o.PADDLE_PRICE_BUSINESS,
    professional: o.PADDLE_PRICE_PROFESSIONAL,
    enterprise: o.PADDLE_PRICE_ENTERPRISE,
  };
  const missing = [
    ...(o.PADDLE_WEBHOOK_SECRET ? [] : ['PADDLE_WEBHOOK_SECRET']),
    ...(o.PADDLE_CLIENT_TOKEN ? [] : ['PADDLE_CLIENT_TOKEN']),
    ...Object.entries(prices)
      .filter(([, id]) => !id)
      .map(([plan]) => `PADDLE_PRICE_${plan.toUpperCase()}`),
  ];
  if (missing.length > 0)
    throw new Error(`Worker misconfigured: PADDLE_API_KEY is set, so set ${missing.join(', ')} too`);
  return {
    enabled: true,
    apiUrl: o.PADDLE_API_URL.replace(/\/+$/, ''),
    apiKey: o.PADDLE_API_KEY,
    webhookSecret: o.PADDLE_WEBHOOK_SECRET!,
    clientToken: o.PADDLE_CLIENT_TOKEN!,
    environment: o.PADDLE_ENVIRONMENT,
    scriptUrl: o.PADDLE_JS_URL,
    prices: prices as Record<PlanId, string>,
    graceMs: o.BILLING_GRACE_DAYS * 86400_000,
  };
}

export type EmailConfig =
  | { provider: 'none' }
  | {
      provider: 'ses';
      from: string;
      region: string;
      accessKeyId: string;
      secretAccessKey: string;
      endpoint: string;
    }
  | { provider: 'http'; from: string; url: string; token: string | undefined };

/** The e-mail provider's settings; a provider without its settings is a misconfiguration. */
function emailConfig(o: v.InferOutput<typeof ConfigSchema>): EmailConfig {
  if (o.EMAIL_PROVIDER === 'ses') {
    if (!o.SES_REGION || !o.SES_ACCESS_KEY_ID || !o.SES_SECRET_ACCESS_KEY) {
      throw new Error(
        'Worker misconfigured: EMAIL_PROVIDER=ses needs SES_REGION, SES_ACCESS_KEY_ID and SES_SECRET_ACCESS_KEY',
      );
    }
    return {
      provider: 'ses',
      from: o.EMAIL_FROM,
      region: o.SES_REGION,
      accessKeyId: o.SES_ACCESS_KEY_ID,
      secretAccessKey: o.SES_SECRET_ACCESS_KEY,
      endpoint: (o.SES_ENDPOINT ?? `https://email.${o.SES_REGION}.amazonaws.com`).replace(/\/+$/, ''),
    };
  }
  if (o.EMAIL_PROVIDER === 'http') {
    if (!o.EMAIL_HTTP_URL) throw new Error('Worker misconfigured: EMAIL_PROVIDER=http needs EMAIL_HTTP_URL');
    return { provider: 'http', from: o.EMAIL_FROM, url: o.EMAIL_HTTP_URL, token: o.EMAIL_HTTP_TOKEN };
  }
  return { provider: 'none' };
}

export type Config = {
  databaseUrl: string;
  neonWsProxy: string | undefined;
  s3: {
    endpoint: string;
    region: string;
    bucket: string;
    accessKeyId: string;
    secretAccessKey: string;
    pathStyle: boolean;
    /** docs/checksums.md */
    partChecksum: 'sha256' | 'md5';
    /** the bucket was created with object lock (docs/object-lock.md) */
    objectLock: boolean;
  };
  appOrigin: string | undefined;
  /** signs audit exports (retention/audit-export.ts); undefined: signed exports are refused */
  auditSigningKey: string | undefined;
  /** DATA_ENCRYPTION_KEYS, checked; undefined: two-factor setup is refused (lib/secret-box.ts) */
  dataEncryptionKeys: string | undefined;
  partUrlTtlSeconds: number;
  downloadUrlTtlSeconds: number;
  sessionTtlMs: number;
  pbkdf2Iterations: number;
  email: EmailConfig;
  webhookAllowHttp: boolean;
  billing: BillingConfig;
};

/**
 * DATA_ENCRYPTION_KEYS has the form lib/secret-box.ts reads: `<id>:<32 bytes base64>`, comma
 * separated, ids unique. SECURITY: the message names entries by position and id, never a key.
 */
function checkKeyList(text: string): void {
  const ids = new Set<string>();
  text.split(',').forEach((entry, i) => {
    const m = /^\s*([A-Za-z0-9_-]{1,32}):([A-Za-z0-9+/_-]{43})=?\s*$/.exec(entry);
    if (!m)
      throw new Error(
        `Worker misconfigured: DATA_ENCRYPTION_KEYS entry ${i + 1} is not <id>:<32 random bytes in base64>`,
      );
    if (ids.has(m[1]!)) throw new Error(`Worker misconfigured: DATA_ENCRYPTION_KEYS names key ${m[1]} twice`);
    ids.add(m[1]!);
  });
}

const cache = new WeakMap<object, Config>();

/** Parse the bindings once per isolate; a misconfiguration names every bad variable. */
export function parseConfig(env: Bindings): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const result = v.safeParse(ConfigSchema, env);
  if (!result.success) {
    const names = result.issues.map((i) => v.getDotPath(i) ?? '?').join(', ');
    throw new Error(`Worker misconfigured: check the variables ${names}`);
  }
  const o = result.output;
  if (o.DATA_ENCRYPTION_KEYS !== undefined) checkKeyList(o.DATA_ENCRYPTION_KEYS);
  const config: Config = {
    databaseUrl: o.DATABASE_URL,
    neonWsProxy: o.NEON_WS_PROXY,
    s3: {
      endpoint: o.S3_ENDPOINT.replace(/\/+$/, ''),
      region: o.S3_REGION,
      bucket: o.S3_BUCKET,
      accessKeyId: o.S3_ACCESS_KEY_ID,
      secretAccessKey: o.S3_SECRET_ACCESS_KEY,
      pathStyle: o.S3_FORCE_PATH_STYLE === 'true',
      partChecksum: o.S3_PART_CHECKSUM,
      objectLock: o.S3_OBJECT_LOCK === 'true',
    },
    appOrigin: o.APP_ORIGIN?.replace(/\/+$/, ''),
    auditSigningKey: o.AUDIT_SIGNING_KEY,
    dataEncryptionKeys: o.DATA_ENCRYPTION_KEYS,
    partUrlTtlSeconds: o.PART_URL_TTL_SECONDS,
    downloadUrlTtlSeconds: o.DOWNLOAD_URL_TTL_SECONDS,
    sessionTtlMs: o.SESSION_TTL_HOURS * 3600_000,
    pbkdf2Iterations: o.PBKDF2_ITERATIONS,
    email: emailConfig(o),
    webhookAllowHttp: o.WEBHOOK_ALLOW_HTTP === 'true',
    billing: billingConfig(o),
  };
  cache.set(env, config);
  return config;
}
