// Awkward content for the round trips: every common column type, NULLs, unicode with emoji, every
// byte value, a row of several MB, sequences, views, functions/procedures, triggers, events.

export const AWKWARD_TEXT =
  `It's a "test" with \\backslashes\\, fake \\n escapes,\nreal newlines\r\n\ttabs; emoji 😀👩‍👩‍👧🏳️‍🌈, ` +
  `RTL مرحبا שלום, combining é, CJK 漢字かな, zero\u200bwidth, -- not a comment; DROP TABLE x; $$ dollar $$ \`tick\``;

/** SQL string literal for PostgreSQL (standard_conforming_strings on) */
const pgText = (s: string) => `'${s.replaceAll("'", "''")}'`;
const ALL_BYTES_HEX = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('hex');

/** Run as the database owner (not a superuser), like a customer's application role. */
export function postgresSeed(): string {
  return `
create type mood as enum ('sad', 'ok', 'happy', 'ünïcode 😀');
create domain positive_int as integer check (value > 0);
create sequence invoice_no start 1000 increment 7;
select setval('invoice_no', 1234);

create table kitchen_sink (
  id bigserial primary key,
  i2 smallint, i4 integer, i8 bigint, num numeric(30,10), r4 real, r8 double precision,
  flag boolean, body text, short varchar(20), fixed char(5), raw bytea,
  at_ts timestamp, at_tstz timestamptz, on_date date, at_time time, span interval,
  uid uuid, doc json, docb jsonb, ints int[], texts text[], feeling mood, addr inet, net cidr, mac macaddr,
  pt point, rng int4range, x xml, bits bit varying(16), words tsvector, positive positive_int,
  updated_at timestamptz
);
comment on table kitchen_sink is 'Küchenspüle: everything at once 😀';

insert into kitchen_sink (i2, i4, i8, num, r4, r8, flag, body, short, fixed, raw, at_ts, at_tstz, on_date, at_time, span,
  uid, doc, docb, ints, texts, feeling, addr, net, mac, pt, rng, x, bits, words, positive)
values
  (-32768, -2147483648, -9223372036854775808, -12345678901234567890.0123456789, 'NaN', '-Infinity',
   false, ${pgText(AWKWARD_TEXT)}, 'kurz', 'abc', '\\x${ALL_BYTES_HEX}', '2026-05-16 02:00:00', '2026-05-16 02:00:00+02', '0001-01-01', '23:59:59.999999', '1 year 2 mons -3 days 04:05:06',
   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2, {"b": null}], "s": "😀\\\\u0000-free"}', '{"z": 1, "a": {"nested": true}}', '{1,NULL,3}', '{"with,comma","with \\"quote\\"",NULL}', 'ünïcode 😀', '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03',
   '(1.5,-2.25)', '[1,10)', '<a href="x">Tschüß &amp; 😀</a>', B'1010', to_tsvector('simple', 'the quick brown fox'), 42),
  (32767, 2147483647, 9223372036854775807, 0.0000000001, 3.4e38, 1e-307,
   true, '', '', '', '\\x', 'infinity', '-infinity', '9999-12-31', '00:00', '0',
   null, 'null', '[]', '{}', '{}', 'sad', '::1', '::/0', 'ff:ff:ff:ff:ff:ff',
   '(0,0)', 'empty', '<empty/>', B'', '', 1),
  (null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
   null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);

create table big_row (id integer primary key, payload text not null, blob bytea not null);
insert into big_row values (1,
  (select string_agg(md5(i::text), '') from generate_series(1, 170000) i),
  (select decode(string_agg(md5((i * 7)::text), ''), 'hex') from generate_series(1, 100000) i));

create table orders (id integer generated always as identity primary key, customer text not null, total numeric(12,2) check (total >= 0), placed_at timestamptz default now());
insert into orders (customer, total, placed_at) select 'Kunde ' || i || ' – Ä😀', i * 1.5, timestamptz '2026-01-01' + i * interval '1 hour' from generate_series(1, 2000) i;
create index orders_customer on orders (lower(customer));

create table measurements (city text, logdate date not null, reading int) partition by range (logdate);
create table measurements_2026 partition of measurements for values from ('2026-01-01') to ('2027-01-01');
insert into measurements values ('Nürnberg', '2026-05-16', 17), ('Köln', '2026-12-31', -3);

create view order_totals as select customer, sum(total) as total from orders group by customer;
create materialized view order_count as select count(*) as n from orders;

create function touch() returns trigger language plpgsql as $fn$ begin new.updated_at := now(); return new; end $fn$;
create trigger kitchen_sink_touch before update on kitchen_sink for each row execute function touch();
create function add_tax(amount numeric, rate numeric default 0.19) returns numeric language sql immutable as $$ select round(amount * (1 + rate), 2) $$;
create procedure bump_invoice() language plpgsql as $p$ begin perform nextval('invoice_no'); end $p$;
create schema "Reporting ü";
create table "Reporting ü"."Mixed Case ""Table""" ("Col 1" text, "select" int);
insert into "Reporting ü"."Mixed Case ""Table""" values ('quoted 😀', 1);
`;
}

/** MariaDB: run as a user with all privileges, in the target database. */
export function mariadbSeed(): string {
  const text = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  return `
CREATE TABLE kitchen_sink (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  ti TINYINT, si SMALLINT UNSIGNED, mi MEDIUMINT, i INT, bi BIGINT, num DECIMAL(30,10), f FLOAT, d DOUBLE,
  b BIT(7), flag BOOLEAN, on_date DATE, at_dt DATETIME(6), at_ts TIMESTAMP NULL DEFAULT NULL, at_time TIME(3), yr YEAR,
  fixed CHAR(5), short VARCHAR(50), body TEXT, long_body LONGTEXT, raw VARBINARY(300), blob_ BLOB,
  feeling ENUM('sad','ok','happy'), tags SET('a','b','c'), doc JSON, latin VARCHAR(20) CHARACTER SET latin1,
  updated_at DATETIME NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='Küchenspüle 😀';

INSERT INTO kitchen_sink (ti, si, mi, i, bi, num, f, d, b, flag, on_date, at_dt, at_ts, at_time, yr, fixed, short, body, long_body, raw, blob_, feeling, tags, doc, latin) VALUES
  (-128, 65535, -8388608, -2147483648, -9223372036854775808, -12345678901234567890.0123456789, 1.5, -1e-300, b'1010101', TRUE,
   '1000-01-01', '2026-05-16 02:00:00.123456', '2026-05-16 02:00:00', '-838:59:59.000', 2026, 'abc', 'kurz', ${text(AWKWARD_TEXT)}, REPEAT('x', 70000),
   UNHEX('${ALL_BYTES_HEX}'), UNHEX('00FF00FF'), 'happy', 'a,c', '{"a": [1, 2, {"b": null}], "s": "😀"}', 'Grüße'),
  (127, 0, 8388607, 2147483647, 9223372036854775807, 0.0000000001, 0, 1e300, b'0', FALSE,
   '9999-12-31', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07', '838:59:59.999', 1901, '', '', '', '', '', '', 'sad', '', '[]', ''),
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

CREATE TABLE big_row (id INT PRIMARY KEY, payload LONGTEXT NOT NULL, blob_ LONGBLOB NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO big_row VALUES (1, REPEAT(SHA2('resistro', 256), 170000), UNHEX(REPEAT(MD5('big'), 100000)));

CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer VARCHAR(100) NOT NULL, total DECIMAL(12,2), placed_at DATETIME, KEY by_customer (customer)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO orders (customer, total, placed_at) SELECT CONCAT('Kunde ', seq, ' – Ä😀'), seq * 1.5, '2026-01-01' + INTERVAL seq HOUR FROM seq_1_to_2000;

CREATE TABLE counters (name VARCHAR(20) PRIMARY KEY, n BIGINT NOT NULL) ENGINE=InnoDB;
INSERT INTO counters VALUES ('invoice', 1234);

CREATE VIEW order_totals AS SELECT customer, SUM(total) AS total FROM orders GROUP BY customer;

DELIMITER //
CREATE TRIGGER kitchen_sink_touch BEFORE UPDATE ON kitchen_sink FOR EACH ROW BEGIN SET NEW.updated_at = NOW(); END//
CREATE FUNCTION add_tax(amount DECIMAL(12,2)) RETURNS DECIMAL(12,2) DETERMINISTIC RETURN ROUND(amount * 1.19, 2)//
CREATE PROCEDURE bump_invoice() BEGIN UPDATE counters SET n = n + 7 WHERE name = 'invoice'; END//
CREATE EVENT nightly_cleanup ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 03:00:00' DO DELETE FROM orders WHERE total < 0//
DELIMITER ;
`;
}
