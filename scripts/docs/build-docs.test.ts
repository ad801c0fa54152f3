import { describe, expect, test } from 'vitest';
import { DOC_PAGES, pickDocLanguage } from '../../worker/src/docs/pages.ts';
import { headingId, rewriteHref } from './build-docs.ts';

describe('documentation build', () => {
  test('points links between the Markdown sources at the pages they become', () => {
    expect(rewriteHref('webhooks.md')).toBe('webhooks');
    expect(rewriteHref('install-agent.md#offline-behaviour')).toBe('install-agent#offline-behaviour');
    expect(rewriteHref('getting-started.md')).toBe('./');
    expect(rewriteHref('../agent/src/format/FORMAT.md')).toBe('format');
    expect(rewriteHref('https://example.com/x.md')).toBe('https://example.com/x.md');
    expect(rewriteHref('#signature')).toBe('#signature');
  });

  test('leaves no link to a page that is not built', () => {
    const withoutPrivileges = DOC_PAGES.filter((p) => p.slug !== 'privileges');
    expect(rewriteHref('privileges.md', withoutPrivileges)).toBeUndefined();
    expect(rewriteHref('privileges.md', DOC_PAGES)).toBe('privileges');
  });

  test('gives headings ids that survive umlauts and code', () => {
    expect(headingId('Unterstützte Versionen')).toBe('unterstutzte-versionen');
    expect(headingId('The <code>Resistro-Signature</code> header')).toBe('the-resistro-signature-header');
  });

  test('picks the language by Accept-Language weights, English when neither is asked for', () => {
    expect(pickDocLanguage('de-AT')).toBe('de');
    expect(pickDocLanguage('en;q=0.3, de;q=0.7')).toBe('de');
    expect(pickDocLanguage('fr, en;q=0.1')).toBe('en');
    expect(pickDocLanguage('de;q=0')).toBe('en');
    expect(pickDocLanguage(null)).toBe('en');
    expect(pickDocLanguage('x;q=abc, de')).toBe('de');
  });
});
