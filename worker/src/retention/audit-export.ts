// The export for auditors (docs/object-lock.md): every backup of a database with its dates,
// checksums, lock and copy status, as CSV or as signed JSON. The JSON is an envelope whose
// `payload` is the document as a string and whose `signature` is Ed25519 over the SHA-256 of the
// UTF-8 bytes of that string (format 2), with the service's key (Worker secret AUDIT_SIGNING_KEY:
// 32 random bytes, base64). Signing the digest lets the export be streamed: rows are read in
// keyset batches and written as they come, the hash follows them, and the signature closes the
// document. The public key is GET /audit-signing-key; an auditor checks with any Ed25519 tool.
import { createHash } from 'node:crypto';
import { fromBase64Url, toBase64Url } from '@resistro/contract';
import { sql } from 'drizzle-orm';
import { findDatabase } from '../databases/databases.ts';
import type { Db } from '../db.ts';
import { ApiError } from '../errors.ts';
import { sha256Hex } from '../lib/crypto.ts';
import { csvField } from '../lib/csv.ts';

/** Rows per query: the export reads (started_at, id) pages of this size, never all at once. */
export const AUDIT_EXPORT_BATCH = 1000;

type Row = {
  id: string;
  status: string;
  trigger: string;
  started_at: string;
  finished_at: string | null;
  size_bytes: string | null;
  sha256: string | null;
  storage_checksum: string | null;
  locked_until: string | null;
  copy_status: string | null;
  copy_verified_at: string | null;
};

const iso = (t: string | null) => (t === null ? null : new Date(t).toISOString());

const toBackup = (r: Row) => ({
  id: r.id,
  status: r.status,
  trigger: r.trigger,
  startedAt: iso(r.started_at),
  finishedAt: iso(r.finished_at),
  sizeBytes: r.size_bytes === null ? null : Number(r.size_bytes),
  sha256: r.sha256,
  storageChecksum: r.storage_checksum,
  lockMode: r.locked_until ? 'COMPLIANCE' : null,
  lockedUntil: iso(r.locked_until),
  copyStatus: r.copy_status ?? 'none',
  copyVerifiedAt: iso(r.copy_verified_at),
});
type ExportedBackup = ReturnType<typeof toBackup>;

/** The database the export is about; 404 for another account's (before anything is streamed). */
export async function exportSubject(db: Db, accountId: string, databaseId: string) {
  const database = await findDatabase(db, accountId, databaseId);
  return { id: database.id, name: database.name, engine: database.engine };
}

/** Every backup of the database, oldest first, in keyset batches of AUDIT_EXPORT_BATCH. */
export async function* exportBatches(
  db: Db,
  accountId: string,
  databaseId: string,
  batch = AUDIT_EXPORT_BATCH,
): AsyncGenerator<ExportedBackup[]> {
  let after: { startedAt: string; id: string } | undefined;
  for (;;) {
    const { rows } = await db.execute<Row>(sql`
      select b.id, b.status, b.trigger, b.started_at, b.finished_at, b.size_bytes, b.sha256,
             b.storage_checksum, b.locked_until, c.status as copy_status, c.verified_at as copy_verified_at
      from backups b left join backup_copies c on c.backup_id = b.id
      where b.database_id = ${databaseId}::uuid and b.account_id = ${accountId}::uuid
        ${after ? sql`and (b.started_at, b.id) > (${after.startedAt}::timestamptz, ${after.id}::uuid)` : sql``}
      order by b.started_at, b.id
      limit ${batch}`);
    if (rows.length > 0) yield rows.map(toBackup);
    const last = rows.at(-1);
    if (!last || rows.length < batch) return;
    // the row's own timestamp text, so no precision is lost between pages
    after = { startedAt: String(last.started_at), id: last.id };
  }
}

const CSV_COLUMNS = [
  'id',
  'status',
  'trigger',
  'startedAt',
  'finishedAt',
  'sizeBytes',
  'sha256',
  'storageChecksum',
  'lockMode',
  'lockedUntil',
  'copyStatus',
  'copyVerifiedAt',
] as const;

export const CSV_HEADER = `${CSV_COLUMNS.join(',')}\r\n`;

export function csvLines(backups: ExportedBackup[]): string {
  return backups.map((b) => `${CSV_COLUMNS.map((k) => csvField(b[k])).join(',')}\r\n`).join('');
}

// SECURITY: the signing key lives only in the Worker secret; PKCS#8 and SPKI wrap the raw
// Ed25519 keys with these fixed DER prefixes (RFC 8410).
const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

export type SigningKey = { privateKey: CryptoKey; spki: Uint8Array; keyId: string };

export async function signingKey(secret: string | undefined): Promise<SigningKey> {
  const seed = secret ? decodeSeed(secret) : undefined;
  if (!seed)
    throw new ApiError('conflict', 'Signed exports are not set up on this service (AUDIT_SIGNING_KEY)');
  const pkcs8 = new Uint8Array(PKCS8_PREFIX.length + 32);
  pkcs8.set(PKCS8_PREFIX);
  pkcs8.set(seed, PKCS8_PREFIX.length);
  const privateKey = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, true, ['sign']);
  const jwk = (await crypto.subtle.exportKey('jwk', privateKey)) as JsonWebKey;
  const pub = fromBase64Url(jwk.x ?? '');
  const spki = new Uint8Array(SPKI_PREFIX.length + pub.length);
  spki.set(SPKI_PREFIX);
  spki.set(pub, SPKI_PREFIX.length);
  const keyId = (await sha256Hex(toBase64Url(spki))).slice(0, 16);
  return { privateKey, spki, keyId };
}

function decodeSeed(secret: string): Uint8Array | undefined {
  try {
    const bytes = Uint8Array.from(atob(secret.trim()), (c) => c.charCodeAt(0));
    return bytes.length === 32 ? bytes : undefined;
  } catch {
    return undefined;
  }
}

const base64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

export function publicKeyInfo(key: SigningKey) {
  return { algorithm: 'Ed25519' as const, publicKey: base64(key.spki), keyId: key.keyId };
}

export const SIGNED_FORMAT = 'resistro-audit-export/2';

/**
 * The signed JSON envelope, written piece by piece: `payload` is the document
 * {"database":…,"generatedAt":…,"backups":[…]} as a JSON string, streamed batch by batch (a JSON
 * string escapes each character on its own, so escaping the pieces equals escaping the whole);
 * SHA-256 runs over the payload's UTF-8 bytes as they go, and the Ed25519 signature over that
 * digest closes the envelope.
 */
export async function* signedExportChunks(
  head: { database: unknown; generatedAt: string },
  batches: AsyncIterable<ExportedBackup[]>,
  key: SigningKey,
): AsyncGenerator<string> {
  const hash = createHash('sha256');
  const piece = (text: string) => {
    hash.update(new TextEncoder().encode(text));
    return JSON.stringify(text).slice(1, -1);
  };
  yield `{"format":"${SIGNED_FORMAT}","payload":"`;
  yield piece(
    `{"database":${JSON.stringify(head.database)},"generatedAt":${JSON.stringify(head.generatedAt)},"backups":[`,
  );
  let first = true;
  for await (const batch of batches) {
    yield piece((first ? '' : ',') + batch.map((b) => JSON.stringify(b)).join(','));
    first = false;
  }
  yield piece(']}');
  const digest = Uint8Array.from(atob(hash.digest('base64')), (ch) => ch.charCodeAt(0));
  const signature = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, key.privateKey, digest));
  const sig = { algorithm: 'Ed25519', signed: 'sha256(payload)', keyId: key.keyId, value: base64(signature) };
  yield `","signature":${JSON.stringify(sig)}}`;
}
