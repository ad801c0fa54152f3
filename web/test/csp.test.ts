// The Content-Security-Policy in a real browser: the dashboard's pages and the docs load with no
// violation, and the shared browser helper does catch one (an injected inline script is blocked
// and reported), so every other browser test fails on a violation too.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signup, stackInfo } from '../../scripts/test/api.ts';
import { launchBrowser, logIn, openPage } from './browser.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe('content security policy in the browser', () => {
  it('blocks and reports an inline script, and cannot be framed', async () => {
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${stackInfo().url}/login`);
    await page.locator('#login-email').waitFor();
    const ran = await page.evaluate(async () => {
      const w = window as unknown as { inlineRan?: boolean };
      const s = document.createElement('script');
      s.textContent = 'window.inlineRan = true';
      document.body.append(s);
      const st = document.createElement('style');
      st.textContent = 'body { display: none }';
      document.head.append(st);
      await new Promise((r) => setTimeout(r, 200));
      return w.inlineRan === true;
    });
    expect(ran).toBe(false);
    await expect.poll(() => errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.join('\n')).toMatch(/CSP violation: script-src-elem blocked inline on \/login/);
    expect(errors.join('\n')).toMatch(/CSP violation: style-src-elem blocked inline/);
    // frame-ancestors 'none': a page on another origin that frames the dashboard gets nothing.
    await page.setContent(`<iframe src="${stackInfo().url}/login"></iframe>`);
    await page.waitForTimeout(500);
    const framed = page.frames().find((f) => f.url().includes('/login'));
    const text = framed ? await framed.evaluate(() => document.body?.textContent ?? '').catch(() => '') : '';
    expect(text).not.toContain('Log in');
    await context.close();
  });

  it('shows the dashboard pages and the docs without any violation', async () => {
    const { email, password } = await signup({ plan: 'business' });
    const { page, context, errors } = await openPage(browser);
    const url = stackInfo().url;
    await page.goto(`${url}/login`);
    await logIn(page, email, password);
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));
    for (const path of ['/', '/databases', '/backups', '/agents', '/alerts', '/settings', '/nope']) {
      await page.goto(`${url}${path}`);
      await page.waitForLoadState('networkidle');
    }
    for (const path of ['/docs/en/', '/docs/de/api', '/docs/en/faq']) {
      await page.goto(`${url}${path}`);
      // the stylesheet applied (it comes from /docs/style.css, not an inline <style>)
      const font = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
      expect(font).toContain('system-ui');
    }
    expect(errors).toEqual([]);
    await context.close();
  });
});
