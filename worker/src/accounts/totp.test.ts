import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, hotp, matchTotp, otpauthUri, type TotpHash, totp } from './totp.ts';

const ascii = (s: string) => new Uint8Array(new TextEncoder().encode(s));
// RFC 6238 appendix B: the seeds are the ASCII digits repeated to the hash's key length.
const SEEDS: Record<TotpHash, Uint8Array<ArrayBuffer>> = {
  'SHA-1': ascii('12345678901234567890'),
  'SHA-256': ascii('12345678901234567890123456789012'),
  'SHA-512': ascii('1234567890123456789012345678901234567890123456789012345678901234'),
};
const VECTORS: Array<[number, string, TotpHash]> = [
  [59, '94287082', 'SHA-1'],
  [59, '46119246', 'SHA-256'],
  [59, '90693936', 'SHA-512'],
  [1111111109, '07081804', 'SHA-1'],
  [1111111109, '68084774', 'SHA-256'],
  [1111111109, '25091201', 'SHA-512'],
  [1111111111, '14050471', 'SHA-1'],
  [1111111111, '67062674', 'SHA-256'],
  [1111111111, '99943326', 'SHA-512'],
  [1234567890, '89005924', 'SHA-1'],
  [1234567890, '91819424', 'SHA-256'],
  [1234567890, '93441116', 'SHA-512'],
  [2000000000, '69279037', 'SHA-1'],
  [2000000000, '90698825', 'SHA-256'],
  [2000000000, '38618901', 'SHA-512'],
  [20000000000, '65353130', 'SHA-1'],
  [20000000000, '77737706', 'SHA-256'],
  [20000000000, '47863826', 'SHA-512'],
];

describe('TOTP (RFC 6238)', () => {
  it.each(VECTORS)('at %i s gives %s with %s (appendix B)', async (time, code, hash) => {
    await expect(totp(SEEDS[hash], time, 8, hash)).resolves.toBe(code);
  });

  it('matches RFC 4226 appendix D HOTP values', async () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583'];
    for (const [i, code] of expected.entries()) await expect(hotp(SEEDS['SHA-1'], i)).resolves.toBe(code);
  });

  it('round-trips base32 (RFC 4648 vectors)', () => {
    expect(base32Encode(ascii('foobar'))).toBe('MZXW6YTBOI');
    expect(base32Encode(ascii('fooba'))).toBe('MZXW6YTB');
    expect(new TextDecoder().decode(base32Decode('mzxw6ytboi'))).toBe('foobar');
    expect(() => base32Decode('not base32!')).toThrow();
  });

  it('accepts a code once, within one step of drift, and nothing else', async () => {
    const secret = base32Encode(SEEDS['SHA-1']);
    const now = new Date(1_234_567_890_000);
    const step = Math.floor(1_234_567_890 / 30);
    const code = await totp(SEEDS['SHA-1'], 1_234_567_890);
    await expect(matchTotp(secret, code, now, null)).resolves.toBe(step);
    await expect(matchTotp(secret, code, now, step)).resolves.toBeNull();
    await expect(matchTotp(secret, code, new Date(now.getTime() + 30_000), null)).resolves.toBe(step);
    await expect(matchTotp(secret, code, new Date(now.getTime() + 90_000), null)).resolves.toBeNull();
    await expect(matchTotp(secret, '12345', now, null)).resolves.toBeNull();
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    await expect(matchTotp(secret, wrong, now, null)).resolves.toBeNull();
  });

  it('writes the otpauth URI authenticator apps scan', () => {
    expect(otpauthUri('ABC', 'a@b.test')).toBe(
      'otpauth://totp/Resistro%3Aa%40b.test?secret=ABC&issuer=Resistro&algorithm=SHA1&digits=6&period=30',
    );
  });
});
