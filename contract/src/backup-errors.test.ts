// The failure report's code and parameters: a closed set of codes, parameters small and bounded,
// both optional so an older agent's report (text only) still passes.
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { BACKUP_ERROR_CODES } from './backup-errors.ts';
import { FailBackupBody } from './schemas.ts';

const issues = (input: unknown) =>
  (v.safeParse(FailBackupBody, input).issues ?? []).map((i) => ({
    path: v.getDotPath(i),
    message: i.message,
  }));

describe('FailBackupBody errorCode / errorParams', () => {
  it('accepts an older agent’s text-only report and every known code with parameters', () => {
    expect(issues({ error: 'pg_dump failed' })).toEqual([]);
    for (const code of BACKUP_ERROR_CODES)
      expect(issues({ error: 'x', errorCode: code, errorParams: { tool: 'pg_dump' } })).toEqual([]);
    const out = v.parse(FailBackupBody, {
      error: 'x',
      errorCode: 'auth_failed',
      errorParams: { user: 'backup' },
    });
    expect(out).toEqual({ error: 'x', errorCode: 'auth_failed', errorParams: { user: 'backup' } });
  });

  it('refuses an unknown code, naming the field', () => {
    expect(issues({ error: 'x', errorCode: 'disk_on_fire' })).toEqual([
      { path: 'errorCode', message: 'is not a known backup error code' },
    ]);
    expect(issues({ error: 'x', errorCode: 7 })[0]?.path).toBe('errorCode');
  });

  it('bounds the parameters: names, count, length, strings only, storable text', () => {
    const nine = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`p${'abcdefghi'[i]}`, 'v']));
    expect(issues({ error: 'x', errorCode: 'tool_failed', errorParams: nine })).toEqual([
      { path: 'errorParams', message: 'has too many parameters' },
    ]);
    expect(issues({ error: 'x', errorParams: { tool: 'p'.repeat(501) } })[0]).toEqual({
      path: 'errorParams.tool',
      message: 'is too long',
    });
    expect(issues({ error: 'x', errorParams: { 'bad key': 'v' } })[0]?.path).toBe('errorParams.bad key');
    expect(issues({ error: 'x', errorParams: { tool: 3 } })[0]?.path).toBe('errorParams.tool');
    expect(issues({ error: 'x', errorParams: ['pg_dump'] })[0]?.path).toMatch(/^errorParams/);
  });
});
