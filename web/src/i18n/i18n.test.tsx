import { cleanup, fireEvent, render, screen } from '@solidjs/testing-library';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DatabaseForm } from '../components/database-form.tsx';
import { LangSwitch } from '../components/lang-switch.tsx';
import { de } from './de.ts';
import { en } from './en.ts';
import { detectLocale, locale, setLocale, t } from './index.ts';

beforeEach(() => {
  localStorage.clear();
  setLocale('en');
  localStorage.clear();
});
afterEach(cleanup);

describe('language', () => {
  it("follows the browser's languages until the user chooses", () => {
    expect(detectLocale(['de-AT', 'en'])).toBe('de');
    expect(detectLocale(['fr-FR', 'en-US'])).toBe('en');
    expect(detectLocale(['fr-FR'])).toBe('en');
    localStorage.setItem('resistro.locale', 'de');
    expect(detectLocale(['en-US'])).toBe('de');
  });

  it('switches every text at once and remembers the choice', () => {
    render(() => (
      <>
        <LangSwitch />
        <h1>{t('nav.databases')}</h1>
      </>
    ));
    expect(screen.getByRole('heading').textContent).toBe('Databases');
    fireEvent.change(screen.getByLabelText('Language'), { target: { value: 'de' } });
    expect(screen.getByRole('heading').textContent).toBe('Datenbanken');
    expect(locale()).toBe('de');
    expect(localStorage.getItem('resistro.locale')).toBe('de');
    expect(document.documentElement.lang).toBe('de');
    expect((screen.getByLabelText('Sprache') as HTMLSelectElement).value).toBe('de');
  });

  it('translates validation messages that are already on screen', () => {
    render(() => (
      <>
        <LangSwitch />
        <DatabaseForm
          ctx={{ agents: [], maxRetentionDays: 7 }}
          planName="Starter"
          onSubmit={async () => {}}
          onCancel={() => {}}
        />
      </>
    ));
    fireEvent.input(screen.getByLabelText('Keep backups for (days)'), { target: { value: '8' } });
    fireEvent.submit(document.querySelector('form')!);
    expect(screen.getByText('Enter a whole number of days from 1 to 7.')).toBeTruthy();
    expect(screen.getByText('Choose the agent that runs the backups.')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Language'), { target: { value: 'de' } });
    expect(screen.getByText('Geben Sie eine ganze Zahl von 1 bis 7 Tagen ein.')).toBeTruthy();
    expect(screen.getByText('Wählen Sie den Agent, der die Backups ausführt.')).toBeTruthy();
    expect(screen.getByLabelText('Backups aufbewahren (Tage)')).toBeTruthy();
  });

  it('has a German text for every English one, with the same placeholders', () => {
    const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(en) as Array<keyof typeof en>) {
      expect(de[key], key).toBeTruthy();
      expect(placeholders(de[key]), key).toEqual(placeholders(en[key]));
    }
    expect(Object.keys(de).sort()).toEqual(Object.keys(en).sort());
  });
});

describe('texts that do not come from the dictionaries', () => {
  it('shows a response without an error envelope in the current language, never the client English', async () => {
    const { ApiClientError, errorMessage } = await import('../api.ts');
    setLocale('de');
    const proxyPage = new ApiClientError(
      502,
      'unexpected_response',
      'Unexpected response (HTTP 502, not JSON)',
    );
    expect(errorMessage(proxyPage)).toBe(
      'Der Dienst hat unerwartet geantwortet (HTTP 502). Bitte versuchen Sie es gleich noch einmal.',
    );
    // The server's own message is already in the account's language: shown as it came.
    const server = new ApiClientError(402, 'plan_limit', 'Der Plan Starter erlaubt 1 Datenbank; …');
    expect(errorMessage(server)).toBe('Der Plan Starter erlaubt 1 Datenbank; …');
  });

  it('has no "(s)" or "(en)" plurals in either language', () => {
    for (const dict of [en, de]) {
      const bad = Object.entries(dict).filter(([, text]) => /\w\((s|en|n|e)\)/.test(text));
      expect(bad).toEqual([]);
    }
  });
});

// Last in the file: these tests load a fresh copy of the i18n module (vi.resetModules), which
// every later dynamic import would also get.
describe('loading the texts', () => {
  it('fetches only the shown language at the start, and the other on the first switch', async () => {
    vi.resetModules();
    localStorage.setItem('resistro.locale', 'en');
    const fresh = await import('./index.ts');
    expect(fresh.isLocaleLoaded('en')).toBe(false);
    await fresh.startLocale();
    expect(fresh.t('nav.databases')).toBe('Databases');
    expect(fresh.isLocaleLoaded('en')).toBe(true);
    expect(fresh.isLocaleLoaded('de')).toBe(false);
    // a switch keeps the current texts on screen until the new ones are here, then swaps all at once
    const switching = fresh.setLocale('de');
    expect(fresh.locale()).toBe('en');
    expect(fresh.t('nav.databases')).toBe('Databases');
    await switching;
    expect(fresh.isLocaleLoaded('de')).toBe(true);
    expect(fresh.locale()).toBe('de');
    expect(fresh.t('nav.databases')).toBe('Datenbanken');
    expect(document.documentElement.lang).toBe('de');
  });

  it('shows the latest choice when two switches overlap', async () => {
    vi.resetModules();
    localStorage.setItem('resistro.locale', 'en');
    const fresh = await import('./index.ts');
    await fresh.startLocale();
    const toGerman = fresh.setLocale('de');
    const back = fresh.setLocale('en');
    await Promise.all([toGerman, back]);
    expect(fresh.locale()).toBe('en');
    expect(fresh.t('nav.databases')).toBe('Databases');
  });
});
