// Connection checks through the real worker: a new or edited database is handed to its agent at
// the next heartbeat, the agent's report is stored and shown, a stale report is refused, and no
// agent of another account can report for (or learn about) a database it does not own.
import type { CheckReportBody } from '@resistro/contract';
import { beforeAll, describe, expect, it } from 'vitest';
import { accountWithDatabase, stackInfo } from '../../scripts/test/api.ts';

type Account = Awaited<ReturnType<typeof accountWithDatabase>>;
let a: Account;
let other: Account;

beforeAll(async () => {
  [a, other] = await Promise.all([accountWithDatabase(), accountWithDatabase()]);
});

const heartbeat = (acct: Account) =>
  acct.client.heartbeat({
    hostname: 'db1.example.test',
    os: 'linux',
    version: '0.1.0',
    tools: [],
    publicKey: acct.pair.publicKey,
  });

async function post(key: string, path: string, body: unknown) {
  const res = await fetch(`${stackInfo().url}/api/v1${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const failing = (requestedAt: string): CheckReportBody => ({
  requestedAt,
  serverVersion: '10.11.18-MariaDB',
  toolVersion: '10.11.18-MariaDB',
  items: [
    { step: 'connection', ok: true },
    { step: 'authentication', ok: true },
    { step: 'database', ok: true },
    { step: 'privilege', subject: 'SELECT', ok: true },
    {
      step: 'privilege',
      subject: 'SHOW CREATE ROUTINE',
      ok: false,
      code: 'privilege_missing',
      params: { privilege: 'SHOW CREATE ROUTINE', grant: "GRANT SELECT ON mysql.proc TO 'backup'@'%';" },
    },
  ],
});

describe('connection checks', () => {
  it('a new database is pending and handed to its agent at the next heartbeat', async () => {
    expect(a.database.connectionCheck).toMatchObject({ status: 'pending', checkedAt: null, items: [] });
    const hb = await heartbeat(a);
    expect(hb.checkRequests).toEqual([
      { databaseId: a.database.id, requestedAt: a.database.connectionCheck.requestedAt },
    ]);
  });

  it("stores the agent's report per step; the form shows it and the heartbeat stops asking", async () => {
    const requestedAt = a.database.connectionCheck.requestedAt;
    const res = await post(a.agentKey, `/databases/${a.database.id}/check-result`, {
      ...failing(requestedAt),
      agentId: a.agent.id,
    });
    expect(res.status).toBe(200);
    expect(res.body.connectionCheck.status).toBe('failed');

    const db = (await a.session.json(`/databases/${a.database.id}`)).body.database;
    expect(db.connectionCheck.status).toBe('failed');
    expect(db.connectionCheck.requestedAt).toBe(requestedAt);
    expect(Date.parse(db.connectionCheck.checkedAt)).toBeGreaterThanOrEqual(Date.parse(requestedAt));
    expect(db.connectionCheck.serverVersion).toBe('10.11.18-MariaDB');
    expect(db.connectionCheck.items.at(-1)).toEqual({
      step: 'privilege',
      subject: 'SHOW CREATE ROUTINE',
      ok: false,
      code: 'privilege_missing',
      params: { privilege: 'SHOW CREATE ROUTINE', grant: "GRANT SELECT ON mysql.proc TO 'backup'@'%';" },
    });
    expect((await heartbeat(a)).checkRequests).toEqual([]);

    // The agent retrying after a lost answer changes nothing.
    const again = await post(a.agentKey, `/databases/${a.database.id}/check-result`, failing(requestedAt));
    expect(again.status).toBe(200);
    expect(again.body.connectionCheck.checkedAt).toBe(db.connectionCheck.checkedAt);
  });

  it('"test again" and a changed connection ask anew; a report for the older request is refused', async () => {
    const old = (await a.session.json(`/databases/${a.database.id}`)).body.database.connectionCheck;
    const again = await a.session.json(`/databases/${a.database.id}/check`, { method: 'POST' });
    expect(again.status).toBe(200);
    expect(again.body.database.connectionCheck.status).toBe('pending');
    // the previous result stays visible while the agent works on the new request
    expect(again.body.database.connectionCheck.items).toEqual(old.items);
    const requested = again.body.database.connectionCheck.requestedAt;
    expect(Date.parse(requested)).toBeGreaterThan(Date.parse(old.requestedAt));
    expect((await heartbeat(a)).checkRequests).toEqual([
      { databaseId: a.database.id, requestedAt: requested },
    ]);

    const stale = await post(
      a.agentKey,
      `/databases/${a.database.id}/check-result`,
      failing(old.requestedAt),
    );
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('conflict');

    // a schedule edit keeps the answered check; a port edit asks again
    const ok = await post(a.agentKey, `/databases/${a.database.id}/check-result`, {
      requestedAt: requested,
      items: [{ step: 'connection', ok: true }],
    });
    expect(ok.body.connectionCheck.status).toBe('ok');
    const renamed = await a.session.json(`/databases/${a.database.id}`, {
      method: 'PATCH',
      json: { name: 'Shop renamed' },
    });
    expect(renamed.body.database.connectionCheck.status).toBe('ok');
    const moved = await a.session.json(`/databases/${a.database.id}`, {
      method: 'PATCH',
      json: { port: 5433 },
    });
    expect(moved.body.database.connectionCheck.status).toBe('pending');
    expect(Date.parse(moved.body.database.connectionCheck.requestedAt)).toBeGreaterThan(
      Date.parse(requested),
    );
  });

  it("another account's agent can neither report for a database nor ask for its check", async () => {
    const victim = (await a.session.json(`/databases/${a.database.id}`)).body.database;
    const requestedAt = victim.connectionCheck.requestedAt;
    const res = await post(other.agentKey, `/databases/${a.database.id}/check-result`, {
      ...failing(requestedAt),
      agentId: other.agent.id,
    });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    const ask = await other.session.json(`/databases/${a.database.id}/check`, { method: 'POST' });
    expect(ask.status).toBe(404);
    expect((await heartbeat(other)).checkRequests.map((r) => r.databaseId)).not.toContain(a.database.id);
    // untouched: still pending for its own agent
    const after = (await a.session.json(`/databases/${a.database.id}`)).body.database.connectionCheck;
    expect(after).toEqual(victim.connectionCheck);
  });

  it('a browser session cannot report a result, and malformed reports get 422 naming the field', async () => {
    const requestedAt = (await a.session.json(`/databases/${a.database.id}`)).body.database.connectionCheck
      .requestedAt;
    const asSession = await a.session.json(`/databases/${a.database.id}/check-result`, {
      method: 'POST',
      json: failing(requestedAt),
    });
    expect(asSession.status).toBe(403);

    const cases: Array<[unknown, string]> = [
      [{ requestedAt, items: [] }, 'items'],
      [{ requestedAt, items: [{ step: 'teleport', ok: true }] }, 'items.0.step'],
      [{ requestedAt, items: [{ step: 'connection', ok: false, code: 'nope' }] }, 'items.0.code'],
      [{ requestedAt, items: [{ step: 'connection', ok: false, detail: 'a\u0000b' }] }, 'items.0.detail'],
      [{ requestedAt, items: [{ step: 'connection', ok: false, detail: '\ud800x' }] }, 'items.0.detail'],
      [
        { requestedAt, items: [{ step: 'connection', ok: false, detail: 'x'.repeat(5000) }] },
        'items.0.detail',
      ],
      [{ requestedAt: 'yesterday', items: [{ step: 'connection', ok: true }] }, 'requestedAt'],
      [{ requestedAt, items: [{ step: 'connection', ok: true }], extra: 1 }, 'extra'],
    ];
    for (const [body, field] of cases) {
      const res = await post(a.agentKey, `/databases/${a.database.id}/check-result`, body);
      expect(res.status, field).toBe(422);
      expect(Object.keys(res.body.error.fields ?? {}), field).toContain(field);
    }
    // emoji and RTL text are stored as sent
    const text = 'Zugriff verweigert 😀 مرحبا';
    const fine = await post(a.agentKey, `/databases/${a.database.id}/check-result`, {
      requestedAt,
      items: [{ step: 'connection', ok: false, code: 'unreachable', detail: text }],
    });
    expect(fine.status).toBe(200);
    expect(fine.body.connectionCheck.items[0].detail).toBe(text);
  });

  it('an agent of the same account that does not run the database is refused', async () => {
    await a.session.json(`/databases/${a.database.id}/check`, { method: 'POST' });
    const { requestedAt } = (await a.session.json(`/databases/${a.database.id}`)).body.database
      .connectionCheck;
    const res = await post(a.agentKey, `/databases/${a.database.id}/check-result`, {
      ...failing(requestedAt),
      agentId: other.agent.id,
    });
    expect(res.status).toBe(409);
  });
});
