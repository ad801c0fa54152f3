// Object storage in memory, for tests and local tools: the same contract as s3.ts (contract.ts
// holds both to it), S3's rules included (parts of at least 5 MiB but the last, ETags checked on
// completion, an upload completes once). Its presigned URLs are served by its own `fetch`.
import { createHash } from 'node:crypto';
import { ApiError } from '../errors.ts';
import { checksumHeader } from './s3.ts';
import {
  type CompleteResult,
  DELETE_OBJECTS_MAX,
  MIN_PART_BYTES,
  type ObjectLock,
  type ObjectStorage,
  type PartChecksum,
  type PartDigest,
  type UploadedPart,
} from './storage.ts';

type Upload = {
  key: string;
  checksum: PartChecksum | undefined;
  lock: ObjectLock | undefined;
  parts: Map<number, { bytes: Uint8Array; etag: string; sha256: string }>;
};
type Grant = {
  method: 'PUT' | 'GET';
  key: string;
  uploadId?: string;
  partNumber?: number;
  digest?: PartDigest;
  fileName?: string;
  expiresAt: number;
};

async function sha256Of(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return btoa(String.fromCharCode(...digest));
}

const s3Error = (status: number, code: string) =>
  new Response(`<Error><Code>${code}</Code></Error>`, { status });

export type MemoryStorage = ObjectStorage & {
  /** Serves the URLs presignPart and presignDownload hand out, as S3 serves its own. */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** The stored objects (key → bytes), to look at in tests. */
  readonly objects: ReadonlyMap<string, Uint8Array>;
};

async function etagOf(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return `"${[...digest.slice(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('')}"`;
}

function refused(code: string): ApiError {
  return new ApiError('conflict', `Object storage refused the parts (${code}); upload them again`);
}

/** Memory stores by bucket, so one can copy server-side from another as S3 buckets of one service do. */
const BUCKETS = new Map<string, Map<string, Uint8Array>>();

export function createMemoryStorage(now: () => number = Date.now, bucket = 'memory'): MemoryStorage {
  const objects = new Map<string, Uint8Array>();
  BUCKETS.set(bucket, objects);
  const uploads = new Map<string, Upload>();
  // Object lock as S3 keeps it in compliance mode: no delete or overwrite before the date.
  const locks = new Map<string, ObjectLock>();
  const isLocked = (key: string) => (locks.get(key)?.retainUntil.getTime() ?? 0) > now();
  const lockedRefusal = () =>
    new ApiError('conflict', 'The backup is locked; storage refuses to delete it before its date');
  // SECURITY: a presigned URL carries a random token that names exactly one grant, so a URL
  // changed by hand (another part, key or method) is refused, as a broken S3 signature is.
  const grants = new Map<string, Grant>();
  let requests = 0;

  function grant(g: Grant): string {
    const token = crypto.randomUUID();
    grants.set(token, g);
    return `memory://storage/${g.key.split('/').map(encodeURIComponent).join('/')}?token=${token}`;
  }

  const storage: MemoryStorage = {
    get requestCount() {
      return requests;
    },
    elapsedMs: 0,
    objects,
    async createMultipartUpload(key, checksum, lock) {
      requests++;
      const id = crypto.randomUUID();
      uploads.set(id, { key, checksum, lock, parts: new Map() });
      return id;
    },
    async presignPart(key, uploadId, partNumber, ttlSeconds, digest) {
      return grant({
        method: 'PUT',
        key,
        uploadId,
        partNumber,
        digest,
        expiresAt: now() + ttlSeconds * 1000,
      });
    },
    async presignPut(key, ttlSeconds, digest) {
      return grant({ method: 'PUT', key, digest, expiresAt: now() + ttlSeconds * 1000 });
    },
    async putObject(key, body, sha256) {
      requests++;
      const bytes = body.slice();
      if ((await sha256Of(bytes)) !== sha256)
        throw new ApiError('conflict', 'Object storage refused the object (BadDigest)');
      if (isLocked(key)) throw lockedRefusal();
      objects.set(key, bytes);
    },
    async completeMultipartUpload(key, uploadId, parts: UploadedPart[]): Promise<CompleteResult> {
      requests++;
      const upload = uploads.get(uploadId);
      if (!upload || upload.key !== key) return 'upload_not_found';
      if (parts.length === 0) throw refused('MalformedXML');
      const chunks: Uint8Array[] = [];
      for (const [i, p] of parts.entries()) {
        if (i > 0 && p.partNumber <= parts[i - 1]!.partNumber) throw refused('InvalidPartOrder');
        const stored = upload.parts.get(p.partNumber);
        if (!stored || stored.etag !== p.etag) throw refused('InvalidPart');
        if (upload.checksum === 'sha256' && p.checksumSha256 !== stored.sha256) throw refused('InvalidPart');
        if (i < parts.length - 1 && stored.bytes.length < MIN_PART_BYTES) throw refused('EntityTooSmall');
        chunks.push(stored.bytes);
      }
      const object = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) {
        object.set(c, at);
        at += c.length;
      }
      if (isLocked(key)) throw lockedRefusal();
      objects.set(key, object);
      if (upload.lock) locks.set(key, upload.lock);
      uploads.delete(uploadId);
      return 'completed';
    },
    async abortMultipartUpload(_key, uploadId) {
      requests++;
      uploads.delete(uploadId);
    },
    async getObject(key, range) {
      requests++;
      const o = objects.get(key);
      if (!o) return undefined;
      if (range && (range.start < 0 || range.end <= range.start))
        throw new RangeError(`invalid range ${range.start}-${range.end}`);
      const part = range ? o.slice(range.start, Math.min(range.end, o.length)) : o.slice();
      return new Response(part).body!;
    },
    async headObject(key) {
      requests++;
      const o = objects.get(key);
      return o ? { size: o.length } : undefined;
    },
    async deleteObject(key) {
      requests++;
      if (isLocked(key)) throw lockedRefusal();
      objects.delete(key);
      locks.delete(key);
    },
    async deleteObjects(keys) {
      requests += Math.ceil(keys.length / DELETE_OBJECTS_MAX);
      const gone = new Set<string>();
      for (const k of keys) {
        if (isLocked(k)) continue;
        objects.delete(k);
        locks.delete(k);
        gone.add(k);
      }
      return gone;
    },
    async putObjectLock(key, lock) {
      requests++;
      if (!objects.has(key))
        throw new ApiError('storage_error', 'Object storage failed to lock the object (404)');
      const current = locks.get(key);
      if (current && isLocked(key) && current.retainUntil > lock.retainUntil) throw lockedRefusal();
      locks.set(key, lock);
    },
    async getObjectLock(key) {
      requests++;
      return objects.has(key) ? locks.get(key) : undefined;
    },
    async listKeys(prefix, max = DELETE_OBJECTS_MAX, marker = '') {
      requests++;
      const all = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > marker).sort();
      return { keys: all.slice(0, max), truncated: all.length > max };
    },
    bucket,
    async readChecksum(key) {
      requests++;
      const o = objects.get(key);
      return o ? { size: o.length, sha256: createHash('sha256').update(o).digest('hex') } : undefined;
    },
    async copyPart(key, uploadId, partNumber, source, range) {
      requests++;
      const upload = uploads.get(uploadId);
      if (!upload || upload.key !== key) throw refused('NoSuchUpload');
      const from = BUCKETS.get(source.bucket)?.get(source.key);
      if (!from) throw new ApiError('conflict', 'Object storage refused the server-side copy (NoSuchKey)');
      if (range.first > range.last || range.last >= from.length)
        throw new ApiError('conflict', 'Object storage refused the server-side copy (InvalidRange)');
      const bytes = from.slice(range.first, range.last + 1);
      const etag = await etagOf(bytes);
      upload.parts.set(partNumber, { bytes, etag, sha256: await sha256Of(bytes) });
      return etag;
    },
    async presignDownload(key, fileName, ttlSeconds) {
      return grant({ method: 'GET', key, fileName, expiresAt: now() + ttlSeconds * 1000 });
    },
    async fetch(url, init = {}) {
      const u = new URL(url);
      const g = grants.get(u.searchParams.get('token') ?? '');
      const key = u.pathname.slice(1).split('/').map(decodeURIComponent).join('/');
      const method = (init.method ?? 'GET').toUpperCase();
      if (!g || g.key !== key || g.method !== method || now() > g.expiresAt)
        return new Response('<Error><Code>AccessDenied</Code></Error>', { status: 403 });
      if (g.method === 'GET') {
        const o = objects.get(g.key);
        if (!o) return new Response('<Error><Code>NoSuchKey</Code></Error>', { status: 404 });
        return new Response(o, {
          headers: {
            'content-type': 'application/octet-stream',
            'content-disposition': `attachment; filename="${g.fileName}"`,
          },
        });
      }
      if (g.uploadId === undefined) {
        // a whole object (presignPut): checked against its signed checksum, then stored
        const sent = g.digest ? new Headers(init.headers).get(checksumHeader(g.digest.algorithm)) : null;
        if (g.digest && sent !== g.digest.value) return s3Error(403, 'SignatureDoesNotMatch');
        const bytes = new Uint8Array(await new Response(init.body).arrayBuffer());
        const got =
          g.digest?.algorithm === 'md5'
            ? createHash('md5').update(bytes).digest('base64')
            : await sha256Of(bytes);
        if (g.digest && got !== g.digest.value) return s3Error(400, 'BadDigest');
        if (isLocked(g.key)) return s3Error(403, 'AccessDenied');
        requests++;
        objects.set(g.key, bytes);
        return new Response(null, { headers: { etag: await etagOf(bytes) } });
      }
      const upload = uploads.get(g.uploadId);
      if (!upload) return new Response('<Error><Code>NoSuchUpload</Code></Error>', { status: 404 });
      // As S3: a signed checksum header must come with its signed value; the body must match it.
      const sent = g.digest ? new Headers(init.headers).get(checksumHeader(g.digest.algorithm)) : null;
      if (g.digest && sent !== g.digest.value) return s3Error(403, 'SignatureDoesNotMatch');
      if (upload.checksum === 'sha256' && g.digest?.algorithm !== 'sha256')
        return s3Error(400, 'InvalidRequest');
      const bytes = new Uint8Array(await new Response(init.body).arrayBuffer());
      const sha256 = await sha256Of(bytes);
      const got = g.digest?.algorithm === 'md5' ? createHash('md5').update(bytes).digest('base64') : sha256;
      if (g.digest && got !== g.digest.value) return s3Error(400, 'BadDigest');
      const etag = await etagOf(bytes);
      upload.parts.set(g.partNumber!, { bytes, etag, sha256 });
      return new Response(null, { headers: { etag } });
    },
  };
  return storage;
}
