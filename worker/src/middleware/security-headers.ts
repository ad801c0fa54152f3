// SECURITY: the headers every response carries (dashboard, API, docs, downloads, errors). The
// worker runs first for every path (wrangler.toml run_worker_first = true) so the dashboard's
// static files get them too. The policy allows no inline script or style: the dashboard and the
// docs load only their own files; the checkout (Paddle.js) origins come from configuration.
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-types.ts';

/** Paddle.js and its checkout frame in production (https://developer.paddle.com, Paddle.js CSP). */
export const DEFAULT_CHECKOUT_ORIGINS = [
  'https://cdn.paddle.com',
  'https://sandbox-cdn.paddle.com',
  'https://buy.paddle.com',
  'https://sandbox-buy.paddle.com',
];

/** Space- or comma-separated origins (CHECKOUT_ORIGINS); anything that is not an http(s) origin is dropped. */
export function parseOrigins(value: string | undefined): string[] {
  if (value === undefined) return DEFAULT_CHECKOUT_ORIGINS;
  const out: string[] = [];
  for (const part of value.split(/[\s,]+/)) {
    if (!part) continue;
    try {
      const u = new URL(part);
      if ((u.protocol === 'https:' || u.protocol === 'http:') && u.origin !== 'null') out.push(u.origin);
    } catch {
      // not a URL: never let it into the policy
    }
  }
  return out;
}

export function contentSecurityPolicy(checkoutOrigins: readonly string[]): string {
  const extra = checkoutOrigins.length ? ` ${checkoutOrigins.join(' ')}` : '';
  return [
    "default-src 'self'",
    `script-src 'self'${extra}`,
    `style-src 'self'${extra}`,
    `img-src 'self' data:${extra}`,
    "font-src 'self'",
    `connect-src 'self'${extra}`,
    `frame-src ${checkoutOrigins.length ? checkoutOrigins.join(' ') : "'none'"}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export const PERMISSIONS_POLICY =
  'accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(self), usb=(), interest-cohort=()';

const policyCache = new Map<string, string>();

export const securityHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const raw = c.env.CHECKOUT_ORIGINS as string | undefined;
  const key = raw ?? '\0default';
  let csp = policyCache.get(key);
  if (!csp) {
    csp = contentSecurityPolicy(parseOrigins(raw));
    policyCache.set(key, csp);
  }
  // Responses from the assets binding or fetch() have immutable headers: copy once.
  const res = new Response(c.res.body, c.res);
  res.headers.set('Content-Security-Policy', csp);
  res.headers.set('X-Content-Type-Options', 'nosniff');
  res.headers.set('X-Frame-Options', 'DENY');
  // strict-origin: never a path (reset and verification links carry tokens), only the origin, only over https
  res.headers.set('Referrer-Policy', 'strict-origin');
  res.headers.set('Permissions-Policy', PERMISSIONS_POLICY);
  res.headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  if (new URL(c.req.url).protocol === 'https:') {
    res.headers.set('Strict-Transport-Security', 'max-age=63072000; includeSubDomains');
  }
  c.res = undefined as unknown as Response;
  c.res = res;
});
