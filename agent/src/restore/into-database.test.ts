import { describe, expect, it } from 'vitest';
import { createPhaseWatcher } from './into-database.ts';

const feed = (chunks: string[]) => {
  const seen: number[] = [];
  const watch = createPhaseWatcher(() => seen.push(seen.length));
  for (const c of chunks) watch(Buffer.from(c));
  return seen.length;
};

describe('the PostgreSQL restore phase watcher', () => {
  it('moves to indexes at the first index or constraint after the rows, once', () => {
    expect(
      feed([
        'CREATE TABLE public.orders (id integer);\nALTER TABLE ONLY public.orders ALTER COLUMN id SET DEFAULT 1;\n',
        'COPY public.orders (id) FROM stdin;\n1\n2\n\\.\n',
        'ALTER TABLE ONLY public.orders\n    ADD CONSTRAINT orders_pkey PRIMARY KEY (id);\n',
        'CREATE INDEX orders_x ON public.orders (id);\n',
      ]),
    ).toBe(1);
  });

  it('ignores indexes before any rows and stays in data without them', () => {
    expect(feed(['CREATE INDEX early ON t (x);\n', 'COPY public.t (x) FROM stdin;\n1\n\\.\n'])).toBe(0);
    expect(feed(['COPY public.t (x) FROM stdin;\n1\n\\.\nCREATE UNIQUE INDEX u ON public.t (x);\n'])).toBe(1);
  });
});
