import type { Account } from '@resistro/contract/schemas';
import { cleanup, fireEvent, render, screen, waitFor } from '@solidjs/testing-library';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { locale, setLocale } from '../i18n/index.ts';
import { dayBoundary, formatDateTime } from '../lib/format.ts';
import { me, setSession } from '../lib/session.ts';
import { stubApi } from '../test-utils.tsx';
import { LangSwitch } from './lang-switch.tsx';
import { LanguageSection } from './settings-language.tsx';

const ACCOUNT: Account = {
  id: '11111111-1111-4111-8111-111111111111',
  plan: 'starter',
  limits: { maxDatabases: 1, maxRetentionDays: 7, storageBytes: 10_000_000_000 },
  usage: { databases: 0, storageBytes: 0 },
  alertEmails: ['ops@example.test'],
  verifiedAlertEmails: ['ops@example.test'],
  require2fa: false,
  language: 'en',
  timeZone: 'UTC',
  closing: null,
  createdAt: '2026-11-01T10:00:00.000Z',
};
const USER = {
  id: '22222222-2222-4222-8222-222222222222',
  email: 'ops@example.test',
  role: 'owner' as const,
  canDownload: true,
  createdAt: ACCOUNT.createdAt,
  emailVerified: true,
  twoFactorEnabled: false,
};

beforeEach(() => {
  // A few zones instead of the runtime's 400+: jsdom builds and queries every <option> slowly.
  vi.spyOn(Intl, 'supportedValuesOf').mockReturnValue(['America/New_York', 'Europe/Berlin', 'Europe/Vienna']);
  setLocale('en');
  setSession({ user: USER, account: ACCOUNT });
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  setSession(null);
});

describe('language and time zone in the settings', () => {
  it('saves the choice for the account and switches the whole dashboard to it', async () => {
    const calls = stubApi((_method, _path, body) => ({
      status: 200,
      body: { account: { ...ACCOUNT, ...(body as object) } },
    }));
    render(() => <LanguageSection account={me()!.account} />);
    expect(screen.getByText('Language and time zone', { selector: 'h2' })).toBeTruthy();
    const save = screen.getByText('Save', { selector: 'button' }) as HTMLButtonElement;
    expect(save.disabled).toBe(true);

    fireEvent.change(screen.getByLabelText('Language'), { target: { value: 'de' } });
    fireEvent.change(screen.getByLabelText('Time zone'), { target: { value: 'Europe/Berlin' } });
    fireEvent.click(save);

    await waitFor(() => expect(locale()).toBe('de'));
    expect(calls).toEqual([
      { method: 'PATCH', path: '/account', body: { language: 'de', timeZone: 'Europe/Berlin' } },
    ]);
    expect(me()?.account).toMatchObject({ language: 'de', timeZone: 'Europe/Berlin' });
    expect(screen.getByText('Sprache und Zeitzone', { selector: 'h2' })).toBeTruthy();
    // Dates follow the account's zone and language: 04:30 UTC is 05:30 in Berlin in winter.
    expect(formatDateTime('2026-12-02T04:30:00Z')).toBe('02.12.2026, 05:30');
  });

  it("shows the server's field message when the time zone is refused", async () => {
    stubApi(() => ({
      status: 422,
      body: {
        error: {
          code: 'validation_failed',
          message: 'Invalid input: timeZone is not a known time zone',
          fields: { timeZone: 'is not a known time zone' },
        },
      },
    }));
    render(() => <LanguageSection account={me()!.account} />);
    fireEvent.change(screen.getByLabelText('Language'), { target: { value: 'de' } });
    fireEvent.click(screen.getByText('Save', { selector: 'button' }));
    expect(await screen.findByText('is not a known time zone')).toBeTruthy();
    expect(locale()).toBe('en');
  });

  it('makes the header language switch change the account language once logged in', async () => {
    const calls = stubApi((_method, _path, body) => ({
      status: 200,
      body: { account: { ...ACCOUNT, ...(body as object) } },
    }));
    render(() => <LangSwitch />);
    fireEvent.change(screen.getByLabelText('Language'), { target: { value: 'de' } });
    await waitFor(() => expect(me()?.account.language).toBe('de'));
    expect(calls).toEqual([{ method: 'PATCH', path: '/account', body: { language: 'de' } }]);
    expect(locale()).toBe('de');
  });

  it('switched to German and straight back, the account and the dashboard end in English', async () => {
    // the server answers the first change only after the second was chosen
    let serverLanguage = 'en';
    const answers: Array<() => void> = [];
    const calls: Array<{ body: unknown }> = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (_url: string, init: RequestInit = {}) => {
        const body = JSON.parse(String(init.body)) as { language: string };
        calls.push({ body });
        if (calls.length === 1) await new Promise<void>((resolve) => answers.push(resolve));
        serverLanguage = body.language;
        return new Response(JSON.stringify({ account: { ...ACCOUNT, language: serverLanguage } }), {
          status: 200,
          headers: { 'content-type': 'application/json' },
        });
      }),
    );
    render(() => <LangSwitch />);
    fireEvent.change(screen.getByLabelText('Language'), { target: { value: 'de' } });
    await waitFor(() => expect(answers).toHaveLength(1));
    fireEvent.change(screen.getByLabelText('Sprache'), { target: { value: 'en' } });
    answers.shift()?.();
    await waitFor(() => expect(calls).toHaveLength(2));
    await waitFor(() => expect(me()?.account.language).toBe('en'));
    // sent in the order chosen, so the server keeps the last choice
    expect(calls.map((c) => c.body)).toEqual([{ language: 'de' }, { language: 'en' }]);
    expect(serverLanguage).toBe('en');
    expect(locale()).toBe('en');
  });

  it('takes the language of the account that logs in', () => {
    setSession({ user: USER, account: { ...ACCOUNT, language: 'de', timeZone: 'America/New_York' } });
    expect(locale()).toBe('de');
    expect(formatDateTime('2026-12-02T04:30:00Z')).toBe('01.12.2026, 23:30');
  });

  it("filters by days of the account's time zone, across a daylight-saving change", () => {
    setSession({ user: USER, account: { ...ACCOUNT, timeZone: 'America/New_York' } });
    expect(dayBoundary('2026-12-01', false)).toBe('2026-12-01T05:00:00.000Z');
    expect(dayBoundary('2026-12-01', true)).toBe('2026-12-02T04:59:59.999Z');
    setSession({ user: USER, account: { ...ACCOUNT, timeZone: 'Europe/Berlin' } });
    expect(dayBoundary('2026-03-29', false)).toBe('2026-03-28T23:00:00.000Z');
    expect(dayBoundary('2026-03-29', true)).toBe('2026-03-29T21:59:59.999Z');
    expect(dayBoundary('2026-13-45', false)).toBeUndefined();
  });
});
