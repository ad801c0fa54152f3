import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseKeyList } from '../../worker/src/lib/secret-box.ts';
import { localDataEncryptionKeys } from './secrets.ts';
import { writeEnvFile } from './worker.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'resistro-secrets-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('local stack secrets', () => {
  it('generates a valid data key on the first start and keeps it, readable by us only', () => {
    const dir = tempDir();
    const first = localDataEncryptionKeys(dir);
    const [key] = parseKeyList(first);
    expect(key?.id).toMatch(/^local-[0-9a-f]{8}$/);
    const file = join(dir, 'secrets', 'data-encryption-keys');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(localDataEncryptionKeys(dir)).toBe(first);
    // another data directory is another service: another key
    expect(localDataEncryptionKeys(tempDir())).not.toBe(first);
  });

  it("hands the worker's variables over in a private file, not on the command line", () => {
    const dir = tempDir();
    const file = writeEnvFile(dir, { S3_SECRET_ACCESS_KEY: 'abc/def+g==', EMAIL_FROM: 'R <a@b.c>' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe("S3_SECRET_ACCESS_KEY='abc/def+g=='\nEMAIL_FROM='R <a@b.c>'\n");
    expect(() => writeEnvFile(dir, { X: "it's" })).toThrow(/quote or a line break/);
    expect(() => writeEnvFile(dir, { X: 'a\nb' })).toThrow(/quote or a line break/);
  });
});
