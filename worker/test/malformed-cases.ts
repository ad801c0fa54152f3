// Malformed and odd input generated from the route table's valibot schemas: every leaf of a
// body or query schema (through objects, arrays, optionals and variants) gets the values below,
// set into an otherwise valid example of the schema. A new route or field is covered without
// writing a test; a new kind of schema stops the generator with its path (see `classify`).
import { isStorableText, type RouteSpec, toStorableText } from '@resistro/contract';
import * as v from 'valibot';
import { encodeCursor } from '../src/lib/cursor.ts';
import { fieldErrors, unstorablePaths } from '../src/lib/validate.ts';

/** A valibot schema or action, as far as the generator reads it. */
type Node = {
  kind: string;
  type: string;
  pipe?: Node[];
  entries?: Record<string, Node>;
  item?: Node;
  /** a tuple's elements, by position */
  items?: Node[];
  value?: Node;
  wrapped?: Node;
  options?: unknown[];
  literal?: unknown;
  requirement?: unknown;
  operation?: unknown;
};
type Path = (string | number)[];
export type LeafKind =
  | 'free-text' // a name or message: any storable text within its length
  | 'text' // text with a shape (e-mail, host, regex, time zone, ...)
  | 'id'
  | 'timestamp'
  | 'cursor'
  | 'numeric-text' // a number in a query string (limit)
  | 'number'
  | 'choice'
  | 'boolean';
export type Leaf = {
  path: Path;
  field: string;
  kind: LeafKind;
  max: number | undefined;
  sanitises: boolean;
  choices: Record<string, number>;
};
/** What the contract must do with a value, whatever the schema says (its own bar). */
export type Must = 'refuse' | 'accept' | undefined;
export type Mutation = { what: string; value: unknown; must: Must };

const asNode = (schema: unknown) => schema as Node;
const dotPath = (path: Path) => path.join('.');

/** The schema under its pipes, and the actions of those pipes (innermost first). */
function unpipe(schema: Node): { base: Node; actions: Node[] } {
  if (!schema.pipe) return { base: schema, actions: [] };
  const inner = unpipe(schema.pipe[0]!);
  return { base: inner.base, actions: [...inner.actions, ...schema.pipe.slice(1)] };
}
const WRAPPERS = ['optional', 'exact_optional', 'nullable', 'nullish', 'non_optional', 'non_nullable'];
const OBJECTS = ['object', 'strict_object', 'loose_object'];
const CHOICES = ['variant', 'union'];
const TUPLES = ['tuple', 'strict_tuple', 'loose_tuple'];
/** The one key a record gets in examples: a plain word, as record keys usually must be. */
const RECORD_KEY = 'example';

/** Length and text checks that leave any storable text within bounds acceptable. */
const isFreeTextAction = (a: Node) =>
  ['min_length', 'max_length', 'trim'].includes(a.type) ||
  (a.type === 'check' && a.requirement === isStorableText) ||
  (a.type === 'transform' && a.operation === toStorableText);

function classify(base: Node, actions: Node[], field: string, constrained: boolean, path: Path): LeafKind {
  const has = (type: string) => actions.some((a) => a.type === type);
  switch (base.type) {
    case 'string':
      if (has('uuid')) return 'id';
      if (has('iso_timestamp')) return 'timestamp';
      if (field === 'cursor') return 'cursor';
      if (has('transform') && has('min_value')) return 'numeric-text';
      return !constrained && actions.every(isFreeTextAction) ? 'free-text' : 'text';
    case 'number':
      return 'number';
    case 'picklist':
    case 'literal':
    case 'enum':
      return 'choice';
    case 'boolean':
      return 'boolean';
    default:
      throw new Error(
        `malformed-cases: no values for a ${base.type} schema at ${dotPath(path)}; teach classify()`,
      );
  }
}

/** Every leaf of a schema; a variant's options each contribute theirs (first one per path wins). */
export function leavesOf(schema: unknown): Leaf[] {
  const found = new Map<string, Leaf>();
  const walk = (s: Node, path: Path, choices: Record<string, number>, constrained: boolean) => {
    const { base, actions } = unpipe(s);
    if (WRAPPERS.includes(base.type)) return walk(base.wrapped!, path, choices, constrained);
    // A check on an object (a cron expression checked with its time zone) can refuse any text.
    const checked = constrained || actions.some((a) => a.type === 'check');
    if (OBJECTS.includes(base.type)) {
      for (const [key, entry] of Object.entries(base.entries!)) walk(entry, [...path, key], choices, checked);
      return;
    }
    if (base.type === 'array') return walk(base.item!, [...path, 0], choices, checked);
    if (TUPLES.includes(base.type)) {
      for (const [i, item] of base.items!.entries()) walk(item, [...path, i], choices, checked);
      return;
    }
    if (base.type === 'record') return walk(base.value!, [...path, RECORD_KEY], choices, checked);
    if (CHOICES.includes(base.type)) {
      for (const [i, option] of base.options!.entries())
        walk(asNode(option), path, { ...choices, [dotPath(path)]: i }, checked);
      return;
    }
    const field = String(path.filter((p) => typeof p === 'string').at(-1) ?? '');
    const key = dotPath(path);
    if (found.has(key)) return;
    const max = actions.find((a) => a.type === 'max_value')?.requirement;
    found.set(key, {
      path,
      field,
      kind: classify(base, actions, field, checked, path),
      max: typeof max === 'number' ? max : undefined,
      sanitises: actions.some((a) => a.type === 'transform' && a.operation === toStorableText),
      choices,
    });
  };
  walk(asNode(schema), [], {}, false);
  return [...found.values()];
}

const isPrefix = (prefix: Path, path: Path) => prefix.every((p, i) => path[i] === p);

/**
 * A valid example of the schema that contains `leaf`: optional fields only on the way to it,
 * the variant options it was found in, and `hints` by field name for shaped text.
 */
export function exampleFor(schema: unknown, leaf: Leaf, hints: Record<string, () => unknown>): unknown {
  const build = (s: Node, path: Path): unknown => {
    const { base, actions } = unpipe(s);
    if (WRAPPERS.includes(base.type)) return build(base.wrapped!, path);
    if (OBJECTS.includes(base.type)) {
      const out: Record<string, unknown> = {};
      for (const [key, entry] of Object.entries(base.entries!)) {
        const at = [...path, key];
        if (unpipe(entry).base.type.endsWith('optional') && !isPrefix(at, leaf.path)) continue;
        out[key] = build(entry, at);
      }
      return out;
    }
    if (base.type === 'array') return [build(base.item!, [...path, 0])];
    if (TUPLES.includes(base.type)) return base.items!.map((item, i) => build(item, [...path, i]));
    if (base.type === 'record') return { [RECORD_KEY]: build(base.value!, [...path, RECORD_KEY]) };
    if (CHOICES.includes(base.type))
      return build(asNode(base.options![leaf.choices[dotPath(path)] ?? 0]), path);
    const field = String(path.filter((p) => typeof p === 'string').at(-1) ?? '');
    // a picklist names its own valid values (an error's `code` is no one-time code)
    // A tuple's element is hinted by its position too ("chunks.0": the first of [id, offset, length]).
    const position = typeof path.at(-1) === 'number' ? hints[`${field}.${path.at(-1)}`] : undefined;
    const hint = base.type === 'picklist' ? undefined : (position ?? hints[field]);
    if (hint) return hint();
    const has = (type: string) => actions.some((a) => a.type === type);
    switch (base.type) {
      case 'picklist':
        return base.options![0];
      case 'literal':
        return base.literal;
      case 'boolean':
        return true;
      case 'number': {
        const min = actions.find((a) => a.type === 'min_value')?.requirement;
        return typeof min === 'number' ? min : 1;
      }
      case 'string':
        if (has('uuid')) return crypto.randomUUID();
        if (has('iso_timestamp')) return new Date(Date.now() - 60_000).toISOString();
        return 'text';
      default:
        throw new Error(`malformed-cases: no example for a ${base.type} schema at ${dotPath(path)}`);
    }
  };
  return build(asNode(schema), []);
}

export function setAt(target: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy: any = Array.isArray(target) ? [...target] : { ...(target as object) };
  const [head, ...rest] = path as [string | number, ...Path];
  copy[head] = setAt(copy[head], rest, value);
  return copy;
}
const getAt = (target: unknown, path: Path): unknown =>
  path.reduce<any>((at, key) => (at == null ? undefined : at[key]), target);

const MB = 'x'.repeat(1_000_000);
const UUID = '6f1c1b4e-2a3d-4c5e-9f70-81a2b3c4d5e6';
const INT4_MAX = 2 ** 31 - 1;
/** Number fields stored in a bigint column; any other number field must fit an int4. */
export const BIGINT_FIELDS = new Set([
  'sizeBytes',
  'bytesDone',
  'bytesTotal',
  'expectedRows',
  'actualRows',
  // point-in-time recovery: log positions (PostgreSQL LSNs are 64-bit) and byte counts
  'startOffset',
  'endOffset',
  // deduplicated storage: a backup's logical (undeduplicated) size
  'logicalBytes',
  'serverOffset',
  'segmentSizeBytes',
  'retainedBytes',
  'diskFreeBytes',
  'maxRetainedBytes',
  'safeWalBytes',
]);

const NOT_TEXT: Mutation[] = [
  { what: 'a number', value: 42, must: 'refuse' },
  { what: 'null', value: null, must: 'refuse' },
  { what: 'an object', value: { x: 1 }, must: 'refuse' },
];
/** The values one leaf gets; `valid` is the example's value there, `inQuery` for query strings. */
export function mutationsFor(leaf: Leaf, valid: unknown, inQuery: boolean): Mutation[] {
  const text = String(valid);
  const unstorable = leaf.sanitises ? 'accept' : 'refuse';
  const free = leaf.kind === 'free-text' ? 'accept' : undefined;
  const storableChecks: Mutation[] = [
    { what: 'NUL at the end', value: `${text}\0`, must: unstorable },
    { what: 'NUL first', value: `\0${text}`, must: unstorable },
    { what: 'a lone high surrogate', value: `${text}\ud800x`, must: unstorable },
    { what: 'a lone low surrogate', value: `\udc00${text}`, must: unstorable },
    { what: 'a surrogate pair reversed', value: `${text}\udc00\ud800`, must: unstorable },
  ];
  const list: Mutation[] = [];
  switch (leaf.kind) {
    case 'free-text':
    case 'text':
      list.push(
        ...storableChecks,
        { what: inQuery ? '8 KB' : '1 MB', value: inQuery ? MB.slice(0, 8000) : MB, must: 'refuse' },
        { what: 'RTL text', value: 'גיבוי יומי – نسخة احتياطية', must: free },
        { what: 'an RTL override', value: `\u202e${text}`, must: free },
        { what: 'emoji', value: '🦄 Backup 👩‍👩‍👧‍👦 ✅', must: free },
        { what: 'combining marks', value: 'Ba\u0301cku\u0308p', must: free },
        // A parser that guesses types makes a number of this (the local S3 server did, for ETags).
        { what: 'numeric-looking text', value: '12', must: free },
        ...NOT_TEXT,
        { what: 'an array of it', value: [text], must: 'refuse' },
      );
      break;
    case 'id':
      list.push(
        ...storableChecks.slice(0, 3),
        { what: 'not a UUID', value: 'not-a-uuid', must: 'refuse' },
        { what: '36 dashes', value: '-'.repeat(36), must: 'refuse' },
        { what: 'a UUID and more', value: `${UUID}0`, must: 'refuse' },
        { what: 'a UUID in capitals', value: UUID.toUpperCase(), must: 'accept' },
        { what: 'the nil UUID', value: '00000000-0000-0000-0000-000000000000', must: 'accept' },
        ...NOT_TEXT,
      );
      break;
    case 'timestamp':
      list.push(
        ...storableChecks.slice(0, 3),
        ...[
          '2024-01-01T00:00:00-23',
          '2024-01-01T00:00:00+05',
          '+275760-09-13T00:00:00.000Z',
          '275760-09-13T00:00:00Z',
          '0000-01-01T00:00:00Z',
          '9999-12-31T23:59:59-01:00',
          '2023-02-29T12:00:00Z',
          '2024-04-31T12:00:00Z',
          '2024-01-01T24:00:00Z',
          '1700000000000',
          'yesterday',
          '',
        ].map((value) => ({ what: `timestamp ${JSON.stringify(value)}`, value, must: 'refuse' as const })),
        ...[
          '2024-01-01T00:00:00-23:59',
          '2024-01-01 00:00:00+14:00',
          '1970-01-01T00:00:00Z',
          '2024-02-29T00:00:00.123456789Z',
        ].map((value) => ({ what: `timestamp ${value}`, value, must: 'accept' as const })),
        { what: 'a number', value: 1_700_000_000_000, must: 'refuse' },
      );
      break;
    case 'cursor': {
      // The contract takes any short text; the worker must refuse every cursor it did not write.
      const b64 = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, '');
      const t = '2024-05-01T02:00:00.000Z';
      list.push(
        ...storableChecks.slice(0, 3),
        ...Object.entries({
          'an id of 36 dashes': b64({ t, id: '-'.repeat(36) }),
          'a number as t': b64({ t: 12, id: UUID }),
          'a numeric string as t': b64({ t: '12', id: UUID }),
          'year 275760': b64({ t: '+275760-09-13T00:00:00.000Z', id: UUID }),
          'year 0': b64({ t: '0000-01-01T00:00:00.000Z', id: UUID }),
          'an offset of -23:00': b64({ t: '2024-01-01T00:00:00-23:00', id: UUID }),
          'a NUL in t': b64({ t: `${t}\0`, id: UUID }),
          'a NUL in id': b64({ t, id: `${UUID.slice(0, 35)}\0` }),
          'JSON null': b64(null),
          'a JSON array': b64([t, UUID]),
          'not base64': '%%%',
          'base64 of half a JSON': btoa('{"t":'),
        }).map(([what, value]) => ({ what: `a cursor with ${what}`, value, must: undefined })),
        {
          what: 'a cursor of the form the API writes',
          value: encodeCursor(new Date(), UUID),
          must: 'accept',
        },
      );
      break;
    }
    case 'numeric-text':
      list.push(
        ...storableChecks.slice(0, 3),
        ...[
          '-1',
          '0',
          '2147483648',
          '9007199254740992',
          '1.5',
          'NaN',
          'Infinity',
          '1e2',
          '0x10',
          '１',
          ' 1',
          '',
        ].map((value) => ({ what: `number text ${JSON.stringify(value)}`, value, must: 'refuse' as const })),
      );
      break;
    case 'number':
      list.push(
        { what: '-1', value: -1, must: 'refuse' },
        { what: '2^31', value: 2 ** 31, must: BIGINT_FIELDS.has(leaf.field) ? undefined : 'refuse' },
        { what: '2^31 - 1', value: INT4_MAX, must: undefined },
        { what: '2^53', value: 2 ** 53, must: 'refuse' },
        { what: '1.5', value: 1.5, must: 'refuse' },
        { what: '1e308', value: 1e308, must: 'refuse' },
        { what: 'a numeric string', value: '1', must: 'refuse' },
        { what: '"NaN"', value: 'NaN', must: 'refuse' },
        { what: '"Infinity"', value: 'Infinity', must: 'refuse' },
        { what: 'true', value: true, must: 'refuse' },
        { what: 'an array', value: [1], must: 'refuse' },
        ...NOT_TEXT.slice(1),
      );
      break;
    case 'choice':
      list.push(
        { what: 'a NUL after a valid choice', value: `${text}\0`, must: 'refuse' },
        { what: 'a lone surrogate after a valid choice', value: `${text}\ud800`, must: 'refuse' },
        { what: 'an unknown choice', value: 'MARKER<choice>', must: 'refuse' },
        { what: 'in capitals', value: text.toUpperCase(), must: undefined },
        ...NOT_TEXT,
      );
      break;
    case 'boolean':
      list.push(
        { what: '"true"', value: 'true', must: 'refuse' },
        { what: '1', value: 1, must: 'refuse' },
        { what: 'null', value: null, must: 'refuse' },
      );
      break;
  }
  // A query carries text only.
  return inQuery ? list.filter((m) => typeof m.value === 'string') : list;
}

/** What the contract does with an input: refuses `field` (by schema or as unstorable), or not. */
export function contractVerdict(schema: unknown, input: unknown, field: string): 'refuse' | 'accept' {
  const result = v.safeParse(schema as v.GenericSchema, input);
  if (!result.success) {
    const fields = fieldErrors(result.issues);
    if (field in fields) return 'refuse';
    throw new Error(`the example is not valid where ${field} was changed: ${JSON.stringify(fields)}`);
  }
  return unstorablePaths(result.output).includes(field) ? 'refuse' : 'accept';
}

export type Case = {
  route: string;
  what: string;
  field: string;
  kind: LeafKind;
  method: string;
  path: string;
  body?: string;
  query?: string;
  /** the contract's verdict, checked against the server's answer */
  expect: 'refuse' | 'accept';
  /** the bar the contract itself must meet, when one applies */
  must: Must;
  contract: 'refuse' | 'accept';
};

/** The cases of one route: every leaf of its body or query schema with every mutation. */
export function casesFor(route: RouteSpec, path: string, hints: Record<string, () => unknown>): Case[] {
  const schema = route.body ?? route.query;
  if (!schema) return [];
  const inQuery = !route.body;
  const cases: Case[] = [];
  for (const leaf of leavesOf(schema)) {
    const field = dotPath(leaf.path);
    for (const m of mutationsFor(leaf, getAt(exampleFor(schema, leaf, hints), leaf.path), inQuery)) {
      const input = setAt(exampleFor(schema, leaf, hints), leaf.path, m.value);
      let sent = input;
      let query: string | undefined;
      if (inQuery) {
        // What the server reads: URLSearchParams writes a lone surrogate as U+FFFD.
        query = new URLSearchParams(input as Record<string, string>).toString();
        sent = Object.fromEntries(new URLSearchParams(query));
      }
      const contract = contractVerdict(schema, sent, field);
      // A URL cannot carry a lone surrogate (it arrives as U+FFFD): no bar for those in a query.
      const must = inQuery && (sent as Record<string, unknown>)[field] !== m.value ? undefined : m.must;
      cases.push({
        route: `${route.method.toUpperCase()} ${route.path}`,
        what: m.what,
        field,
        kind: leaf.kind,
        method: route.method.toUpperCase(),
        path,
        ...(inQuery ? { query } : { body: JSON.stringify(input) }),
        // The worker refuses every cursor it did not write, though the contract takes the text.
        expect: leaf.kind === 'cursor' ? (m.must === 'accept' ? 'accept' : 'refuse') : contract,
        must,
        contract,
      });
    }
  }
  return cases;
}

/** Path ids that are no ids: each must be a 404 (or a 4xx for a route that reads a body). */
export const CRAFTED_IDS = [
  'not-a-uuid',
  '-'.repeat(36),
  `${UUID}%00`,
  '%00',
  '%ED%A0%80', // a lone surrogate in UTF-8
  '%FF%FE',
  'x'.repeat(4000),
  '..%2F..%2Fhealth',
  '%25',
  "'%20or%201=1%20--",
  UUID, // well-formed, but nobody's
  '00000000-0000-0000-0000-000000000000',
];
