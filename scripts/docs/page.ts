// The frame around every documentation page: navigation in the page's language, a switch to the
// same page in the other language, and a small stylesheet (/docs/style.css; the Content-Security-Policy
// allows no inline style).
import { DOC_LANGUAGES, type DocLanguage, type DocPage } from '../../worker/src/docs/pages.ts';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const LABELS: Record<DocLanguage, { docs: string; language: string; name: string; dashboard: string }> = {
  en: { docs: 'Resistro documentation', language: 'Language', name: 'English', dashboard: 'Dashboard' },
  de: { docs: 'Resistro-Dokumentation', language: 'Sprache', name: 'Deutsch', dashboard: 'Dashboard' },
};

export const DOCS_STYLE = `
body{margin:0;font:16px/1.55 system-ui,sans-serif;color:#1b1f24;background:#fff}
header{display:flex;gap:1rem;align-items:center;justify-content:space-between;padding:.75rem 1.5rem;border-bottom:1px solid #d8dee4}
header a{color:inherit;text-decoration:none;font-weight:600}
.wrap{display:flex;max-width:72rem;margin:0 auto}
nav{flex:0 0 14rem;padding:1.5rem 1rem;border-right:1px solid #eef1f4}
nav ul{list-style:none;margin:0;padding:0}nav li{margin:.25rem 0}
nav a{color:#0b5cad;text-decoration:none}nav a[aria-current]{font-weight:700;color:#1b1f24}
main{flex:1;min-width:0;padding:1.5rem 2rem 4rem}
pre{background:#f4f6f8;padding:.75rem 1rem;overflow-x:auto;border-radius:6px}
code{font:14px/1.45 ui-monospace,monospace}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #d8dee4;padding:.3rem .6rem;text-align:left;vertical-align:top}
.op{border-top:1px solid #d8dee4;padding-top:.5rem}.method{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase}
@media (max-width:48rem){.wrap{display:block}nav{border:0;padding-bottom:0}}
`;

export function pageHtml(opts: { lang: DocLanguage; page: DocPage; pages: DocPage[]; body: string }): string {
  const { lang, page, pages, body } = opts;
  const l = LABELS[lang];
  const href = (p: DocPage, language: DocLanguage = lang) => `/docs/${language}/${p.slug}`;
  const nav = pages
    .map(
      (p) =>
        `<li><a href="${href(p)}"${p === page ? ' aria-current="page"' : ''}>${escapeHtml(p.title[lang])}</a></li>`,
    )
    .join('');
  const switches = DOC_LANGUAGES.filter((other) => other !== lang)
    .map(
      (other) =>
        `<a href="${href(page, other)}" hreflang="${other}" lang="${other}">${escapeHtml(LABELS[other].name)}</a>`,
    )
    .join(' ');
  const alternates = DOC_LANGUAGES.map(
    (other) => `<link rel="alternate" hreflang="${other}" href="${href(page, other)}">`,
  ).join('');
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title[lang])} · ${escapeHtml(l.docs)}</title>
${alternates}
<link rel="stylesheet" href="/docs/style.css">
</head>
<body data-docs-page="${escapeHtml(page.slug || 'index')}">
<header><a href="/docs/${lang}/">${escapeHtml(l.docs)}</a><span>${escapeHtml(l.language)}: ${switches} · <a href="/">${escapeHtml(l.dashboard)}</a></span></header>
<div class="wrap">
<nav aria-label="${escapeHtml(l.docs)}"><ul>${nav}</ul></nav>
<main>
${body}
</main>
</div>
</body>
</html>
`;
}
