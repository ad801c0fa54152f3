import { describe, expect, it } from 'vitest';
import {
  importKeyring,
  isSealed,
  newKeyEntry,
  open,
  parseKeyList,
  SecretBoxError,
  seal,
} from './secret-box.ts';

describe('secret box', () => {
  it('seals to a value that holds neither the plaintext nor the key, and opens it again', async () => {
    const entry = newKeyEntry('k1');
    const ring = await importKeyring(entry);
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    const sealed = await seal(ring, secret, 'totp:user-a');
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).toMatch(/^sb1\.k1\.[\w-]{16}\.[\w-]+$/);
    expect(sealed).not.toContain(secret);
    expect(sealed).not.toContain(entry.slice(3));
    // a fresh IV each time: the same secret seals differently
    expect(await seal(ring, secret, 'totp:user-a')).not.toBe(sealed);
    expect(await open(ring, sealed, 'totp:user-a')).toEqual({ plaintext: secret, stale: false });
  });

  it("refuses a value moved to another row's context, or altered", async () => {
    const ring = await importKeyring(newKeyEntry('k1'));
    const sealed = await seal(ring, 'SECRET', 'totp:user-a');
    await expect(open(ring, sealed, 'totp:user-b')).rejects.toBeInstanceOf(SecretBoxError);
    const last = sealed.at(-2) === 'A' ? 'B' : 'A';
    const altered = `${sealed.slice(0, -2)}${last}${sealed.at(-1)}`;
    await expect(open(ring, altered, 'totp:user-a')).rejects.toBeInstanceOf(SecretBoxError);
  });

  it('rotates: the first key seals, older keys still open and report the value stale', async () => {
    const oldEntry = newKeyEntry('old');
    const before = await importKeyring(oldEntry);
    const sealedOld = await seal(before, 'SECRET', 'ctx');
    const after = await importKeyring(`${newKeyEntry('new')},${oldEntry}`);
    expect(await open(after, sealedOld, 'ctx')).toEqual({ plaintext: 'SECRET', stale: true });
    const resealed = await seal(after, 'SECRET', 'ctx');
    expect(resealed.startsWith('sb1.new.')).toBe(true);
    // once the old key is removed, its values no longer open: the error names the key id only
    const dropped = await importKeyring(newKeyEntry('newer'));
    await expect(open(dropped, sealedOld, 'ctx')).rejects.toThrow(/key old/);
  });

  it('reads a value from before encryption as stale plaintext, and refuses a sealed one without keys', async () => {
    const ring = await importKeyring(newKeyEntry('k1'));
    expect(await open(ring, 'JBSWY3DPEHPK3PXP', 'ctx')).toEqual({
      plaintext: 'JBSWY3DPEHPK3PXP',
      stale: true,
    });
    expect(await open(undefined, 'JBSWY3DPEHPK3PXP', 'ctx')).toEqual({
      plaintext: 'JBSWY3DPEHPK3PXP',
      stale: false,
    });
    await expect(open(undefined, await seal(ring, 'S', 'ctx'), 'ctx')).rejects.toThrow(/not set/);
  });

  it('checks the key list: ids, base64, 32 bytes, no duplicates; messages never hold key material', () => {
    const key = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));
    expect(parseKeyList(`a:${key}, b:${key}`).map((k) => k.id)).toEqual(['a', 'b']);
    expect(() => parseKeyList('')).toThrow(/empty/);
    expect(() => parseKeyList(key)).toThrow(/entry 1: expected <id>:<base64 key>/);
    expect(() => parseKeyList('bad id:AAAA')).toThrow(/entry 1/);
    expect(() => parseKeyList(`a:${key},a:${key}`)).toThrow(/appears twice/);
    const short = btoa('x'.repeat(16));
    expect(() => parseKeyList(`a:${short}`)).toThrow(/must be 32 bytes, is 16/);
    expect(() => parseKeyList('a:!!!notbase64')).toThrow(/not base64/);
    try {
      parseKeyList(`a:${short}`);
    } catch (e) {
      expect((e as Error).message).not.toContain(short);
    }
  });
});
