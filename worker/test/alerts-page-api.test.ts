// What the dashboard's alerts page asks of the API: alerts filtered by status, kind and subject,
// the delivery log of one alert, and an agent whose API key was revoked. Every filter stays inside
// the caller's account and refuses malformed values with a 422 naming the field.
import { beforeAll, describe, expect, it } from 'vitest';
import { createKey, endPaidPeriod, keyClient, sql } from '../../scripts/test/api.ts';
import { newAccount } from './cron-fixtures.ts';

type Account = Awaited<ReturnType<typeof newAccount>>;

async function insertAlert(
  accountId: string,
  subjectId: string,
  kind: string,
  openedAt: Date,
  resolvedAt: Date | null = null,
) {
  const [row] = await sql<{ id: string }>(
    `insert into alerts (account_id, kind, severity, subject_type, subject_id, subject_name, title, detail, opened_at, resolved_at)
     values ($1, $2, 'warning', 'database', $3, 'd', 't', 'd', $4, $5) returning id`,
    [accountId, kind, subjectId, openedAt, resolvedAt],
  );
  return row!.id;
}

const ids = (r: { body: { items: Array<{ id: string }> } }) => r.body.items.map((x) => x.id);

let a: Account;
let b: Account;
const dbX = crypto.randomUUID();
const dbY = crypto.randomUUID();
let openX: string;
let resolvedX: string;
let failingY: string;

beforeAll(async () => {
  [a, b] = await Promise.all([newAccount(), newAccount()]);
  const base = Date.now() - 3600_000;
  resolvedX = await insertAlert(a.accountId, dbX, 'size_drop', new Date(base), new Date(base + 60_000));
  openX = await insertAlert(a.accountId, dbX, 'size_drop', new Date(base + 120_000));
  failingY = await insertAlert(a.accountId, dbY, 'failing', new Date(base + 180_000));
});

describe('alert filters', () => {
  it('lists open, resolved or all alerts of one subject and one kind', async () => {
    expect(ids(await a.session.json(`/alerts?subjectId=${dbX}`))).toEqual([openX]);
    expect(ids(await a.session.json(`/alerts?subjectId=${dbX}&status=resolved`))).toEqual([resolvedX]);
    expect(ids(await a.session.json(`/alerts?subjectId=${dbX}&status=all`))).toEqual([openX, resolvedX]);
    expect(ids(await a.session.json('/alerts?kind=failing&status=all'))).toEqual([failingY]);
    expect(ids(await a.session.json(`/alerts?kind=failing&subjectId=${dbX}&status=all`))).toEqual([]);
  });

  it("finds nothing of another account's subject and refuses malformed filters by field", async () => {
    expect(ids(await b.session.json(`/alerts?subjectId=${dbX}&status=all`))).toEqual([]);
    for (const [query, field] of [
      ['kind=exploded', 'kind'],
      ['subjectId=not-a-uuid', 'subjectId'],
      ['status=closed', 'status'],
    ] as const) {
      const r = await a.session.json(`/alerts?${query}`);
      expect(r.status).toBe(422);
      expect(r.body.error.code).toBe('validation_failed');
      expect(Object.keys(r.body.error.fields ?? {})).toContain(field);
    }
  });
});

describe('delivery log of one alert', () => {
  it("lists only that alert's notifications, and none of another account's alert", async () => {
    const [first] = await sql<{ id: string }>(
      `insert into notification_deliveries (account_id, channel_type, target, event, alert_id, status, payload)
       values ($1, 'email', 'ops@example.test', 'alert.opened', $2, 'delivered', '{}'::jsonb) returning id`,
      [a.accountId, openX],
    );
    const mine = await a.session.json(`/notifications?alertId=${openX}`);
    expect(mine.status).toBe(200);
    expect(ids(mine)).toEqual([first!.id]);
    expect(mine.body.items[0]).toMatchObject({ alertId: openX, target: 'ops@example.test' });
    expect(ids(await a.session.json(`/notifications?alertId=${failingY}`))).toEqual([]);
    expect(ids(await b.session.json(`/notifications?alertId=${openX}`))).toEqual([]);
    expect((await a.session.json('/notifications?alertId=1')).status).toBe(422);
  });
});

describe('an agent whose key is revoked', () => {
  it('shows the revocation at once and is no longer online', async () => {
    const before = await a.session.json(`/agents/${a.agent.id}`);
    expect(before.body.agent).toMatchObject({ online: true, keyRevokedAt: null });
    const keyId = before.body.agent.apiKeyId as string;
    expect(keyId).toEqual(expect.any(String));
    // another account cannot see which key the agent uses, nor the agent
    expect((await b.session.json(`/agents/${a.agent.id}`)).status).toBe(404);

    expect((await a.session.json(`/api-keys/${keyId}`, { method: 'DELETE' })).status).toBe(204);
    const after = await a.session.json('/agents');
    const agent = after.body.items.find((x: { id: string }) => x.id === a.agent.id);
    expect(agent).toMatchObject({ online: false, apiKeyId: keyId, keyRevokedAt: expect.any(String) });
    await expect(a.heartbeat()).rejects.toMatchObject({ code: 'unauthorized' });

    // a new key: the next heartbeat clears the mark
    const fresh = await createKey(a.session, 'agent');
    const again = await keyClient(fresh).heartbeat({
      hostname: a.hostname,
      os: 'linux',
      version: '0.1.0',
      tools: [],
      publicKey: a.agent.publicKey,
    });
    expect(again.agent).toMatchObject({ id: a.agent.id, online: true, keyRevokedAt: null });
  });
});

describe('a cancelled account', () => {
  it('cannot resume, change or back up a database: the API refuses what the dashboard disables', async () => {
    const c = await newAccount();
    const dbId = c.databases[0]!.id;
    expect((await c.session.json('/account', { method: 'DELETE' })).status).toBe(202);
    await endPaidPeriod(c.session); // read-only once the paid period is over
    for (const [path, init] of [
      [`/databases/${dbId}/resume`, { method: 'POST' }],
      [`/databases/${dbId}`, { method: 'PATCH', json: { retentionDays: 3 } }],
      [`/databases/${dbId}/backup-now`, { method: 'POST' }],
    ] as const) {
      const r = await c.session.json(path, init);
      expect(r.status, path).toBeGreaterThanOrEqual(400);
      expect(r.status, path).toBeLessThan(500);
      expect(r.body.error.code, path).toBe('account_read_only');
    }
    const [row] = await sql<{ retention_days: number }>(
      'select retention_days from databases where id = $1',
      [dbId],
    );
    expect(row!.retention_days).not.toBe(3);
  });
});
