// /docs: the documentation, rendered at build time into static assets (scripts/docs/). The worker
// runs first here (wrangler.toml run_worker_first) so that /docs picks the reader's language and a
// page that does not exist is a 404 instead of the dashboard's single-page fallback.
import { Hono } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { DOC_LANGUAGES, DOC_PAGES, pickDocLanguage } from './pages.ts';

const SLUGS = new Set(DOC_PAGES.map((p) => p.slug));

function notFound(): Response {
  const body = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Not found</title>
<p>This page of the documentation does not exist. <a href="/docs/en/">Documentation</a></p>
<p lang="de">Diese Seite der Dokumentation gibt es nicht. <a href="/docs/de/">Dokumentation</a></p></html>`;
  return new Response(body, { status: 404, headers: { 'content-type': 'text/html; charset=utf-8' } });
}

export const docsRoutes = new Hono<AppEnv>()
  .get('/docs', (c) => {
    c.header('Vary', 'Accept-Language');
    c.header('Cache-Control', 'no-store');
    return c.redirect(`/docs/${pickDocLanguage(c.req.header('accept-language'))}/`, 302);
  })
  // the docs' stylesheet (the Content-Security-Policy allows no inline style)
  .get('/docs/style.css', (c) => (c.env.ASSETS ? c.env.ASSETS.fetch(c.req.raw) : notFound()))
  .get('/docs/*', async (c) => {
    const [lang = '', ...rest] = c.req.path.slice('/docs/'.length).split('/');
    if (lang === '') return c.redirect(`/docs/${pickDocLanguage(c.req.header('accept-language'))}/`, 302);
    if (!(DOC_LANGUAGES as readonly string[]).includes(lang)) return notFound();
    if (rest.length === 0) return c.redirect(`/docs/${lang}/`, 301);
    const path = rest.join('/');
    const slug = path.endsWith('/') && path !== '/' ? path.slice(0, -1) : path;
    if (!SLUGS.has(slug) || !c.env.ASSETS) return notFound();
    if (slug !== path) return c.redirect(`/docs/${lang}/${slug}`, 301);
    const asset = await c.env.ASSETS.fetch(new URL(`/docs/${lang}/${slug}`, c.req.url));
    // The assets' single-page fallback answers a missing file with the dashboard: not a docs page.
    if (!asset.ok || !(await asset.clone().text()).includes('data-docs-page')) return notFound();
    return asset;
  });
