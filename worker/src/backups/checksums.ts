// Part checksums of an upload (docs/checksums.md): which algorithm a new upload uses, the checks
// on the digests the agent sends with its part-URL requests and its completion, and the object's
// checksum recorded on the backup.
import { createHash } from 'node:crypto';
import { ApiError } from '../errors.ts';
import type { PartChecksum, PartDigest, UploadedPart } from '../storage/storage.ts';

const DIGEST_BYTES: Record<PartChecksum, number> = { sha256: 32, md5: 16 };

function digestBytes(value: string): Uint8Array {
  return Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
}

function isDigest(algorithm: PartChecksum, value: string): boolean {
  try {
    return digestBytes(value).length === DIGEST_BYTES[algorithm];
  } catch {
    return false;
  }
}

const TOO_OLD =
  'This backup checks every part against its checksum; the agent sent none. Update the agent (run the installer again).';

/**
 * The digests to sign into the part URLs the agent asks for. A backup started with checksums
 * takes no part without one (an agent older than part checksums must be updated); one started
 * without (before this service had them) signs none.
 */
export function partDigests(
  algorithm: PartChecksum | null,
  input: {
    partNumbers?: number[] | undefined;
    parts?: { partNumber: number; checksum: string }[] | undefined;
  },
): { partNumber: number; digest: PartDigest | undefined }[] {
  if (!algorithm) {
    const numbers = input.partNumbers ?? input.parts?.map((p) => p.partNumber) ?? [];
    return [...new Set(numbers)].map((partNumber) => ({ partNumber, digest: undefined }));
  }
  if (!input.parts)
    throw new ApiError('validation_failed', TOO_OLD, { parts: 'each part needs its checksum' });
  const seen = new Map<number, string>();
  for (const p of input.parts) {
    if (!isDigest(algorithm, p.checksum))
      throw new ApiError('validation_failed', `Invalid input: parts must carry ${algorithm} checksums`, {
        parts: `must be ${algorithm} checksums`,
      });
    if (seen.has(p.partNumber) && seen.get(p.partNumber) !== p.checksum)
      throw new ApiError(
        'validation_failed',
        'Invalid input: a part is listed twice with different checksums',
        {
          parts: 'each part once',
        },
      );
    seen.set(p.partNumber, p.checksum);
  }
  return [...seen].map(([partNumber, value]) => ({ partNumber, digest: { algorithm, value } }));
}

/** The parts to complete with: an upload that checks SHA-256 completes only with each part's. */
export function completionParts(
  algorithm: PartChecksum | null,
  parts: { partNumber: number; etag: string; checksum?: string | undefined }[],
): UploadedPart[] {
  if (algorithm && parts.some((p) => !p.checksum || !isDigest(algorithm, p.checksum)))
    throw new ApiError('validation_failed', TOO_OLD, { parts: `each part needs its ${algorithm} checksum` });
  return parts.map((p) => ({
    partNumber: p.partNumber,
    etag: p.etag,
    ...(algorithm === 'sha256' && { checksumSha256: p.checksum }),
  }));
}

/**
 * The object's checksum as S3 defines it for a multipart upload, from the part checksums storage
 * verified (it completes only with each part's own): SHA256 — base64 of the SHA-256 of the parts'
 * SHA-256s, then "-<parts>"; MD5 — the multipart ETag, hex of the MD5 of the parts' MD5s, "-<parts>".
 */
export async function objectChecksum(
  algorithm: PartChecksum | null,
  parts: { checksum?: string | undefined }[],
): Promise<string | null> {
  if (!algorithm || parts.some((p) => !p.checksum)) return null;
  const joined = new Uint8Array(parts.length * DIGEST_BYTES[algorithm]);
  for (const [i, p] of parts.entries()) joined.set(digestBytes(p.checksum!), i * DIGEST_BYTES[algorithm]);
  if (algorithm === 'sha256') {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', joined));
    return `${btoa(String.fromCharCode(...digest))}-${parts.length}`;
  }
  const md5 = createHash('md5').update(joined).digest('base64');
  const hex = [...digestBytes(md5)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex}-${parts.length}`;
}
