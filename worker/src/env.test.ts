import { describe, expect, it } from 'vitest';
import { type Bindings, parseConfig } from './env.ts';
import { newKeyEntry } from './lib/secret-box.ts';

const base: Bindings = {
  DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/resistro',
  S3_ENDPOINT: 'http://127.0.0.1:9000',
  S3_REGION: 'auto',
  S3_BUCKET: 'bucket',
  S3_ACCESS_KEY_ID: 'id',
  S3_SECRET_ACCESS_KEY: 'secret',
};

describe('DATA_ENCRYPTION_KEYS', () => {
  it('is optional, and takes one key or a rotation list', () => {
    expect(parseConfig({ ...base }).dataEncryptionKeys).toBeUndefined();
    const list = `${newKeyEntry('new')},${newKeyEntry('old')}`;
    expect(parseConfig({ ...base, DATA_ENCRYPTION_KEYS: list }).dataEncryptionKeys).toBe(list);
  });

  it('refuses a malformed list without echoing key material', () => {
    const good = newKeyEntry('k1');
    const short = `k2:${btoa('x'.repeat(16))}`;
    const cases: Array<[string, RegExp]> = [
      [good.slice(3), /entry 1 is not <id>:<32 random bytes in base64>/],
      [`${good},${short}`, /entry 2 is not/],
      [`${good},${good}`, /names key k1 twice/],
      ['bad id:AAAA', /entry 1 is not/],
    ];
    for (const [value, message] of cases) {
      let error: Error | undefined;
      try {
        parseConfig({ ...base, DATA_ENCRYPTION_KEYS: value });
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).toMatch(message);
      expect(error?.message).not.toContain(good.slice(3, 20));
    }
  });
});
