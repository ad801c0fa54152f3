// /docs on the real worker (wrangler dev, static assets built by scripts/docs/): both languages,
// every link inside resolves, and the API page lists every operation of the route table.
import { ROUTES } from '@resistro/contract';
import { describe, expect, it } from 'vitest';
import { operationId } from '../../scripts/docs/openapi-html.ts';
import { stackInfo } from '../../scripts/test/api.ts';
import { DOC_LANGUAGES } from '../src/docs/pages.ts';

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${stackInfo().url}${path}`, { headers, redirect: 'manual' });

function links(html: string): string[] {
  return [...html.matchAll(/<a [^>]*href="([^"]+)"/g)].map((m) => m[1]!.replaceAll('&#38;', '&'));
}

function ids(html: string): Set<string> {
  return new Set([...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]!));
}

describe('documentation', () => {
  it('sends /docs to the language the browser asks for, English otherwise', async () => {
    const cases: [string | undefined, string][] = [
      ['de-DE,de;q=0.9,en;q=0.8', '/docs/de/'],
      ['en-US,en;q=0.9', '/docs/en/'],
      ['fr-FR,fr;q=0.9,de;q=0.5,en;q=0.4', '/docs/de/'],
      ['de;q=0.2,en;q=0.8', '/docs/en/'],
      ['ja', '/docs/en/'],
      [undefined, '/docs/en/'],
    ];
    for (const [accept, location] of cases) {
      const r = await get('/docs', accept ? { 'accept-language': accept } : {});
      expect(r.status, String(accept)).toBe(302);
      expect(r.headers.get('location'), String(accept)).toBe(location);
      expect(r.headers.get('vary')).toContain('Accept-Language');
    }
    expect((await get('/docs/', { 'accept-language': 'de' })).headers.get('location')).toBe('/docs/de/');
  });

  it('answers the start page in German and in English, each with a switch to the other', async () => {
    const de = await get('/docs/de/');
    expect(de.status).toBe(200);
    expect(de.headers.get('content-type')).toContain('text/html');
    const deHtml = await de.text();
    expect(deHtml).toContain('<html lang="de">');
    expect(deHtml).toContain('Erste Schritte');
    expect(deHtml).toContain('Agent installieren');
    expect(links(deHtml)).toContain('/docs/en/');

    const enHtml = await (await get('/docs/en/')).text();
    expect(enHtml).toContain('<html lang="en">');
    expect(enHtml).toContain('Getting started');
    expect(enHtml).not.toContain('Erste Schritte');
    expect(links(enHtml)).toContain('/docs/de/');
  });

  it('resolves every link inside the documentation, anchors included', async () => {
    for (const lang of DOC_LANGUAGES) {
      const seen = new Map<string, string>();
      const queue = [`/docs/${lang}/`];
      while (queue.length > 0) {
        const path = queue.shift()!;
        if (seen.has(path)) continue;
        const r = await get(path);
        expect(r.status, `${path}`).toBe(200);
        const html = await r.text();
        expect(html, path).toContain('data-docs-page=');
        seen.set(path, html);
        for (const href of links(html)) {
          const url = new URL(href, `http://docs.test${path}`);
          if (url.host !== 'docs.test' || !url.pathname.startsWith('/docs/')) continue;
          if (!seen.has(url.pathname)) queue.push(url.pathname);
        }
      }
      // every page of the navigation was reached, and every #anchor exists on its page
      expect(seen.size).toBeGreaterThanOrEqual(9);
      for (const [path, html] of seen) {
        for (const href of links(html)) {
          const url = new URL(href, `http://docs.test${path}`);
          if (url.host !== 'docs.test' || !url.hash) continue;
          const target = seen.get(url.pathname);
          expect(target, `${path} → ${href}`).toBeDefined();
          expect(ids(target!).has(decodeURIComponent(url.hash.slice(1))), `${path} → ${href}`).toBe(true);
        }
      }
    }
  });

  it('lists every operation of the API on the API page, in both languages', async () => {
    const openapi = (await (await get('/api/v1/openapi.json')).json()) as { paths: Record<string, object> };
    const operations = Object.entries(openapi.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => ({ method, path })),
    );
    expect(operations).toHaveLength(ROUTES.length);
    for (const lang of DOC_LANGUAGES) {
      const html = await (await get(`/docs/${lang}/api`)).text();
      const anchors = ids(html);
      for (const r of ROUTES) {
        expect(anchors.has(operationId(r.method, r.path)), `${lang} ${r.method} ${r.path}`).toBe(true);
        expect(html).toContain(`<code>/api/v1${r.path.replaceAll('&', '&#38;')}</code>`);
      }
    }
    // request fields are rendered from the schemas, not only the paths
    const en = await (await get('/docs/en/api')).text();
    expect(en).toContain('<code>partNumbers</code>');
  });

  it('renders the normative file format and the webhook signature check', async () => {
    const format = await (await get('/docs/de/format')).text();
    expect(format).toContain('Dateiformat');
    expect(format).toMatch(/<h2 id="[^"]+">/);
    const hooks = await (await get('/docs/en/webhooks')).text();
    expect(hooks).toContain('HMAC-SHA256');
    expect(hooks).toContain('timingSafeEqual');
  });

  it('answers 404 for pages and languages that do not exist, not the dashboard', async () => {
    for (const path of ['/docs/en/nope', '/docs/fr/', '/docs/en/restore/extra', '/docs/de/index.html']) {
      const r = await get(path);
      expect(r.status, path).toBe(404);
      const html = await r.text();
      expect(html, path).toContain('/docs/en/');
      expect(html, path).not.toContain('id="root"');
    }
    expect((await get('/docs/en')).headers.get('location')).toBe('/docs/en/');
    expect((await get('/docs/en/restore/')).headers.get('location')).toBe('/docs/en/restore');
  });
});
