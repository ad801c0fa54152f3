import { describe, expect, test } from 'vitest';
import { copyBlockOf, parseQualified } from './table.ts';

async function collect(pieces: Buffer[], wanted: string, into?: string) {
  const found = { rows: false };
  const out: Buffer[] = [];
  for await (const b of copyBlockOf(
    (async function* () {
      yield* pieces;
    })(),
    wanted,
    found,
    into,
  ))
    out.push(b);
  return { text: Buffer.concat(out).toString('utf8'), found: found.rows };
}

describe('copyBlockOf', () => {
  const sql = Buffer.from(
    'SET x = 1;\nCOPY public.other (id) FROM stdin;\n1\n\\.\nCOPY public.customers (id, city) FROM stdin;\n1\tKöln\n2\tZürich\n\\.\nSELECT 1;\n',
  );

  test('keeps a character whose bytes are split between two pieces, at every cut', async () => {
    const want = 'COPY public.customers (id, city) FROM stdin;\n1\tKöln\n2\tZürich\n\\.\n';
    for (let cut = 1; cut < sql.length; cut++) {
      const { text, found } = await collect([sql.subarray(0, cut), sql.subarray(cut)], 'public.customers');
      expect(found).toBe(true);
      expect(text, `cut at ${cut}`).toBe(want);
    }
  });

  test('writes the block under the new name, one byte at a time', async () => {
    const pieces = [...sql].map((b) => Buffer.from([b]));
    const { text } = await collect(pieces, 'public.customers', 'public.customers_copy');
    expect(text).toBe('COPY public.customers_copy (id, city) FROM stdin;\n1\tKöln\n2\tZürich\n\\.\n');
  });

  test('finds nothing for a table without a block', async () => {
    expect(await collect([sql], 'public.nope')).toEqual({ text: '', found: false });
  });
});

describe('parseQualified', () => {
  test('reads quoted and unquoted names, public by default', () => {
    expect(parseQualified('orders')).toEqual({ schema: 'public', table: 'orders' });
    expect(parseQualified('"My ""S"".x"."T"')).toEqual({ schema: 'My "S".x', table: 'T' });
  });
});
