// Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP) with WebCrypto's HMAC, and the
// base32 secrets authenticator apps read from an otpauth:// URI.
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

export function base32Decode(text: string): Uint8Array<ArrayBuffer> {
  const clean = text.toUpperCase().replace(/[\s=]/g, '');
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const i = B32.indexOf(ch);
    if (i < 0) throw new Error('not base32');
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return new Uint8Array(out);
}

export type TotpHash = 'SHA-1' | 'SHA-256' | 'SHA-512';
export const TOTP_STEP_SECONDS = 30;
export const TOTP_DIGITS = 6;

/** HOTP (RFC 4226 §5.3): dynamic truncation of HMAC(key, counter). */
export async function hotp(
  key: Uint8Array<ArrayBuffer>,
  counter: number,
  digits = TOTP_DIGITS,
  hash: TotpHash = 'SHA-1',
): Promise<string> {
  const msg = new Uint8Array(8);
  new DataView(msg.buffer).setBigUint64(0, BigInt(counter));
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', k, msg));
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const bin =
    (((mac[offset] ?? 0) & 0x7f) << 24) |
    ((mac[offset + 1] ?? 0) << 16) |
    ((mac[offset + 2] ?? 0) << 8) |
    (mac[offset + 3] ?? 0);
  return String(bin % 10 ** digits).padStart(digits, '0');
}

export function totpStep(unixSeconds: number): number {
  return Math.floor(unixSeconds / TOTP_STEP_SECONDS);
}

/** TOTP (RFC 6238) for the step containing `unixSeconds`. */
export function totp(
  key: Uint8Array<ArrayBuffer>,
  unixSeconds: number,
  digits = TOTP_DIGITS,
  hash: TotpHash = 'SHA-1',
): Promise<string> {
  return hotp(key, totpStep(unixSeconds), digits, hash);
}

/**
 * The step a 6-digit `code` matches within one step of clock drift either way, newer than
 * `lastStep` (a code is accepted once), or null.
 */
export async function matchTotp(
  secret: string,
  code: string,
  now: Date,
  lastStep: number | null,
): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null;
  const key = base32Decode(secret);
  const current = totpStep(Math.floor(now.getTime() / 1000));
  let found: number | null = null;
  for (const step of [current - 1, current, current + 1]) {
    // compare every candidate (no early exit on a match)
    const expected = await hotp(key, step);
    let diff = 0;
    for (let i = 0; i < 6; i++) diff |= expected.charCodeAt(i) ^ code.charCodeAt(i);
    if (diff === 0 && (lastStep === null || step > lastStep)) found = step;
  }
  return found;
}

/** A new 160-bit secret (RFC 4226's recommended length), base32. */
export function newTotpSecret(): string {
  return base32Encode(crypto.getRandomValues(new Uint8Array(20)));
}

/** The URI an authenticator app scans (the QR code's content). */
export function otpauthUri(secret: string, account: string, issuer = 'Resistro'): string {
  const label = encodeURIComponent(`${issuer}:${account}`);
  return `otpauth://totp/${label}?secret=${secret}&issuer=${encodeURIComponent(issuer)}&algorithm=SHA1&digits=${TOTP_DIGITS}&period=${TOTP_STEP_SECONDS}`;
}
