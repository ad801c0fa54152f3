// Renders the documentation (docs/*.md in English, docs/de/*.md in German, the API from the
// OpenAPI document, the file format from agent/src/format/FORMAT.md) into static HTML under
// <out>/docs/<lang>/, which the worker serves at /docs. Runs in `npm run build` and before the
// integration tests.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Marked, type Tokens } from 'marked';
import { DOC_LANGUAGES, DOC_PAGES, type DocLanguage, type DocPage } from '../../worker/src/docs/pages.ts';
import { openApiDocument } from '../../worker/src/openapi/openapi.ts';
import { renderOpenApi } from './openapi-html.ts';
import { DOCS_STYLE, pageHtml } from './page.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Where a page's Markdown lives in a language. */
export function sourcePath(page: DocPage, lang: DocLanguage): string {
  return join(ROOT, 'docs', ...(lang === 'en' ? [] : [lang]), page.source);
}

/** The id a heading gets, so that links to #sections work ("Part URLs" → "part-urls"). */
export function headingId(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/<[^>]*>/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/**
 * Links between the Markdown files (`webhooks.md#signature`, `../agent/src/format/FORMAT.md`) are
 * written for reading the sources on GitHub; on the site they point to the page's slug.
 */
export function rewriteHref(href: string, pages: DocPage[] = DOC_PAGES): string | undefined {
  const [path = '', hash] = href.split('#');
  if (/^[a-z]+:/i.test(path) || path.startsWith('/') || !path.endsWith('.md')) return href;
  const file = path.split('/').at(-1) ?? '';
  const slug = file === 'FORMAT.md' ? 'format' : DOC_PAGES.find((p) => p.source === file)?.slug;
  const page = pages.find((p) => p.slug === slug);
  // A page left out of this build (its source missing) is not linked: never publish a dead link.
  if (!page) return undefined;
  const target = page.slug === '' ? './' : page.slug;
  return hash ? `${target}#${hash}` : target;
}

const UNLINKED = '\u0000unlinked';

function markdown(pages: DocPage[]): Marked {
  const m = new Marked({ gfm: true });
  m.use({
    walkTokens(token) {
      if (token.type !== 'link') return;
      const link = token as Tokens.Link;
      const href = rewriteHref(link.href, pages);
      if (href === undefined) console.warn(`docs: link to ${link.href} left as text (page not built)`);
      link.href = href ?? UNLINKED;
    },
    renderer: {
      link({ href, tokens }) {
        if (href === UNLINKED) return this.parser.parseInline(tokens);
        return false;
      },
      heading({ tokens, depth }) {
        const text = this.parser.parseInline(tokens);
        return `<h${depth} id="${headingId(text)}">${text}</h${depth}>\n`;
      },
    },
  });
  return m;
}

function readSource(page: DocPage, lang: DocLanguage): string {
  const file = sourcePath(page, lang);
  let text = readFileSync(file, 'utf8');
  // The format page is a short introduction in each language followed by the normative spec.
  if (page.slug === 'format') text += `\n\n${readFileSync(join(ROOT, 'agent/src/format/FORMAT.md'), 'utf8')}`;
  return text;
}

/** Writes every page in every language under `outDir/docs/`; returns the files written. */
export function buildDocs(outDir: string): string[] {
  const base = join(outDir, 'docs');
  rmSync(base, { recursive: true, force: true });
  const written: string[] = [];
  // A page is built only when it exists in every language (the worker answers 404 for the rest).
  const pages = DOC_PAGES.filter((page) => {
    const missing = DOC_LANGUAGES.filter(
      (lang) => page.source !== 'openapi' && !existsSync(sourcePath(page, lang)),
    );
    if (missing.length > 0)
      console.warn(`docs: /docs/*/${page.slug} left out: no ${missing.join(', ')} source`);
    return missing.length === 0;
  });
  const md = markdown(pages);
  mkdirSync(base, { recursive: true });
  writeFileSync(join(base, 'style.css'), DOCS_STYLE);
  written.push(join(base, 'style.css'));
  for (const lang of DOC_LANGUAGES) {
    mkdirSync(join(base, lang), { recursive: true });
    for (const page of pages) {
      const body =
        page.source === 'openapi'
          ? renderOpenApi(openApiDocument() as never, lang)
          : (md.parse(readSource(page, lang)) as string);
      const file = join(base, lang, page.slug === '' ? 'index.html' : `${page.slug}.html`);
      writeFileSync(file, pageHtml({ lang, page, pages, body }));
      written.push(file);
    }
  }
  return written;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = buildDocs(join(ROOT, 'web/dist'));
  console.log(`docs: ${files.length} pages`);
}
