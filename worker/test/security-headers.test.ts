// Issue 16 "hardened pages": every response of the served stack (dashboard files and its
// single-page fallback, docs, API answers and errors, install script, downloads) carries the
// security headers, and the served HTML has no inline script or style the policy would block.
import { describe, expect, it } from 'vitest';
import { Session, signup, stackInfo } from '../../scripts/test/api.ts';

/** CHECKOUT_ORIGINS as the stack sets it (billing's Paddle.js stand-in). */
function checkoutOrigins(): string[] {
  const raw = stackInfo().vars.CHECKOUT_ORIGINS;
  return raw
    ? raw
        .split(/[\s,]+/)
        .filter(Boolean)
        .map((o) => new URL(o).origin)
    : [];
}

function expectHardened(res: Response, what: string) {
  const csp = res.headers.get('content-security-policy') ?? '';
  const directives = new Map(
    csp.split(';').map((d) => {
      const [name = '', ...values] = d.trim().split(/\s+/);
      return [name, values] as const;
    }),
  );
  expect(directives.get('frame-ancestors'), what).toEqual(["'none'"]);
  expect(directives.get('default-src'), what).toEqual(["'self'"]);
  expect(directives.get('object-src'), what).toEqual(["'none'"]);
  expect(directives.get('base-uri'), what).toEqual(["'none'"]);
  for (const d of ['script-src', 'style-src']) {
    const values = directives.get(d) ?? [];
    expect(values[0], `${what} ${d}`).toBe("'self'");
    expect(values.join(' '), `${what} ${d}`).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    // besides our own origin only the configured checkout origins (the local Paddle stand-in),
    // never a bare scheme such as https: or data:
    expect(values.slice(1), `${what} ${d}`).toEqual(checkoutOrigins());
  }
  expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(res.headers.get('x-frame-options'), what).toBe('DENY');
  expect(res.headers.get('referrer-policy'), what).toBe('strict-origin');
  expect(res.headers.get('permissions-policy'), what).toMatch(/camera=\(\)/);
  // The local stack is plain http: HSTS is only sent over https (a browser ignores it on http).
  expect(res.headers.get('strict-transport-security'), what).toBeNull();
}

/** Inline <script> without src, inline <style>, style="" or on*="" handlers in served HTML. */
function inlineCode(html: string): string[] {
  const found: string[] = [];
  for (const m of html.matchAll(/<script\b([^>]*)>/gi)) if (!/\bsrc=/.test(m[1] ?? '')) found.push(m[0]);
  for (const m of html.matchAll(/<style\b[^>]*>/gi)) found.push(m[0]);
  for (const m of html.matchAll(/<[^>]+\s(style|on[a-z]+)\s*=/gi)) found.push(m[0]);
  return found;
}

describe('security headers on every served response', () => {
  it('dashboard pages, their assets, the docs, the API, errors, the installer and downloads', async () => {
    const { url } = stackInfo();
    const index = await fetch(`${url}/`);
    expect(index.status).toBe(200);
    const html = await index.text();
    expectHardened(index, '/');
    expect(inlineCode(html)).toEqual([]);
    const assets = [...html.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(2);
    const paths = [
      ...assets,
      '/login',
      '/settings',
      '/databases/00000000-0000-4000-8000-000000000000',
      '/docs',
      '/docs/en/',
      '/docs/de/',
      '/docs/en/faq',
      '/docs/de/api',
      '/docs/style.css',
      '/docs/en/no-such-page',
      '/api/v1/health',
      '/api/v1/auth/me',
      '/api/v1/no-such-route',
      '/install-agent.sh',
      '/downloads/resistro-linux-x64',
      '/downloads/no-such-file',
    ];
    for (const path of paths) {
      const res = await fetch(`${url}${path}`, { redirect: 'manual' });
      expect(res.status, path).toBeLessThan(500);
      expectHardened(res, path);
      if ((res.headers.get('content-type') ?? '').startsWith('text/html')) {
        expect(inlineCode(await res.text()), path).toEqual([]);
      } else await res.body?.cancel();
    }
    // the dashboard's single-page fallback still answers deep links with the app
    const deep = await fetch(`${url}/settings`);
    expect(await deep.text()).toContain('<div id="root">');
  });

  it('on answers to logged-in calls, errors and state changes, with the session cookie HttpOnly, Secure, SameSite', async () => {
    const s = new Session();
    const res = await s.fetch('/auth/signup', {
      method: 'POST',
      json: { email: `headers-${Date.now()}@example.test`, password: 'a long enough password' },
    });
    expect(res.status).toBe(201);
    expectHardened(res, 'signup');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=(Lax|Strict)/);
    expectHardened(await s.fetch('/databases'), 'GET /databases');
    expectHardened(await s.fetch('/databases', { method: 'POST', json: { bad: true } }), '422');
    const { session } = await signup();
    const cross = await session.fetch('/databases', {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
      json: {},
    });
    expect(cross.status).toBe(403);
    expectHardened(cross, 'cross-site 403');
  });
});
