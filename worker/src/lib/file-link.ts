// The download link of a deduplicated backup's single file (dedup/file.ts streams it): signed with
// HMAC under a key derived from the storage secret, and short-lived, like a presigned storage URL,
// so the agent and the browser fetch it without an API key.
import type { Config } from '../env.ts';
import { ApiError } from '../errors.ts';

async function signingKey(config: Config): Promise<CryptoKey> {
  // SECURITY: a key of its own, derived from the storage secret the worker holds anyway; a link
  // grants exactly what a presigned storage URL of the manifest would.
  const raw = new TextEncoder().encode(`resistro dedup file link|${config.s3.secretAccessKey}`);
  const material = await crypto.subtle.digest('SHA-256', raw);
  return crypto.subtle.importKey('raw', material, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
}

function toBase64url(bytes: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

export async function signFileLink(config: Config, origin: string, backupId: string, now: Date) {
  const expires = Math.floor(now.getTime() / 1000) + config.downloadUrlTtlSeconds;
  const sig = await crypto.subtle.sign(
    'HMAC',
    await signingKey(config),
    new TextEncoder().encode(`${backupId}.${expires}`),
  );
  return {
    url: `${origin}/api/v1/dedup/files/${backupId}?expires=${expires}&sig=${toBase64url(sig)}`,
    expiresAt: new Date(expires * 1000).toISOString(),
  };
}

export async function checkFileLink(
  config: Config,
  backupId: string,
  expires: string | undefined,
  sig: string | undefined,
  now: Date,
): Promise<void> {
  const refused = () =>
    new ApiError('forbidden', 'This download link is invalid or expired; ask for a new one');
  // Without a well-formed signature the link names nothing (the same 404 as an unknown backup).
  if (!expires || !/^\d{1,12}$/.test(expires) || !sig || !/^[A-Za-z0-9_-]{43}$/.test(sig))
    throw new ApiError('not_found', 'backup not found');
  const bytes = Uint8Array.from(atob(sig.replace(/-/g, '+').replace(/_/g, '/') + '='), (ch) =>
    ch.charCodeAt(0),
  );
  const ok = await crypto.subtle.verify(
    'HMAC',
    await signingKey(config),
    bytes,
    new TextEncoder().encode(`${backupId}.${expires}`),
  );
  if (!ok) throw new ApiError('not_found', 'backup not found');
  // SECURITY: checked after the signature, so the expiry of a forged link tells nothing.
  if (Number(expires) * 1000 < now.getTime()) throw refused();
}
