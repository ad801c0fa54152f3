import { describe, expect, it } from 'vitest';
import { createKey, keyClient, signup, sql, stackInfo } from '../../scripts/test/api.ts';

const call = (key: string, method: string, path: string, json?: unknown) =>
  fetch(`${stackInfo().url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(json !== undefined && { 'content-type': 'application/json' }),
    },
    body: json === undefined ? undefined : JSON.stringify(json),
  });

const hb = { hostname: 'h', os: 'linux', version: '1', tools: [], publicKey: 'A'.repeat(43) };

describe('API keys', () => {
  it('shows the secret once and stores only its hash', async () => {
    const { session } = await signup();
    const created = await session.json('/api-keys', {
      method: 'POST',
      json: { name: 'Server 1', scope: 'agent' },
    });
    expect(created.status).toBe(201);
    const secret: string = created.body.secret;
    expect(secret).toMatch(/^rsk_[A-Za-z0-9_-]{43}$/);
    expect(created.body.apiKey.prefix).toBe(secret.slice(0, 12));
    const list = await session.json('/api-keys');
    expect(list.body.items).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain(secret.slice(12));
    const rows = await sql('select secret_hash from api_keys where id = $1', [created.body.apiKey.id]);
    expect(rows[0].secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0].secret_hash).not.toContain(secret.slice(4));
  });

  it('records when a key was last used', async () => {
    const { session } = await signup();
    const key = await createKey(session, 'agent');
    expect((await call(key, 'POST', '/agent/heartbeat', hb)).status).toBe(200);
    const list = await session.json('/api-keys');
    expect(list.body.items[0].lastUsedAt).not.toBeNull();
  });

  it('limits an agent key to heartbeats, uploads and downloads', async () => {
    const { session } = await signup();
    const key = await createKey(session, 'agent');
    expect((await call(key, 'POST', '/agent/heartbeat', hb)).status).toBe(200);
    for (const [method, path] of [
      ['GET', '/databases'],
      ['GET', '/agents'],
      ['GET', '/backups'],
      ['GET', '/api-keys'],
      ['POST', '/api-keys'],
      ['GET', '/account'],
    ] as const) {
      const r = await call(key, method, path, method === 'POST' ? { name: 'x', scope: 'full' } : undefined);
      expect(r.status, `${method} ${path}`).toBe(403);
      expect((await r.json()).error.code).toBe('forbidden');
    }
  });

  it('lets a read key read but not change anything', async () => {
    const { session } = await signup();
    const key = await createKey(session, 'read');
    expect((await call(key, 'GET', '/databases')).status).toBe(200);
    expect((await call(key, 'GET', '/backups')).status).toBe(200);
    expect((await call(key, 'GET', '/agents')).status).toBe(200);
    expect((await call(key, 'POST', '/agent/heartbeat', hb)).status).toBe(403);
    expect((await call(key, 'POST', '/api-keys', { name: 'x', scope: 'full' })).status).toBe(403);
    expect((await call(key, 'PATCH', '/account', { language: 'de' })).status).toBe(403);
  });

  it('lets a full key do what a logged-in user can, including running an agent', async () => {
    const { session } = await signup();
    const key = await createKey(session, 'full');
    expect((await call(key, 'POST', '/agent/heartbeat', hb)).status).toBe(200);
    const created = await call(key, 'POST', '/api-keys', { name: 'made by key', scope: 'read' });
    expect(created.status).toBe(201);
    expect((await call(key, 'PATCH', '/account', { language: 'de' })).status).toBe(200);
  });

  it('stops working once revoked', async () => {
    const { session } = await signup();
    const key = await createKey(session, 'read');
    const client = keyClient(key);
    await client.listDatabases();
    const [item] = (await session.json('/api-keys')).body.items;
    expect((await session.fetch(`/api-keys/${item.id}`, { method: 'DELETE' })).status).toBe(204);
    const r = await call(key, 'GET', '/databases');
    expect(r.status).toBe(401);
    expect((await r.json()).error.code).toBe('unauthorized');
    expect((await session.fetch(`/api-keys/${item.id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('refuses malformed and unknown keys', async () => {
    for (const header of ['Bearer nope', 'Basic abc', `Bearer rsk_${'x'.repeat(43)}`, 'Bearer']) {
      const r = await fetch(`${stackInfo().url}/api/v1/databases`, { headers: { authorization: header } });
      expect(r.status, header).toBe(401);
    }
  });

  it('one agent key registers many agents, each by its own identity', async () => {
    const { session } = await signup();
    const key = await createKey(session, 'agent');
    await call(key, 'POST', '/agent/heartbeat', { ...hb, hostname: 'a', publicKey: 'A'.repeat(43) });
    await call(key, 'POST', '/agent/heartbeat', { ...hb, hostname: 'b', publicKey: 'B'.repeat(43) });
    await call(key, 'POST', '/agent/heartbeat', { ...hb, hostname: 'a2', publicKey: 'A'.repeat(43) });
    const agents = (await session.json('/agents')).body.items;
    expect(agents.map((a: { hostname: string }) => a.hostname).sort()).toEqual(['a2', 'b']);
  });
});
