// Bindings as wrangler provides them (vars and secrets), parsed once into a typed Config.
import * as v from 'valibot';

export type Bindings = {
  DATABASE_URL: string;
  /** local only: host:port of a WebSocket-to-TCP proxy in front of a plain PostgreSQL */
  NEON_WS_PROXY?: string;
  S3_ENDPOINT: string;
  S3_REGION: string;
  S3_BUCKET: string;
  S3_ACCESS_KEY_ID: string;
  S3_SECRET_ACCESS_KEY: string;
  S3_FORCE_PATH_STYLE?: string;
  APP_ORIGIN?: string;
  PART_URL_TTL_SECONDS?: string;
  DOWNLOAD_URL_TTL_SECONDS?: string;
  SESSION_TTL_HOURS?: string;
  PBKDF2_ITERATIONS?: string;
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
  APP_ORIGIN: v.optional(Url),
  PART_URL_TTL_SECONDS: IntString(5, 7 * 24 * 3600, 900),
  DOWNLOAD_URL_TTL_SECONDS: IntString(1, 7 * 24 * 3600, 300),
  SESSION_TTL_HOURS: IntString(1, 24 * 90, 24 * 14),
  PBKDF2_ITERATIONS: IntString(1000, 100_000, 100_000),
});

export type Config = {
  databaseUrl: string;
  neonWsProxy: string | undefined;
  s3: { endpoint: string; region: string; bucket: string; accessKeyId: string; secretAccessKey: string; pathStyle: boolean };
  appOrigin: string | undefined;
  partUrlTtlSeconds: number;
  downloadUrlTtlSeconds: number;
  sessionTtlMs: number;
  pbkdf2Iterations: number;
};

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
    },
    appOrigin: o.APP_ORIGIN?.replace(/\/+$/, ''),
    partUrlTtlSeconds: o.PART_URL_TTL_SECONDS,
    downloadUrlTtlSeconds: o.DOWNLOAD_URL_TTL_SECONDS,
    sessionTtlMs: o.SESSION_TTL_HOURS * 3600_000,
    pbkdf2Iterations: o.PBKDF2_ITERATIONS,
  };
  cache.set(env, config);
  return config;
}
