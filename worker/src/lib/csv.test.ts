import { describe, expect, it } from 'vitest';
import { csvField } from './csv.ts';

describe('csvField', () => {
  it('keeps plain values as they are', () => {
    expect(csvField('abc')).toBe('abc');
    expect(csvField(42)).toBe('42');
    expect(csvField(null)).toBe('');
  });
  it('quotes commas, quotes and line breaks (RFC 4180)', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
  });
  it('never lets a spreadsheet run a cell as a formula, a base64 checksum included', () => {
    expect(csvField('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvField('+yhQCyh5gjxGjRgM7AFdpMo0/8ZvUBre+Nu+LF7oVJ8=-1')).toBe(
      "'+yhQCyh5gjxGjRgM7AFdpMo0/8ZvUBre+Nu+LF7oVJ8=-1",
    );
    expect(csvField('-1')).toBe("'-1");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
  });
});
