import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InvalidKeyError } from './errors.ts';
import { generateKeyPair, generateSymmetricKey, parseEncryptionKey, publicKeyOf } from './keys.ts';

function parseError(text: string): InvalidKeyError {
  try {
    parseEncryptionKey(text);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidKeyError);
    return error as InvalidKeyError;
  }
  throw new Error('expected the key to be refused');
}

describe('key text', () => {
  it('generates symmetric keys that parse back, each with its own key id', () => {
    const first = generateSymmetricKey();
    expect(first).toMatch(/^resistro-key-1:[A-Za-z0-9_-]{43}$/);
    const a = parseEncryptionKey(first);
    const b = parseEncryptionKey(generateSymmetricKey());
    expect(a.kind).toBe('symmetric');
    expect(a.keyId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.keyId).not.toBe(b.keyId);
    expect(parseEncryptionKey(first).keyId).toBe(a.keyId);
  });

  it('gives a key pair the same key id for its public and private halves', () => {
    const pair = generateKeyPair();
    expect(pair.publicKey).toMatch(/^resistro-pub-1:[A-Za-z0-9_-]{43}$/);
    expect(pair.privateKey).toMatch(/^resistro-sec-1:[A-Za-z0-9_-]{43}$/);
    const recipient = parseEncryptionKey(pair.publicKey);
    const secret = parseEncryptionKey(pair.privateKey);
    expect(recipient.kind).toBe('recipient');
    expect(secret.kind).toBe('private');
    expect(recipient.keyId).toBe(secret.keyId);
    expect(publicKeyOf(secret)).toBe(pair.publicKey);
    expect(publicKeyOf(recipient)).toBe(pair.publicKey);
  });

  it('accepts a bare 64-character hex key as the same symmetric key', () => {
    const bytes = Buffer.alloc(32, 0xab);
    const fromHex = parseEncryptionKey(bytes.toString('hex').toUpperCase());
    const fromText = parseEncryptionKey(`resistro-key-1:${bytes.toString('base64url')}`);
    expect(fromHex.kind).toBe('symmetric');
    expect(fromHex.keyId).toBe(fromText.keyId);
  });

  it('ignores surrounding whitespace such as the newline of an env file', () => {
    const text = generateSymmetricKey();
    expect(parseEncryptionKey(`  ${text}\n`).keyId).toBe(parseEncryptionKey(text).keyId);
  });

  it('never shows key material when a parsed key is logged or serialised', () => {
    const text = generateSymmetricKey();
    const key = parseEncryptionKey(text);
    const body = text.slice('resistro-key-1:'.length);
    expect(inspect(key, { depth: 5 })).not.toContain(body);
    expect(JSON.stringify(key)).not.toContain(body);
    const pair = parseEncryptionKey(generateKeyPair().privateKey);
    expect(JSON.stringify(pair)).toBe(
      `{"kind":"private","keyId":"${pair.keyId}","publicKey":{},"privateKey":{}}`,
    );
  });

  it.each([
    ['', /empty/],
    ['   \n', /empty/],
    ['"resistro-key-1:AAAA"', /quotes/],
    ['abc123', /64 hex characters.*got 6/],
    ['resistro-key-1:', /43 base64url characters.*got 0/],
    [`resistro-key-1:${'A'.repeat(42)}`, /43 base64url characters.*got 42/],
    [`resistro-key-1:${'A'.repeat(41)}+/`, /standard base64/],
    [`resistro-key-1:${'A'.repeat(20)}!${'A'.repeat(22)}`, /not base64url at position 21/],
    [`resistro-key-1:${'A'.repeat(20)} ${'A'.repeat(22)}`, /whitespace/],
    [`resistro-key-1:${'A'.repeat(42)}B`, /not canonical/],
    [`resistro-key-1:${'A'.repeat(43)}`, /all zeros/],
    [`resistro-key-9:${'A'.repeat(43)}`, /key format key-9/],
    ['age1qyqszqgpqyqszqgpqyqszqgpqyqszqgp', /not in a known format/],
  ])('refuses %j with a precise message', (text, message) => {
    const error = parseError(text);
    expect(error.code).toBe('invalid_key');
    expect(error.message).toMatch(message);
    expect(error.hint).toBeTruthy();
  });

  it('never repeats the rejected key text in the error', () => {
    const secret = `${'x'.repeat(30)}secret-looking-value`;
    const error = parseError(secret);
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain('secret-looking');
  });

  it('refuses a public key that is a low-order point', () => {
    const error = parseError(`resistro-pub-1:${Buffer.alloc(32).toString('base64url')}`);
    expect(error.message).toMatch(/low-order/);
  });
});
