// The seeded 30-day workload of the deduplication benchmarks (issue 17), shared by
// `npm run bench:dedup` (the pipeline in-process) and `npm run bench:dedup-plane` (the whole service
// as a user runs it): a shop-like PostgreSQL database (customers, orders with order_items, an
// append-only events table with retention deletes, documents as bytea, static products) and each
// simulated day's changes: +1 % orders (0.5 % of orders updated, mostly recent), 0.2 % of customers
// updated at random, +2 %/−1.5 % events, 0.1 % of documents replaced. Scale 1 ≈ 35 MB of SQL.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export type Workload = { scale: number; seed: number };

const scaled = (w: Workload) => (x: number) => Math.round(x * w.scale);

/** The day-1 database. */
export function seedSql(w: Workload): string {
  const n = scaled(w);
  return `select setseed(${(w.seed % 1000) / 1000});
create table products (id int primary key, name text, price numeric(10,2), description text);
insert into products select g, 'Produkt ' || g, (random() * 200)::numeric(10,2), repeat(md5(g::text), 6) from generate_series(1, ${n(5000)}) g;
create table customers (id int primary key, name text, email text, city text, updated timestamptz);
insert into customers select g, 'Kunde ' || g, 'k' || g || '@example.test', (array['Köln','Berlin','Wien','Zürich','Graz'])[1 + (random() * 4)::int], '2026-01-01' from generate_series(1, ${n(40000)}) g;
create table orders (id bigint primary key, customer_id int, status text, total numeric(12,2), created timestamptz);
insert into orders select g, 1 + (random() * ${n(40000) - 1})::int, 'paid', (random() * 500)::numeric(12,2), '2026-01-01'::timestamptz + g * interval '1 minute' from generate_series(1, ${n(200000)}) g;
create table order_items (order_id bigint, line int, product_id int, qty int, primary key (order_id, line));
insert into order_items select o, l, 1 + (random() * ${n(5000) - 1})::int, 1 + (random() * 4)::int from generate_series(1, ${n(200000)}) o, generate_series(1, 3) l;
create table events (id bigint primary key, at timestamptz, kind text, payload jsonb);
insert into events select g, '2026-01-01'::timestamptz + g * interval '10 seconds', (array['view','cart','pay'])[1 + (random() * 2)::int], jsonb_build_object('ip', '10.0.' || (random() * 255)::int || '.' || (random() * 255)::int, 'n', g) from generate_series(1, ${n(150000)}) g;
create table documents (id int primary key, body bytea);
insert into documents select g, decode(string_agg(md5(g::text || x::text), ''), 'hex') from generate_series(1, ${n(1500)}) g, generate_series(1, 40) x group by g;`;
}

/** The changes of simulated day `day` (2, 3, …), seeded by the day. */
export function mutateDay(w: Workload, day: number): string {
  const n = scaled(w);
  return `select setseed(${((w.seed + day) % 1000) / 1000});
insert into orders select m + g, 1 + (random() * ${n(40000) - 1})::int, 'new', (random() * 500)::numeric(12,2), now() from (select max(id) m from orders) x, generate_series(1, ${n(2000)}) g;
insert into order_items select o.id, l, 1 + (random() * ${n(5000) - 1})::int, 1 from orders o, generate_series(1, 3) l where o.status = 'new' and not exists (select 1 from order_items i where i.order_id = o.id);
update orders set status = 'shipped' where id in (select id from orders where status = 'new' order by random() limit ${n(800)});
update orders set total = total + 1 where id in (select (m - random() * m * 0.05)::bigint from (select max(id) m from orders) x, generate_series(1, ${n(160)}));
update orders set total = total + 1 where id in (select (random() * (select max(id) from orders))::bigint from generate_series(1, ${n(40)}));
update customers set city = 'Linz', updated = now() where id in (select (1 + random() * ${n(40000) - 1})::int from generate_series(1, ${n(80)}));
insert into events select m + g, now(), 'view', jsonb_build_object('n', m + g) from (select max(id) m from events) x, generate_series(1, ${n(3000)}) g;
delete from events where id in (select id from events order by id limit ${n(2250)});
update documents set body = decode(md5(random()::text) || md5(random()::text), 'hex') || body where id in (select (1 + random() * ${n(1500) - 1})::int from generate_series(1, ${Math.max(1, n(2))}));`;
}

/**
 * A dump of `database` reduced to a fingerprint: every line outside the COPY blocks in order, each
 * COPY block's rows as a multiset (a deduplicated backup stores tables in key order, so a restored
 * heap holds the rows in key order, not in the source's physical order).
 */
export async function dumpFingerprint(
  server: { binDir: string; port: number },
  database: string,
): Promise<{ digest: string; entries: string[] }> {
  const child = spawn(
    join(server.binDir, 'pg_dump'),
    [
      '-h',
      '127.0.0.1',
      '-p',
      String(server.port),
      '-U',
      'postgres',
      '--no-owner',
      '--no-privileges',
      database,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const entries: string[] = [];
  let inCopy = false;
  let rowsA = 0;
  let rowsB = 0;
  let count = 0;
  let rest = '';
  const line = (l: string) => {
    if (inCopy) {
      if (l === '\\.') {
        entries.push(`${count}:${rowsA}:${rowsB}\n`);
        inCopy = false;
        return;
      }
      const h = createHash('md5').update(l).digest();
      rowsA = (rowsA + h.readUInt32LE(0)) >>> 0;
      rowsB = (rowsB + h.readUInt32LE(4)) >>> 0;
      count++;
      return;
    }
    if (/^\\(un)?restrict /.test(l)) return; // a random key per dump
    entries.push(`${l}\n`);
    if (/^COPY .* FROM stdin;$/.test(l)) {
      inCopy = true;
      rowsA = 0;
      rowsB = 0;
      count = 0;
    }
  };
  // decoded as a stream: a character split between two pipe reads must not become two broken ones
  child.stdout.setEncoding('utf8');
  for await (const chunk of child.stdout) {
    const text = rest + (chunk as string);
    const lines = text.split('\n');
    rest = lines.pop()!;
    for (const l of lines) line(l);
  }
  line(rest);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`pg_dump ${database} exited with ${code}`);
  return { digest: createHash('sha256').update(entries.join('')).digest('hex'), entries };
}

/** Where two fingerprints first differ, for the message of a restore that is not identical. */
export function firstFingerprintDifference(
  source: { entries: string[] },
  restored: { entries: string[] },
): string {
  const at = restored.entries.findIndex((e, i) => e !== source.entries[i]);
  return `first difference at entry ${at}: source ${JSON.stringify(source.entries[at]?.slice(0, 300))}, restored ${JSON.stringify(restored.entries[at]?.slice(0, 300))} (the entry before: ${JSON.stringify(source.entries[at - 1]?.slice(0, 200))})`;
}
