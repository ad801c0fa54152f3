// The one API client of the dashboard: same origin, session cookie. A 401 from anything but the
// auth routes means the session ended; the app shell then sends the user to the login page.
import { ApiClientError, createApiClient } from '@resistro/contract/client';
import { locale, t } from './i18n/index.ts';

export { ApiClientError };

let onUnauthorized: () => void = () => {};

/** The app shell registers how to react to an expired session (it owns the router). */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

const sessionAwareFetch: typeof fetch = async (input, init) => {
  // Before log-in (sign-up, log-in errors) the server answers in the language shown here;
  // afterwards in the account's, which the UI follows.
  const headers = new Headers(init?.headers);
  headers.set('accept-language', locale());
  const res = await fetch(input, { ...init, headers });
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (res.status === 401 && !url.includes('/v1/auth/')) queueMicrotask(() => onUnauthorized());
  return res;
};

export const api = createApiClient({
  endpoint: '/api',
  credentials: 'same-origin',
  fetch: sessionAwareFetch,
});
export type Api = typeof api;

/** What to show for a failed request: the server's own message, or ours for a lost connection. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiClientError) {
    if (error.code === 'network_error') return t('error.network');
    // No error envelope (a proxy's HTML page, say): its English text is not for the user.
    if (error.code === 'unexpected_response') return t('error.unexpected', { status: error.status });
    return error.message;
  }
  if (error instanceof Error) return error.message;
  return t('error.unknown');
}

export function isUnauthorized(error: unknown): boolean {
  return error instanceof ApiClientError && error.code === 'unauthorized';
}
