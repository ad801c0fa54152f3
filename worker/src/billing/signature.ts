// Paddle-Signature: `ts=<unix seconds>;h1=<hex HMAC-SHA256(secret, "<ts>:<raw body>")>`, with more
// than one h1 while Paddle rotates the endpoint's secret. Web Crypto only: runs in workerd and Node
// (the local stand-in signs with the same function).

export const PADDLE_SIGNATURE_HEADER = 'Paddle-Signature';
/** How far the timestamp may be from our clock (Paddle's own SDKs allow 5 seconds). */
export const SIGNATURE_TOLERANCE_SECONDS = 5;

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function hmacHex(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return hex(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(text)));
}

/** The header value for `body` signed at `ts` with each of `secrets` (one h1 each). */
export async function signPaddle(secrets: string[], ts: number, body: string): Promise<string> {
  const h1s = await Promise.all(secrets.map((s) => hmacHex(s, `${ts}:${body}`)));
  return [`ts=${ts}`, ...h1s.map((h) => `h1=${h}`)].join(';');
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export type SignatureVerdict =
  | { ok: true }
  | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

/**
 * SECURITY: the timestamp is inside the signed text and must be within a few seconds of now, so a
 * captured delivery cannot be replayed later (a replay within those seconds is caught by the event
 * id). Every h1 is compared in constant time; any one matching our secret is enough (rotation).
 */
export async function verifyPaddleSignature(
  secret: string,
  header: string | undefined | null,
  rawBody: string,
  nowMs: number,
  toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS,
): Promise<SignatureVerdict> {
  if (!header) return { ok: false, reason: 'missing' };
  let ts: number | undefined;
  const h1s: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) return { ok: false, reason: 'malformed' };
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === 'ts') {
      if (!/^\d{1,12}$/.test(value) || ts !== undefined) return { ok: false, reason: 'malformed' };
      ts = Number(value);
    } else if (name === 'h1') {
      if (!/^[0-9a-f]{64}$/.test(value)) return { ok: false, reason: 'malformed' };
      h1s.push(value);
    }
  }
  if (ts === undefined || h1s.length === 0 || h1s.length > 8) return { ok: false, reason: 'malformed' };
  if (Math.abs(nowMs / 1000 - ts) > toleranceSeconds) return { ok: false, reason: 'stale' };
  const expected = await hmacHex(secret, `${ts}:${rawBody}`);
  // Check them all (no early exit): the time taken does not say which one matched.
  let matched = false;
  for (const h of h1s) matched = constantTimeEqual(h, expected) || matched;
  return matched ? { ok: true } : { ok: false, reason: 'mismatch' };
}
