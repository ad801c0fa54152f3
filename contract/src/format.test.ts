import { describe, expect, it } from 'vitest';
import { formatBytes } from './format.ts';

describe('formatBytes', () => {
  it('uses decimal units and the separators of the language', () => {
    expect(formatBytes(1_500_000_000, 'de-DE')).toBe('1,5 GB');
    expect(formatBytes(1_500_000_000, 'en-GB')).toBe('1.5 GB');
    expect(formatBytes(250_000, 'en')).toBe('250 kB');
    expect(formatBytes(12, 'de')).toBe('12 Byte');
    expect(formatBytes(999, 'en')).toBe('999 byte');
    expect(formatBytes(1000, 'en')).toBe('1 kB');
    expect(formatBytes(123_456_789, 'en')).toBe('123 MB');
  });
});
