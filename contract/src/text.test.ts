// What the API takes as text and as a timestamp: refused here is what PostgreSQL or Date cannot
// hold; accepted is every other string, however unusual.
import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { isStorableText, Text, Timestamp, toStorableText } from './text.ts';

describe('text', () => {
  test('refuses NUL and unpaired surrogates anywhere in the string', () => {
    for (const bad of ['\0', 'a\0b', '\ud800', '\ud800x', 'x\udc00', '\udc00\ud800', 'ok\ud83d'])
      expect(v.safeParse(Text, bad).success, JSON.stringify(bad)).toBe(false);
  });

  test('accepts RTL text, emoji, combining marks and control characters PostgreSQL stores', () => {
    for (const good of [
      '',
      'שלום עולם',
      'مرحبا',
      '\u202eevil',
      '🦄👩‍👩‍👧',
      'e\u0301',
      '\t\x01\x7f',
      '\ud83d\ude00',
    ])
      expect(v.safeParse(Text, good).success, JSON.stringify(good)).toBe(true);
  });

  test('sanitises what it refuses into U+FFFD, leaving pairs alone', () => {
    expect(toStorableText('a\0b\ud800c\udc00\ud83d\ude00')).toBe('a\ufffdb\ufffdc\ufffd\ud83d\ude00');
    expect(isStorableText(toStorableText('\udfff\ud800\ud800'))).toBe(true);
  });
});

describe('timestamps', () => {
  test('accepts real instants in any offset', () => {
    for (const good of [
      '2024-05-01T02:00:00Z',
      '2024-05-01T02:00:00.123456789Z',
      '2024-02-29T23:59:59+23:59',
      '2024-05-01 02:00:00-05:00',
      '0001-01-01T00:00:00Z',
      '9999-12-31T23:59:59.999Z',
    ])
      expect(v.safeParse(Timestamp, good).success, good).toBe(true);
  });

  test('refuses what the pattern allows but Date or PostgreSQL cannot hold', () => {
    for (const bad of [
      '2024-01-01T00:00:00-23',
      '2024-01-01T00:00:00+05',
      '2023-02-29T00:00:00Z',
      '2024-04-31T00:00:00Z',
      '0000-01-01T00:00:00Z',
      '0001-01-01T00:00:00+01:00',
      '9999-12-31T23:59:59-01:00',
      '+275760-09-13T00:00:00Z',
      '2024-01-01T00:00:00Z\0',
      'yesterday',
    ])
      expect(v.safeParse(Timestamp, bad).success, bad).toBe(false);
  });
});
