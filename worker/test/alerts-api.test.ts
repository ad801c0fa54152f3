// The alert, channel and delivery-log routes: what they return, that every one of them is scoped
// to the caller's account (another account gets 404 and changes nothing), that every malformed
// input gets a 4xx error envelope, and that scopes are enforced.
import { beforeAll, describe, expect, it } from 'vitest';
import { createKey, type Session, sql, stackInfo } from '../../scripts/test/api.ts';
import { newAccount, runCronAt, sinkMessages } from './cron-fixtures.ts';

type Account = Awaited<ReturnType<typeof newAccount>>;

function expectEnvelope(r: { status: number; body: any }, status: number, code: string) {
  expect(r.status).toBe(status);
  expect(r.body?.error?.code).toBe(code);
  expect(typeof r.body?.error?.message).toBe('string');
}

/** An alert about a database that no cron scan will touch (it is not in the databases table). */
async function insertAlert(accountId: string, subjectId: string, openedAt: Date) {
  const [row] = await sql<{ id: string }>(
    `insert into alerts (account_id, kind, severity, subject_type, subject_id, subject_name, title, detail, opened_at)
     values ($1, 'size_drop', 'warning', 'database', $2, 'd', 't', 'd', $3) returning id`,
    [accountId, subjectId, openedAt],
  );
  return row!.id;
}

let a: Account;
let b: Account;
let alertId: string;
let hookPath: string;
let channelId: string;

beforeAll(async () => {
  [a, b] = await Promise.all([newAccount(), newAccount()]);
  await sql("update agents set last_seen_at = now() - interval '10 minutes' where id = $1", [a.agent.id]);
  await runCronAt(new Date());
  const [row] = await sql<{ id: string }>(
    "select id from alerts where account_id = $1 and kind = 'offline'",
    [a.accountId],
  );
  alertId = row!.id;
  hookPath = `/hooks/${crypto.randomUUID()}`;
  const c = await a.session.json('/channels', {
    method: 'POST',
    json: { type: 'webhook', name: 'A hook', url: `${stackInfo().sinkUrl}${hookPath}` },
  });
  channelId = c.body.channel.id;
});

describe('alerts API', () => {
  it('lists open alerts by default and resolved ones with status=all, newest first, page by page', async () => {
    const acct = await newAccount();
    const base = Date.now() - 3600_000;
    const ids = [];
    for (let i = 0; i < 3; i++)
      ids.push(await insertAlert(acct.accountId, crypto.randomUUID(), new Date(base + i * 1000)));
    await sql('update alerts set resolved_at = now() where id = $1', [ids[0]]);
    const open = await acct.session.json('/alerts');
    expect(open.status).toBe(200);
    expect(open.body.items.map((x: { id: string }) => x.id)).toEqual([ids[2], ids[1]]);
    const page1 = await acct.session.json('/alerts?status=all&limit=2');
    expect(page1.body.items.map((x: { id: string }) => x.id)).toEqual([ids[2], ids[1]]);
    const page2 = await acct.session.json(`/alerts?status=all&limit=2&cursor=${page1.body.nextCursor}`);
    expect(page2.body).toMatchObject({
      items: [{ id: ids[0], resolvedAt: expect.any(String) }],
      nextCursor: null,
    });
  });

  it('shows an alert with its subject, severity and detail, and acknowledges it once', async () => {
    const r = await a.session.json(`/alerts/${alertId}`);
    expect(r.body.alert).toMatchObject({
      id: alertId,
      kind: 'offline',
      severity: 'critical',
      subject: { type: 'agent', id: a.agent.id, name: a.hostname },
      title: `Agent "${a.hostname}" is offline`,
      resolvedAt: null,
      acknowledgedAt: null,
    });
    expect(r.body.alert.detail).toContain('No heartbeat since');
    const ack = await a.session.json(`/alerts/${alertId}/acknowledge`, { method: 'POST' });
    expect(ack.status).toBe(200);
    expect(ack.body.alert.acknowledgedAt).toEqual(expect.any(String));
    const again = await a.session.json(`/alerts/${alertId}/acknowledge`, { method: 'POST' });
    expect(again.body.alert.acknowledgedAt).toBe(ack.body.alert.acknowledgedAt);
  });

  it('lets an API key read alerts but only a full key acknowledge them', async () => {
    const readKey = await createKey(a.session, 'read');
    const fullKey = await createKey(a.session, 'full');
    const get = (key: string, path: string, method = 'GET') =>
      fetch(`${stackInfo().url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${key}` } }).then(
        async (r) => ({ status: r.status, body: await r.json() }),
      );
    expect((await get(readKey, '/alerts')).status).toBe(200);
    expectEnvelope(await get(readKey, `/alerts/${alertId}/acknowledge`, 'POST'), 403, 'forbidden');
    expect((await get(fullKey, `/alerts/${alertId}/acknowledge`, 'POST')).status).toBe(200);
    expectEnvelope(await get(a.agentKey, '/alerts'), 403, 'forbidden');
    expectEnvelope(
      await fetch(`${stackInfo().url}/api/v1/alerts`).then(async (r) => ({
        status: r.status,
        body: await r.json(),
      })),
      401,
      'unauthorized',
    );
  });
});

describe('channels API', () => {
  it('creates, shows, changes and deletes channels, never showing a hook URL or secret again', async () => {
    const acct = await newAccount();
    const created = await acct.session.json('/channels', {
      method: 'POST',
      json: { type: 'slack', name: ' #alerts ', url: 'http://127.0.0.1:9/services/T000/B000/SECRETPATH' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      channel: {
        type: 'slack',
        name: '#alerts',
        enabled: true,
        addresses: null,
        urlHint: 'http://127.0.0.1:9/…',
      },
      secret: null,
    });
    const id = created.body.channel.id;
    const mail = await acct.session.json('/channels', {
      method: 'POST',
      json: {
        type: 'email',
        name: 'Team',
        addresses: ['A@Example.test', 'a@example.test', 'b@example.test'],
      },
    });
    expect(mail.body.channel.addresses).toEqual(['a@example.test', 'b@example.test']);
    const list = await acct.session.json('/channels');
    expect(list.body.items.map((c: { id: string }) => c.id)).toEqual([id, mail.body.channel.id]);
    expect(JSON.stringify(list.body)).not.toContain('SECRETPATH');
    const patched = await acct.session.json(`/channels/${id}`, {
      method: 'PATCH',
      json: { name: 'renamed', enabled: false },
    });
    expect(patched.body.channel).toMatchObject({ name: 'renamed', enabled: false });
    expect((await acct.session.json(`/channels/${id}`)).body.channel.name).toBe('renamed');
    expect((await acct.session.fetch(`/channels/${id}`, { method: 'DELETE' })).status).toBe(204);
    expectEnvelope(await acct.session.json(`/channels/${id}`), 404, 'not_found');
  });

  it('refuses malformed channels with a validation envelope naming the field', async () => {
    const bad: Array<[object, string]> = [
      [{ name: 'x', url: 'https://a.test' }, 'type'],
      [{ type: 'sms', name: 'x', url: 'https://a.test' }, 'type'],
      [{ type: 'webhook', name: 'x', url: 'not a url' }, 'url'],
      [{ type: 'webhook', name: 'x', url: 'ftp://a.test/x' }, 'url'],
      [{ type: 'webhook', name: '', url: 'https://a.test' }, 'name'],
      [{ type: 'email', name: 'x', addresses: ['nope'] }, 'addresses.0'],
      [{ type: 'email', name: 'x', addresses: [] }, 'addresses'],
      [{ type: 'email', name: 'x', url: 'https://a.test' }, 'addresses'],
      [{ type: 'slack', name: 'x', url: 'https://a.test', secret: 'mine' }, 'secret'],
    ];
    for (const [json, field] of bad) {
      const r = await a.session.json('/channels', { method: 'POST', json });
      expectEnvelope(r, 422, 'validation_failed');
      expect(Object.keys(r.body.error.fields)).toContain(field);
    }
    const notJson = await a.session.json('/channels', {
      method: 'POST',
      body: 'type=webhook',
      headers: { 'content-type': 'text/plain' },
    });
    expectEnvelope(notJson, 400, 'bad_request');
    const broken = await a.session.json('/channels', {
      method: 'POST',
      body: '{"type":',
      headers: { 'content-type': 'application/json' },
    });
    expectEnvelope(broken, 400, 'bad_request');
  });

  it('refuses malformed changes to a channel', async () => {
    for (const json of [
      { url: 'nope' },
      { addresses: ['x@y.test'] },
      { enabled: 'yes' },
      { name: 'x'.repeat(101) },
      { type: 'email' },
    ]) {
      const r = await a.session.json(`/channels/${channelId}`, { method: 'PATCH', json });
      expectEnvelope(r, 422, 'validation_failed');
    }
    const mail = await a.session.json('/channels', {
      method: 'POST',
      json: { type: 'email', name: 'm', addresses: ['m@example.test'] },
    });
    expectEnvelope(
      await a.session.json(`/channels/${mail.body.channel.id}`, {
        method: 'PATCH',
        json: { url: 'https://a.test' },
      }),
      422,
      'validation_failed',
    );
  });
});

describe('tenant isolation', () => {
  const asB = (path: string, init: Parameters<Session['json']>[1] = {}) => b.session.json(path, init);

  it("hides one account's alerts from another, who cannot read or acknowledge them", async () => {
    await sql('update alerts set acknowledged_at = null where id = $1', [alertId]);
    expect((await asB('/alerts?status=all')).body.items.map((x: { id: string }) => x.id)).not.toContain(
      alertId,
    );
    expectEnvelope(await asB(`/alerts/${alertId}`), 404, 'not_found');
    expectEnvelope(await asB(`/alerts/${alertId}/acknowledge`, { method: 'POST' }), 404, 'not_found');
    expect((await a.session.json(`/alerts/${alertId}`)).body.alert.acknowledgedAt).toBeNull();
  });

  it("hides one account's channels from another, who cannot read, change, test or delete them", async () => {
    expect((await asB('/channels')).body.items).toEqual([]);
    expectEnvelope(await asB(`/channels/${channelId}`), 404, 'not_found');
    expectEnvelope(
      await asB(`/channels/${channelId}`, {
        method: 'PATCH',
        json: { name: 'taken over', url: 'https://evil.test/' },
      }),
      404,
      'not_found',
    );
    expectEnvelope(await asB(`/channels/${channelId}/test`, { method: 'POST' }), 404, 'not_found');
    expectEnvelope(await asB(`/channels/${channelId}`, { method: 'DELETE' }), 404, 'not_found');
    const mine = await a.session.json(`/channels/${channelId}`);
    expect(mine.body.channel.name).toBe('A hook');
    expect(await sinkMessages({ path: hookPath })).toHaveLength(0);
  });

  it("hides one account's delivery log from another", async () => {
    const mine = await a.session.json('/notifications');
    expect(mine.body.items.length).toBeGreaterThan(0);
    const theirs = await asB('/notifications?status=delivered');
    const ids = new Set(mine.body.items.map((d: { id: string }) => d.id));
    expect(theirs.body.items.filter((d: { id: string }) => ids.has(d.id))).toEqual([]);
    expect((await asB(`/notifications?channelId=${channelId}`)).body.items).toEqual([]);
  });

  it('answers ids that are not UUIDs with 404, like ids of another account', async () => {
    for (const [path, method] of [
      ['/alerts/123', 'GET'],
      ['/alerts/not-a-uuid/acknowledge', 'POST'],
      ['/channels/x', 'GET'],
      ['/channels/x', 'PATCH'],
      ['/channels/x', 'DELETE'],
      ['/channels/x/test', 'POST'],
    ] as const) {
      const r = await a.session.json(path, { method, ...(method === 'PATCH' && { json: { name: 'n' } }) });
      expectEnvelope(r, 404, 'not_found');
    }
  });
});

describe('list queries', () => {
  it('refuses malformed filters and cursors with a validation envelope', async () => {
    for (const path of [
      '/alerts?status=closed',
      '/alerts?limit=0',
      '/alerts?limit=1000',
      '/alerts?cursor=bm9wZQ',
      '/alerts?unknown=1',
      '/notifications?status=sent',
      '/notifications?channelId=abc',
      '/notifications?limit=-1',
      '/notifications?cursor=%%%',
    ]) {
      expectEnvelope(await a.session.json(path), 422, 'validation_failed');
    }
  });
});
