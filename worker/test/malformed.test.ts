// Every route in the API's route table, fed malformed and odd input generated from its schemas
// (malformed-cases.ts): every string gets NUL, lone surrogates, 1 MB, RTL and emoji text; every
// number -1, 2^31, 2^53, fractions and non-numbers; every timestamp impossible offsets and years;
// every cursor crafted JSON; every path id what is no id. A new route or field is covered by the
// route table alone. The bar: never a 5xx; a refused field named in the error envelope's `fields`;
// what the contract takes (RTL, emoji, combining marks in a name) is not refused for being odd.
import { ERROR_CODES, ROUTES, type RouteSpec, sealToAgent } from '@resistro/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWithDatabase, createKey, stackInfo, uniqueEmail } from '../../scripts/test/api.ts';
import { encodeCursor } from '../src/lib/cursor.ts';
import { type Case, CRAFTED_IDS, casesFor } from './malformed-cases.ts';

const MARKER = 'MARKER<script>7f3a';
/** Requests at once: enough to keep the worker busy, few enough for a machine of two cores. */
const CONCURRENCY = 4;
// Failed log-ins from this file count against a client address of its own, not the shared one.
const CLIENT_IP = `198.51.100.${(process.pid % 250) + 1}`;

type Fixture = Awaited<ReturnType<typeof accountWithDatabase>> & {
  fullKey: string;
  sealed: string;
  backupId: string;
  channelId: string;
};
/** The channel of the type each channel field belongs to (PATCH /channels/{id}). */
let channelFor: Record<string, string> = {};
let fx: Fixture;
const sent = { requests: 0, byStatus: new Map<number, number>() };

beforeAll(async () => {
  const a = await accountWithDatabase();
  const fullKey = await createKey(a.session, 'full');
  const sealed = await sealToAgent(a.pair.publicKey, 's3cret');
  const { backup } = await a.client.startBackup({ databaseId: a.database.id, trigger: 'manual' });
  const channel = await a.session.json('/channels', {
    method: 'POST',
    json: { type: 'email', name: 'Ops', addresses: ['ops@example.test'] },
  });
  expect(channel.status).toBe(201);
  // A channel's fields apply to its type only (the worker refuses the others by name): a change of
  // the syslog target goes to a syslog channel, of a URL to a webhook, of a key to PagerDuty.
  const more = async (json: Record<string, unknown>) => {
    const r = await a.session.json('/channels', { method: 'POST', json });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.channel.id as string;
  };
  const syslog = await more({
    type: 'syslog',
    name: 'Collector',
    host: '127.0.0.1',
    port: 6514,
    transport: 'tls',
  });
  const hook = await more({ type: 'webhook', name: 'Hook', url: 'https://hooks.example.test/resistro' });
  const pager = await more({ type: 'pagerduty', name: 'On call', routingKey: 'a'.repeat(32) });
  channelFor = { host: syslog, port: syslog, transport: syslog, url: hook, routingKey: pager };
  fx = { ...a, fullKey, sealed, backupId: backup.id, channelId: channel.body.channel.id };
});

afterAll(() => {
  const statuses = [...sent.byStatus.entries()].sort(([a], [b]) => a - b);
  console.log(
    `malformed input: ${sent.requests} requests, by status ${JSON.stringify(Object.fromEntries(statuses))}`,
  );
});

/** Valid values by field name, for text with a shape the generator cannot guess. */
const hints = (): Record<string, () => unknown> => ({
  email: () => uniqueEmail('generated'),
  alertEmails: () => 'ops@example.test',
  addresses: () => 'ops@example.test',
  password: () => 'correct horse battery staple',
  // identity (issue 16)
  currentPassword: () => 'correct horse battery staple',
  newPassword: () => 'another horse battery staple',
  challenge: () => 'B'.repeat(43),
  code: () => '123456',
  issuer: () => 'https://id.example.test',
  clientId: () => 'resistro',
  clientSecret: () => 'a client secret',
  domains: () => 'example.com',
  name: () => 'Shop',
  // a second storage location (issue 18): an endpoint that cannot be reached is refused as input
  endpoint: () => 'https://s3.example.test',
  region: () => 'eu-central-1',
  bucket: () => 'second-bucket',
  hostname: () => 'db1.example.test',
  path: () => '/usr/bin/pg_dump',
  // a directory source's folders (absolute paths)
  paths: () => '/srv/app/uploads',
  publicKey: () => fx.pair.publicKey,
  host: () => '127.0.0.1',
  database: () => 'shop',
  user: () => 'backup',
  sealedPassword: () => fx.sealed,
  time: () => '02:00',
  timezone: () => 'Europe/Berlin',
  timeZone: () => 'Europe/Berlin',
  expression: () => '0 3 * * *',
  agentId: () => fx.agent.id,
  databaseId: () => fx.database.id,
  sha256: () => 'a'.repeat(64),
  keyId: () => 'a1b2c3d4e5f60718',
  etag: () => '"d41d8cd98f00b204e9800998ecf8427e"',
  error: () => 'pg_dump: connection refused',
  url: () => 'https://hooks.example.test/resistro',
  limit: () => '10',
  cursor: () => encodeCursor(new Date(), crypto.randomUUID()),
  // an invitation's or an e-mail link's token: the shape of one, naming nothing
  token: () => 'A'.repeat(43),
  // deduplicated storage (issue 17): keyed chunk ids, alone and as the first of [id, offset, length]
  ids: () => 'C'.repeat(43),
  'chunks.0': () => 'C'.repeat(43),
  // restore tests (issue 14): a customer check is one SELECT; a report is of a month
  sql: () => 'SELECT count(*) FROM organizations',
  month: () => '2026-11',
});

/** The id a route's path gets: this account's own thing where it has one. */
function concrete(path: string): string {
  const ids: Record<string, string> = {
    databases: fx.database.id,
    backups: fx.backupId,
    channels: fx.channelId,
    agents: fx.agent.id,
  };
  return path.replace(/\{\w+\}/g, ids[path.split('/')[1] ?? ''] ?? crypto.randomUUID());
}

async function send(
  route: Pick<RouteSpec, 'access'>,
  method: string,
  path: string,
  init: { body?: BodyInit; type?: string; auth?: 'key' | 'cookie' } = {},
) {
  const { url } = stackInfo();
  const headers: Record<string, string> = { origin: url, 'cf-connecting-ip': CLIENT_IP };
  if (route.access !== 'public') {
    if ((init.auth ?? 'key') === 'cookie') headers.cookie = fx.session.cookie;
    else headers.authorization = `Bearer ${route.access === 'agent' ? fx.agentKey : fx.fullKey}`;
  }
  if (init.type) headers['content-type'] = init.type;
  let res = await fetch(`${url}/api/v1${path}`, { method, headers, body: init.body });
  let text = await res.text();
  // wrangler dev reloads the worker when a source file changes and answers the request in flight
  // with this 503 (it retries only GET and HEAD itself). That is the dev server, not the worker:
  // sent once more. Any other 5xx counts.
  if (res.status === 503 && text.startsWith('Your worker restarted mid-request')) {
    res = await fetch(`${url}/api/v1${path}`, { method, headers, body: init.body });
    text = await res.text();
  }
  sent.requests++;
  sent.byStatus.set(res.status, (sent.byStatus.get(res.status) ?? 0) + 1);
  return { status: res.status, text, type: res.headers.get('content-type') ?? '' };
}
type Answer = Awaited<ReturnType<typeof send>>;

/** Why an answer misses the bar, or undefined: a 4xx must be the envelope, never echoing input. */
function envelopeProblem(r: Answer): string | undefined {
  if (r.status >= 500) return `${r.status} ${r.text.slice(0, 200)}`;
  if (r.status < 400) return undefined;
  if (!r.type.includes('application/json')) return `${r.status} without the JSON envelope`;
  const body = JSON.parse(r.text);
  if (!ERROR_CODES.includes(body?.error?.code) || typeof body.error.message !== 'string')
    return `${r.status} without the envelope`;
  if (r.text.includes('MARKER')) return 'echoes the input';
  return undefined;
}

/** Runs `fn` over `items`, `limit` at a time. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

function verdict(c: Case, r: Answer): string | undefined {
  const bad = envelopeProblem(r);
  if (bad) return bad;
  const fields = r.status >= 400 ? (JSON.parse(r.text).error.fields ?? {}) : {};
  if (c.expect === 'refuse' && (r.status !== 422 || !(c.field in fields)))
    return `${r.status} without ${c.field} in fields ${JSON.stringify(fields)}`;
  // An id the contract takes may still name nothing of this account: the worker says so by field.
  if (c.expect === 'accept' && c.kind !== 'id' && c.field in fields) return `refused: ${fields[c.field]}`;
  return undefined;
}

const inputRoutes = ROUTES.filter((r) => r.body || r.query);
const idRoutes = ROUTES.filter((r) => r.path.includes('{'));

describe('generated malformed input on every route', () => {
  it('covers every route that takes a body or a query', () => {
    expect(inputRoutes.length).toBeGreaterThan(10);
    for (const r of inputRoutes) expect(casesFor(r, r.path, hints()).length, r.path).toBeGreaterThan(0);
  });

  it.each(inputRoutes.map((r) => [`${r.method.toUpperCase()} ${r.path}`, r] as const))(
    '%s: never a 5xx; refused fields are named; odd but valid text is taken',
    async (_name, route) => {
      const cases = casesFor(route, concrete(route.path), hints()).map((c) =>
        route.path === '/channels/{id}' && channelFor[c.field]
          ? { ...c, path: c.path.replace(fx.channelId, channelFor[c.field]!) }
          : c,
      );
      // The contract's own bar, before any request: what it must refuse or take, whatever the field.
      const contractMisses = cases
        .filter((c) => c.must && c.must !== c.contract)
        .map((c) => `${c.field} ← ${c.what}: the contract should ${c.must}`);
      const misses: string[] = [];
      await pool(cases, CONCURRENCY, async (c) => {
        const r = c.query
          ? await send(route, c.method, `${c.path}?${c.query}`)
          : await send(route, c.method, c.path, { body: c.body, type: 'application/json' });
        const problem = verdict(c, r);
        if (problem) misses.push(`${c.field} ← ${c.what}: ${problem}`);
      });
      expect(contractMisses).toEqual([]);
      expect(misses).toEqual([]);
    },
  );

  it.each(idRoutes.map((r) => [`${r.method.toUpperCase()} ${r.path}`, r] as const))(
    '%s: a path id that is no id of this account is a 404 (a 4xx where a body comes first)',
    async (_name, route) => {
      const misses: string[] = [];
      await pool(CRAFTED_IDS, CONCURRENCY, async (id) => {
        const path = route.path.replace(/\{\w+\}/g, id);
        const body = route.body ? '{}' : undefined;
        const r = await send(route, route.method.toUpperCase(), path, {
          body,
          type: body ? 'application/json' : undefined,
        });
        const problem = envelopeProblem(r) ?? (!route.body && r.status !== 404 ? `${r.status}` : undefined);
        if (problem) misses.push(`${id.slice(0, 40)}: ${problem}`);
      });
      expect(misses).toEqual([]);
    },
  );
});

describe('text PostgreSQL cannot store', () => {
  it("keeps the agent's error text with NUL and lone surrogates replaced, and the backup fails", async () => {
    const { backup } = await fx.client.startBackup({ databaseId: fx.database.id, trigger: 'manual' });
    const agent = { access: 'agent' as const };
    const r = await send(agent, 'POST', `/backups/${backup.id}/fail`, {
      body: JSON.stringify({ error: 'pg_dump: \0 invalid byte \ud800 in "naïve 🦄"' }),
      type: 'application/json',
    });
    expect(r.status, r.text).toBe(200);
    const stored = await send(agent, 'GET', `/backups/${backup.id}`);
    expect(JSON.parse(stored.text).backup).toMatchObject({
      status: 'failed',
      error: 'pg_dump: \ufffd invalid byte \ufffd in "naïve 🦄"',
    });
  });

  it('stores RTL and emoji names as sent', async () => {
    const name = 'גיבוי 🦄 نسخة';
    const r = await send({ access: 'write' }, 'PATCH', `/databases/${fx.database.id}`, {
      body: JSON.stringify({ name }),
      type: 'application/json',
    });
    expect(r.status, r.text).toBe(200);
    expect(JSON.parse(r.text).database.name).toBe(name);
  });
});

describe('malformed bodies on every route', () => {
  it.each(ROUTES.filter((r) => r.body).map((r) => [`${r.method.toUpperCase()} ${r.path}`, r] as const))(
    '%s: refuses bodies that are not the schema',
    async (_name, route) => {
      const path = route.path.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000');
      const method = route.method.toUpperCase();
      const cases: Array<[string, { body?: BodyInit; type?: string }]> = [
        ['no body', {}],
        ['not JSON content type', { body: `{"x":"${MARKER}"}`, type: 'text/plain' }],
        ['broken JSON', { body: `{"x": "${MARKER}"`, type: 'application/json' }],
        ['an array', { body: `["${MARKER}"]`, type: 'application/json' }],
        ['unknown fields', { body: JSON.stringify({ unexpected: MARKER }), type: 'application/json' }],
        [
          'a huge body',
          { body: JSON.stringify({ x: 'y'.repeat(1_100_000) + MARKER }), type: 'application/json' },
        ],
      ];
      for (const [what, init] of cases) {
        for (const auth of ['key', 'cookie'] as const) {
          if (auth === 'cookie' && route.access === 'agent') continue;
          const r = await send(route, method, path, { ...init, auth });
          expect(envelopeProblem(r), `${method} ${path} (${what}, ${auth}): ${r.text}`).toBeUndefined();
          expect(r.status, `${method} ${path} (${what}, ${auth}): ${r.text}`).toBeGreaterThanOrEqual(400);
        }
      }
    },
  );

  it('answers unknown routes and methods with the envelope', async () => {
    const any = { access: 'read' as const };
    for (const [method, path] of [
      ['GET', '/nope'],
      ['PUT', '/databases'],
    ] as const) {
      const r = await send(any, method, path);
      expect(envelopeProblem(r), `${method} ${path}`).toBeUndefined();
      expect(r.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
    }
    expect((await send({ access: 'public' }, 'GET', '/health')).status).toBe(200);
  });

  it('serves an OpenAPI document that lists every route with its schemas', async () => {
    const res = await fetch(`${stackInfo().url}/api/v1/openapi.json`);
    const doc = await res.json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const r of ROUTES) expect(doc.paths[r.path]?.[r.method], `${r.method} ${r.path}`).toBeDefined();
    const signup = doc.paths['/auth/signup'].post.requestBody.content['application/json'].schema;
    expect(signup.required).toEqual(expect.arrayContaining(['email', 'password']));
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).toEqual(ERROR_CODES);
  });
});
