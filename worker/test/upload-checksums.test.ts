// Part checksums through the control plane (docs/checksums.md): the upload plan names SHA-256,
// part URLs are signed for each part's checksum, a part corrupted on its way is refused by the
// storage and accepted when sent again, and the backup records the object's checksum.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { accountWithDatabase, putParts, sql } from '../../scripts/test/api.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('base64');

describe('upload checksums', () => {
  it('signs each part URL for its SHA-256: a corrupted part is BadDigest, the same part sent again is taken', async () => {
    const a = await accountWithDatabase();
    const { backup, upload } = await a.client.startBackup({ databaseId: a.database.id, trigger: 'manual' });
    expect(upload.checksum).toBe('sha256');
    const part = new Uint8Array(randomBytes(20_000));
    const checksum = sha256(part);
    const { parts } = await a.client.partUrls(backup.id, [{ partNumber: 1, checksum }]);
    const url = parts[0]!.url;
    expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toContain('x-amz-checksum-sha256');

    const corrupted = part.slice();
    corrupted[123]! ^= 0x10;
    const headers = { 'x-amz-checksum-sha256': checksum };
    const refused = await fetch(url, { method: 'PUT', body: corrupted, headers });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('<Code>BadDigest</Code>');
    const sent = await fetch(url, { method: 'PUT', body: part, headers });
    expect(sent.status).toBe(200);

    const done = await a.client.completeBackup(backup.id, {
      parts: [{ partNumber: 1, etag: sent.headers.get('etag')!, checksum }],
      sizeBytes: part.length,
      sha256: createHash('sha256').update(part).digest('hex'),
      keyId: 'a1b2c3d4e5f60718',
    });
    const composite = `${createHash('sha256').update(Buffer.from(checksum, 'base64')).digest('base64')}-1`;
    expect(done.backup.storageChecksum).toBe(composite);
    const [row] = await sql('select storage_checksum, part_checksum from backups where id = $1', [backup.id]);
    expect(row).toEqual({ storage_checksum: composite, part_checksum: 'sha256' });
    expect((await a.client.getBackup(backup.id)).backup.storageChecksum).toBe(composite);
  });

  it('records the SHA-256 of the parts’ SHA-256s for a backup of several parts', async () => {
    const a = await accountWithDatabase();
    const { backup, upload } = await a.client.startBackup({ databaseId: a.database.id, trigger: 'manual' });
    const bytes = new Uint8Array(randomBytes(upload.partSize + 777));
    const parts = await putParts(a.client, backup.id, upload, bytes);
    expect(parts).toHaveLength(2);
    const done = await a.client.completeBackup(backup.id, {
      parts,
      sizeBytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      keyId: 'a1b2c3d4e5f60718',
    });
    const digests = [bytes.subarray(0, upload.partSize), bytes.subarray(upload.partSize)].map((p) =>
      createHash('sha256').update(p).digest(),
    );
    const expected = `${createHash('sha256').update(Buffer.concat(digests)).digest('base64')}-2`;
    expect(done.backup.storageChecksum).toBe(expected);
  });

  it('refuses part URLs without checksums, with a wrong-sized one, and a completion without them', async () => {
    const a = await accountWithDatabase();
    const { backup, upload } = await a.client.startBackup({ databaseId: a.database.id, trigger: 'manual' });
    const old = await a.client.partUrls(backup.id, [1]).catch((e) => e);
    expect(old.status).toBe(422);
    expect(old.fields).toHaveProperty('parts');
    const md5Sized = createHash('md5').update('x').digest('base64');
    const wrong = await a.client.partUrls(backup.id, [{ partNumber: 1, checksum: md5Sized }]).catch((e) => e);
    expect(wrong.status).toBe(422);
    const parts = await putParts(a.client, backup.id, upload, new Uint8Array(100));
    const bare = await a.client
      .completeBackup(backup.id, {
        parts: parts.map(({ partNumber, etag }) => ({ partNumber, etag })),
        sizeBytes: 100,
        sha256: 'a'.repeat(64),
        keyId: 'a1b2c3d4e5f60718',
      })
      .catch((e) => e);
    expect(bare.status).toBe(422);
    expect(bare.fields).toHaveProperty('parts');
    const [row] = await sql('select status from backups where id = $1', [backup.id]);
    expect(row.status).toBe('running');
  });
});
