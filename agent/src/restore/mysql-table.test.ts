import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { TableFilter } from './mysql-table.ts';

const LONG = 'ä'.repeat(400); // the line runs past the 512 bytes the filter looks at
const DUMP = `/*!40101 SET NAMES utf8mb4 */;
--
-- Table structure for table \`orte\`
--

DROP TABLE IF EXISTS \`orte\`;
CREATE TABLE \`orte\` (
  \`id\` int(11) NOT NULL,
  \`stadt\` varchar(20) DEFAULT 'Köln' COMMENT 'Größe der Zürcher ${LONG}',
  \`kunde\` int(11) DEFAULT NULL,
  PRIMARY KEY (\`id\`),
  CONSTRAINT \`orte_fk\` FOREIGN KEY (\`kunde\`) REFERENCES \`kunden\` (\`id\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

--
-- Dumping data for table \`orte\`
--

INSERT INTO \`orte\` VALUES (1,'Zürich',NULL);
--
-- Table structure for table \`kunden\`
--

CREATE TABLE \`kunden\` (\`id\` int(11) NOT NULL) ENGINE=InnoDB;
`;

async function filtered(pieces: Buffer[], rename: Map<string, string>) {
  const filter = new TableFilter(['orte'], rename);
  const out: Buffer[] = [];
  Readable.from(pieces).pipe(filter);
  for await (const b of filter) out.push(b as Buffer);
  return Buffer.concat(out).toString('utf8');
}

describe('TableFilter', () => {
  test('a renamed CREATE TABLE keeps characters whose bytes arrive in separate pieces', async () => {
    const bytes = Buffer.from(DUMP);
    const text = await filtered(
      [...bytes].map((b) => Buffer.from([b])),
      new Map([['orte', 'orte_alt']]),
    );
    expect(text).toContain(`\`stadt\` varchar(20) DEFAULT 'Köln' COMMENT 'Größe der Zürcher ${LONG}',`);
    expect(text).toContain('CREATE TABLE `orte_alt` (');
    expect(text).not.toContain('FOREIGN KEY');
    expect(text).toContain("INSERT INTO `orte_alt` VALUES (1,'Zürich',NULL);");
    expect(text).not.toContain('kunden` (`id');
  });

  test('without a rename the block passes byte for byte, cut anywhere', async () => {
    const bytes = Buffer.from(DUMP);
    const whole = await filtered([bytes], new Map());
    for (const cut of [1, 40, 120, 200, 201, 202, 300]) {
      expect(await filtered([bytes.subarray(0, cut), bytes.subarray(cut)], new Map())).toBe(whole);
    }
    expect(whole).toContain("DEFAULT 'Köln'");
    expect(whole).not.toContain('CREATE TABLE `kunden`');
  });
});
