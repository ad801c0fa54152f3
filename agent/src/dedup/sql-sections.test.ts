import { describe, expect, it } from 'vitest';
import { generateSymmetricKey, parseEncryptionKey } from '../format/index.ts';
import { openChunk } from './blob.ts';
import { dedupKeys, dedupSecretOf } from './keys.ts';
import { chunkRefs } from './manifest.ts';
import { markerSection, writeSplitDump } from './sql-sections.ts';
import { MemoryChunkStore } from './store.ts';
import { storedBlobs, tableText } from './testing.ts';
import { DedupWriter } from './writer.ts';

const key = parseEncryptionKey(generateSymmetricKey());

/** The shape of a mariadb-dump: header, two tables with data, a view, routines, the footer. */
function dump(orders: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)
--
-- Host: 127.0.0.1    Database: shop
-- ------------------------------------------------------
/*!40101 SET NAMES utf8mb4 */;

--
-- Table structure for table \`customers\`
--

DROP TABLE IF EXISTS \`customers\`;
CREATE TABLE \`customers\` (\`id\` int NOT NULL, PRIMARY KEY (\`id\`)) ENGINE=InnoDB;

--
-- Dumping data for table \`customers\`
--

INSERT INTO \`customers\` VALUES (1),(2),(3);
-- a comment that is not a marker, and one that is too long to be: ${'x'.repeat(2000)}

--
-- Table structure for table \`we\`\`ird\`
--

CREATE TABLE \`we\`\`ird\` (\`id\` int) ENGINE=InnoDB;
INSERT INTO \`we\`\`ird\` VALUES `),
    orders,
    Buffer.from(`;

--
-- Dumping routines for database 'shop'
--
CREATE PROCEDURE p() BEGIN
-- Table structure for table \`inside_a_routine\`
SELECT 1; END;

--
-- Final view structure for view \`v\`
--
CREATE VIEW v AS SELECT 1;
-- Dump completed on 2026-12-02 20:00:00
`),
  ]);
}

async function split(data: Buffer, pieceSize: number) {
  const store = new MemoryChunkStore();
  const writer = new DedupWriter(dedupKeys(dedupSecretOf(key)!), store, { level: 3 });
  const pieces = function* () {
    for (let i = 0; i < data.length; i += pieceSize) yield data.subarray(i, i + pieceSize);
  };
  const sections = await writeSplitDump(writer, pieces());
  const manifest = await writer.finish({ engine: 'mariadb' });
  const plain = storedBlobs(store, manifest).map((blob, i) => {
    const ref = [...chunkRefs(manifest)][i]!.ref;
    return openChunk(blob, Buffer.from(ref[0], 'base64url'), Buffer.from(ref[1], 'base64url'), ref[2]);
  });
  return { sections, manifest, plain: Buffer.concat(plain), writer };
}

describe('a MySQL/MariaDB dump split into sections as it streams', () => {
  const data = dump(Buffer.from(tableText(3000, 5).toString().replaceAll('\n', '),(')));

  it.each([1, 2, 3, 7, 1000, 65536, 10_000_000])(
    'keeps every byte in order and cuts at the tables, read in pieces of %i bytes',
    async (size) => {
      const { sections, manifest, plain } = await split(data, size);
      expect(plain.equals(data)).toBe(true);
      expect(sections).toEqual([
        { kind: 'pre-data', name: '' },
        { kind: 'data', name: 'customers' },
        { kind: 'data', name: 'we`ird' },
        // a marker-like line inside a routine's body cuts there, and only names the piece
        { kind: 'post-data', name: '' },
        { kind: 'data', name: 'inside_a_routine' },
        { kind: 'post-data', name: '' },
      ]);
      expect(manifest.sections.map((s) => s.plaintextBytes).reduce((a, b) => a + b)).toBe(data.length);
      // each table's section starts at its marker line
      let at = 0;
      for (const s of manifest.sections) {
        if (s.kind === 'data')
          expect(data.toString('utf8', at, at + 28)).toBe('-- Table structure for table');
        at += s.plaintextBytes;
      }
    },
  );

  it('a dump without any marker is one pre-data section; an empty one is too', async () => {
    const plainSql = Buffer.from('SELECT 1;\n-- just a comment\n-');
    const one = await split(plainSql, 4);
    expect(one.sections).toEqual([{ kind: 'pre-data', name: '' }]);
    expect(one.plain.equals(plainSql)).toBe(true);
    const none = await split(Buffer.alloc(0), 4);
    expect(none.manifest.sections).toHaveLength(1);
    expect(none.manifest.sections[0]!.chunks).toHaveLength(0);
  });

  it("a changed row in one table leaves the other tables' chunks as they were", async () => {
    const rows = tableText(20000, 9).toString().replaceAll('\n', '),(');
    const a = await split(dump(Buffer.from(rows)), 65536);
    const changed = rows.replace('customer-', 'customer-X');
    const b = await split(dump(Buffer.from(changed)), 65536);
    const ids = (m: typeof a.manifest, name: string) =>
      m.sections.find((s) => s.name === name)!.chunks.map((c) => c[0]);
    expect(ids(b.manifest, 'customers')).toEqual(ids(a.manifest, 'customers'));
    const before = new Set(ids(a.manifest, 'we`ird'));
    const fresh = ids(b.manifest, 'we`ird').filter((id) => !before.has(id));
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh.length).toBeLessThanOrEqual(2);
  });

  it('only a line starting with the marker phrase starts a section', () => {
    const current = { kind: 'data' as const, name: 't' };
    expect(markerSection('-- Table structure for table `x`', current)).toEqual({ kind: 'data', name: 'x' });
    expect(markerSection('-- Dumping data for table `x`', current)).toBeUndefined();
    expect(markerSection("-- Dumping events for database 'shop'", current)).toEqual({
      kind: 'post-data',
      name: '',
    });
    expect(
      markerSection("-- Dumping routines for database 'shop'", { kind: 'post-data', name: '' }),
    ).toBeUndefined();
  });
});
