import { describe, expect, it } from 'vitest';
import { formatBytes, formatDateTime } from './format.ts';
import { languageFromHeader } from './language.ts';
import { plural } from './plural.ts';

const DATABASES = {
  de: { one: '{n} Datenbank', other: '{n} Datenbanken' },
  en: { one: '{n} database', other: '{n} databases' },
};

describe('plural', () => {
  it('picks the singular for exactly one and the plural otherwise, in German and English', () => {
    expect(plural('de', 1, DATABASES.de)).toBe('1 Datenbank');
    expect(plural('de', 2, DATABASES.de)).toBe('2 Datenbanken');
    expect(plural('de', 0, DATABASES.de)).toBe('0 Datenbanken');
    expect(plural('en', 1, DATABASES.en)).toBe('1 database');
    expect(plural('en', 25, DATABASES.en)).toBe('25 databases');
  });

  it('formats the number for the language', () => {
    expect(plural('de', 1500, DATABASES.de)).toBe('1.500 Datenbanken');
    expect(plural('en', 1500, DATABASES.en)).toBe('1,500 databases');
  });
});

describe('languageFromHeader', () => {
  it('takes the highest-weighted language we speak', () => {
    expect(languageFromHeader('de-DE,de;q=0.9,en;q=0.8')).toBe('de');
    expect(languageFromHeader('fr-FR,fr;q=0.9,en;q=0.8,de;q=0.7')).toBe('en');
    expect(languageFromHeader('en;q=0.5, de-AT;q=0.9')).toBe('de');
  });
  it('falls back to English for nothing, junk or only foreign languages', () => {
    expect(languageFromHeader(undefined)).toBe('en');
    expect(languageFromHeader('')).toBe('en');
    expect(languageFromHeader('fr, it;q=0.5')).toBe('en');
    expect(languageFromHeader('de;q=abc')).toBe('en');
  });
});

describe('formatDateTime', () => {
  const at = new Date('2026-12-02T04:30:00Z');
  it('shows the time in the account time zone, named, with the language conventions', () => {
    expect(formatDateTime(at, { language: 'de', timeZone: 'Europe/Berlin' })).toBe('02.12.2026, 05:30 MEZ');
    expect(formatDateTime(at, { language: 'en', timeZone: 'UTC' })).toBe('02/12/2026, 04:30 UTC');
  });
  it('uses UTC for a time zone the runtime does not know', () => {
    expect(formatDateTime(at, { language: 'en', timeZone: 'Mars/Olympus' })).toBe('02/12/2026, 04:30 UTC');
  });
});

describe('formatBytes', () => {
  it('uses the decimal separator of the language', () => {
    expect(formatBytes('de', 1_500_000_000)).toBe('1,5 GB');
    expect(formatBytes('en', 1_500_000_000)).toBe('1.5 GB');
    expect(formatBytes('de', 12)).toBe('12 Byte');
    expect(formatBytes('en', 250_000)).toBe('250 kB');
  });
});
