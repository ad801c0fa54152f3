// Every route in the API's route table, fed malformed input: always a 4xx with the error
// envelope, a code from the closed set, and never the submitted input echoed back.
import { ERROR_CODES, ROUTES } from '@resistro/contract';
import { beforeAll, describe, expect, it } from 'vitest';
import { accountWithDatabase, createKey, stackInfo } from '../../scripts/test/api.ts';

const MARKER = 'MARKER<script>7f3a';
let fullKey: string;
let cookie: string;

beforeAll(async () => {
  const a = await accountWithDatabase();
  fullKey = await createKey(a.session, 'full');
  cookie = a.session.cookie;
});

async function send(
  method: string,
  path: string,
  init: { body?: BodyInit; type?: string; auth?: 'key' | 'cookie' } = {},
) {
  const { url } = stackInfo();
  const headers: Record<string, string> = { origin: url };
  if ((init.auth ?? 'key') === 'key') headers.authorization = `Bearer ${fullKey}`;
  else headers.cookie = cookie;
  if (init.type) headers['content-type'] = init.type;
  const res = await fetch(`${url}/api/v1${path}`, { method, headers, body: init.body });
  const text = await res.text();
  return { status: res.status, text, type: res.headers.get('content-type') ?? '' };
}

function expectEnvelope(r: { status: number; text: string; type: string }, what: string) {
  expect(r.status, `${what}: ${r.text}`).toBeGreaterThanOrEqual(400);
  expect(r.status, `${what}: ${r.text}`).toBeLessThan(500);
  expect(r.type, what).toContain('application/json');
  const body = JSON.parse(r.text);
  expect(ERROR_CODES, what).toContain(body.error.code);
  expect(typeof body.error.message, what).toBe('string');
  expect(r.text, what).not.toContain('MARKER');
}

const concrete = (path: string, id: string) => path.replace(/\{\w+\}/g, id);
const bodyRoutes = ROUTES.filter((r) => r.body);
const idRoutes = ROUTES.filter((r) => r.path.includes('{'));

describe('malformed input on every route', () => {
  it.each(bodyRoutes.map((r) => [`${r.method.toUpperCase()} ${r.path}`, r] as const))(
    '%s: refuses bodies that are not the schema',
    async (_name, route) => {
      const path = concrete(route.path, '00000000-0000-4000-8000-000000000000');
      const method = route.method.toUpperCase();
      const cases: Array<[string, { body?: BodyInit; type?: string }]> = [
        ['no body', {}],
        ['not JSON content type', { body: `{"x":"${MARKER}"}`, type: 'text/plain' }],
        ['broken JSON', { body: `{"x": "${MARKER}"`, type: 'application/json' }],
        ['an array', { body: `["${MARKER}"]`, type: 'application/json' }],
        ['unknown fields', { body: JSON.stringify({ unexpected: MARKER }), type: 'application/json' }],
        [
          'wrong types',
          {
            body: JSON.stringify({
              name: 42,
              email: [MARKER],
              partNumbers: MARKER,
              error: { x: MARKER },
              scope: MARKER,
            }),
            type: 'application/json',
          },
        ],
        [
          'a huge body',
          { body: JSON.stringify({ x: 'y'.repeat(1_100_000) + MARKER }), type: 'application/json' },
        ],
      ];
      for (const [what, init] of cases) {
        for (const auth of ['key', 'cookie'] as const) {
          if (auth === 'cookie' && route.access === 'agent') continue;
          expectEnvelope(await send(method, path, { ...init, auth }), `${method} ${path} (${what}, ${auth})`);
        }
      }
    },
  );

  it.each(idRoutes.map((r) => [`${r.method.toUpperCase()} ${r.path}`, r] as const))(
    '%s: answers 404 for ids that are not ids',
    async (_name, route) => {
      for (const id of [
        'not-a-uuid',
        `${MARKER}`,
        '1',
        '00000000-0000-4000-8000-000000000000',
        "' or 1=1 --",
      ]) {
        const path = concrete(route.path, encodeURIComponent(id));
        const body = route.body ? JSON.stringify({}) : undefined;
        const r = await send(route.method.toUpperCase(), path, {
          body,
          type: body ? 'application/json' : undefined,
        });
        expectEnvelope(r, `${route.method} ${path}`);
        if (!route.body) expect(r.status, `${route.method} ${path}`).toBe(404);
      }
    },
  );

  it('refuses malformed list queries', async () => {
    for (const q of [
      'limit=0',
      'limit=101',
      'limit=abc',
      `status=${MARKER}`,
      'from=yesterday',
      'databaseId=nope',
      `cursor=${MARKER}`,
      'unknown=1',
    ]) {
      const r = await send('GET', `/backups?${q}`);
      expectEnvelope(r, q);
      expect(r.status, q).toBe(422);
    }
  });

  it('answers unknown routes and methods with the envelope', async () => {
    expectEnvelope(await send('GET', '/nope'), 'unknown route');
    expectEnvelope(await send('PUT', '/databases'), 'unknown method');
    const health = await send('GET', '/health');
    expect(health.status).toBe(200);
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
