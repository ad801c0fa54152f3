import { describe, expect, test } from 'vitest';
import { parseEnvFile } from './env-file.ts';

describe('parseEnvFile', () => {
  test('reads KEY=VALUE lines the way the user guide writes them, trailing spaces included', () => {
    const { values, errors } = parseEnvFile(
      'RESISTRO_API_KEY=your-api-key-here  \nRESISTRO_ENDPOINT=https://cloud.resistro.org/api\n',
    );
    expect(errors).toEqual([]);
    expect(values.get('RESISTRO_API_KEY')).toEqual({ value: 'your-api-key-here', line: 1 });
    expect(values.get('RESISTRO_ENDPOINT')?.value).toBe('https://cloud.resistro.org/api');
  });

  test('skips comments and blank lines, accepts export, quotes and inline comments', () => {
    const text = [
      '# comment',
      '',
      '  export A=1',
      "B='literal $x \\n # not a comment'",
      'C="esc \\"q\\" \\\\ \\n end" # comment',
      'D=bare value # comment',
      'E=',
      '\uFEFFF=after-bom',
    ].join('\r\n');
    const { values, errors } = parseEnvFile(`\uFEFF${text}`);
    expect(errors).toEqual([]);
    expect(values.get('A')?.value).toBe('1');
    expect(values.get('B')?.value).toBe('literal $x \\n # not a comment');
    expect(values.get('C')?.value).toBe('esc "q" \\ \n end');
    expect(values.get('D')?.value).toBe('bare value');
    expect(values.get('E')?.value).toBe('');
  });

  test('names the line of each broken entry without repeating its value', () => {
    const { errors } = parseEnvFile('JUSTTEXT\n1BAD=x\nRESISTRO_API_KEY="rsk_secret\nOK=1\nQ="a" trailing\n');
    expect(errors).toEqual([
      'line 1: expected KEY=VALUE',
      'line 2: "1BAD" is not a valid variable name',
      'line 3: the value of RESISTRO_API_KEY has an opening quote but no closing one',
      'line 5: the value of Q has text after its closing quote',
    ]);
    expect(errors.join('\n')).not.toContain('rsk_secret');
  });
});
