// The audit log against the real worker and PostgreSQL: every security- and data-relevant action of
// a user, an API key and an agent lands in it with actor, IP and object; filters and cursor pages;
// the CSV and JSON exports; append-only in the database itself, gone only with the account.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  accountWithDatabase,
  createKey,
  Session,
  sql,
  stackInfo,
  uploadBackup,
} from '../../scripts/test/api.ts';
import { addMember, PASSWORD } from './team-fixtures.ts';

const IP = `203.0.113.${(process.pid % 250) + 1}`;
type Entry = {
  id: string;
  at: string;
  action: string;
  actor: { kind: string; id: string; label: string | null };
  ip: string | null;
  object: { kind: string; id: string } | null;
  details: Record<string, unknown>;
};

let a: Awaited<ReturnType<typeof accountWithDatabase>>;
let ids: { backup: string; failed: string; viewer: string; viewerEmail: string; extraDb: string };

async function all(s: Session, query = ''): Promise<Entry[]> {
  const out: Entry[] = [];
  let cursor: string | null = null;
  do {
    const q: string = `${query}${query ? '&' : ''}limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await s.json(`/audit?${q}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    out.push(...r.body.items);
    cursor = r.body.nextCursor;
  } while (cursor);
  return out;
}

beforeAll(async () => {
  a = await accountWithDatabase();
  const headers = { 'cf-connecting-ip': IP };
  // failed and successful log-ins from a known address
  await new Session().json('/auth/login', {
    method: 'POST',
    headers,
    json: { email: a.email, password: 'wrong password!' },
  });
  const login = await a.session.json('/auth/login', {
    method: 'POST',
    headers,
    json: { email: a.email, password: a.password },
  });
  expect(login.status).toBe(200);
  const { backup } = await uploadBackup(a.client, a.database.id, randomBytes(512), { agentId: a.agent.id });
  const { backup: running } = await a.client.startBackup({
    databaseId: a.database.id,
    trigger: 'manual',
    agentId: a.agent.id,
  });
  await a.client.failBackup(running.id, { error: 'pg_dump: connection refused', durationMs: 10 });
  await a.session.json(`/backups/${backup.id}/download`, { headers });
  await a.session.json(`/databases/${a.database.id}`, { method: 'PATCH', json: { name: 'Shop 2' } });
  await a.session.json(`/databases/${a.database.id}/pause`, { method: 'POST' });
  await a.session.json(`/databases/${a.database.id}/resume`, { method: 'POST' });
  await a.session.json(`/databases/${a.database.id}/backup-now`, { method: 'POST' });
  const extra = await a.session.json('/databases', {
    method: 'POST',
    json: {
      name: 'Temp',
      engine: 'postgres',
      host: '127.0.0.1',
      database: 'tmp',
      user: 'backup',
      credentials: { mode: 'local' },
      schedule: { kind: 'daily', time: '02:00', timezone: 'UTC' },
      agentId: a.agent.id,
    },
  });
  expect(extra.status).toBe(201);
  await a.session.json(`/databases/${extra.body.database.id}`, { method: 'DELETE' });
  const viewer = await addMember(a.session, 'viewer');
  await a.session.json(`/members/${viewer.id}`, { method: 'PATCH', json: { canDownload: true } });
  await a.session.json(`/members/${viewer.id}`, { method: 'DELETE' });
  const key = await a.session.json('/api-keys', { method: 'POST', json: { name: 'ci', scope: 'read' } });
  await a.session.json(`/api-keys/${key.body.apiKey.id}`, { method: 'DELETE' });
  await a.session.json(`/backups/${backup.id}`, { method: 'DELETE' });
  ids = {
    backup: backup.id,
    failed: running.id,
    viewer: viewer.id,
    viewerEmail: viewer.email,
    extraDb: extra.body.database.id,
  };
});

describe('audit log', () => {
  it('records every action with its actor, address and object', async () => {
    const entries = await all(a.session);
    const find = (action: string, objectId?: string) =>
      entries.find((e) => e.action === action && (!objectId || e.object?.id === objectId));
    const me = { kind: 'user', id: a.user.id, label: a.email };

    expect(find('account.created')?.actor).toEqual(me);
    expect(find('auth.login_failed')).toMatchObject({
      actor: me,
      ip: IP,
      details: { reason: 'wrong_password' },
    });
    expect(find('auth.login')).toMatchObject({ actor: me, ip: IP });
    expect(
      entries
        .filter((e) => e.action === 'api_key.created')
        .map((e) => e.details.scope)
        .sort(),
    ).toEqual(['agent', 'read']);
    expect(find('agent.registered', a.agent.id)?.actor).toMatchObject({
      kind: 'api_key',
      label: expect.stringContaining('agent key'),
    });
    expect(find('database.created', a.database.id)?.actor).toEqual(me);
    expect(find('backup.started', ids.backup)?.actor).toEqual({
      kind: 'agent',
      id: a.agent.id,
      label: 'db1.example.test',
    });
    expect(find('backup.completed', ids.backup)?.details).toMatchObject({
      status: 'succeeded',
      sizeBytes: 512,
    });
    expect(find('backup.failed', ids.failed)?.actor.kind).toBe('agent');
    expect(find('backup.downloaded', ids.backup)).toMatchObject({ actor: me, ip: IP });
    expect(find('database.changed', a.database.id)?.details).toEqual({ fields: ['name'] });
    for (const action of ['database.paused', 'database.resumed', 'backup.requested'])
      expect(find(action, a.database.id), action).toBeDefined();
    expect(find('database.deleted', ids.extraDb)?.details).toEqual({ name: 'Temp' });
    expect(find('member.invited')?.details).toMatchObject({
      email: ids.viewerEmail,
      role: 'viewer',
      mailed: true,
    });
    expect(find('member.joined', ids.viewer)?.actor).toEqual({
      kind: 'user',
      id: ids.viewer,
      label: ids.viewerEmail,
    });
    expect(find('member.role_changed', ids.viewer)?.details).toMatchObject({
      from: 'viewer',
      to: 'viewer',
      canDownload: true,
    });
    expect(find('member.removed', ids.viewer)?.details).toMatchObject({ email: ids.viewerEmail });
    expect(find('api_key.revoked')?.details).toEqual({ name: 'ci' });
    expect(find('backup.deleted', ids.backup)?.actor).toEqual(me);
    // the removed member's own entry still names them
    expect(find('member.joined', ids.viewer)?.actor.label).toBe(ids.viewerEmail);
    // newest first, no entry twice across pages
    const times = entries.map((e) => e.at);
    expect([...times].sort().reverse()).toEqual(times);
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
    // never a secret: no password, key or token in any entry
    const text = JSON.stringify(entries);
    for (const secret of [a.password, a.agentKey, PASSWORD]) expect(text).not.toContain(secret);
  });

  it('filters by actor, action, object and time', async () => {
    const byAgent = await all(a.session, `actorKind=agent&actorId=${a.agent.id}`);
    expect(byAgent.length).toBeGreaterThanOrEqual(3);
    expect(byAgent.every((e) => e.actor.id === a.agent.id)).toBe(true);
    const backups = await all(a.session, 'action=backup.');
    expect(new Set(backups.map((e) => e.action))).toEqual(
      new Set([
        'backup.started',
        'backup.completed',
        'backup.failed',
        'backup.downloaded',
        'backup.requested',
        'backup.deleted',
      ]),
    );
    const one = await all(a.session, `objectKind=backup&objectId=${ids.backup}`);
    expect(one.map((e) => e.action).sort()).toEqual([
      'backup.completed',
      'backup.deleted',
      'backup.downloaded',
      'backup.started',
    ]);
    const future = await all(a.session, `from=${new Date(Date.now() + 3600_000).toISOString()}`);
    expect(future).toEqual([]);
    const bad = await a.session.json('/audit?actorKind=robot');
    expect(bad.status).toBe(422);
    expect(bad.body.error.fields.actorKind).toBeDefined();
    expect((await a.session.json('/audit?cursor=abc')).status).toBe(422);
  });

  it('exports CSV and JSON with every matching entry', async () => {
    const res = await a.session.fetch('/audit/export?format=csv&action=backup.');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.headers.get('content-disposition')).toMatch(
      /attachment; filename="resistro-audit-\d{4}-\d{2}-\d{2}\.csv"/,
    );
    const lines = (await res.text()).trim().split('\r\n');
    expect(lines[0]).toBe('time,action,actor_kind,actor_id,actor,ip,object_kind,object_id,details');
    const listed = await all(a.session, 'action=backup.');
    expect(lines.length - 1).toBe(listed.length);
    expect(
      lines.some((l) =>
        l.includes(`,backup.downloaded,user,${a.user.id},${a.email},${IP},backup,${ids.backup},`),
      ),
    ).toBe(true);

    const json = await a.session.fetch('/audit/export?format=json');
    const body = await json.json();
    expect(body.items.map((e: Entry) => e.action)).toContain('member.removed');
    // the export itself is recorded
    expect((await all(a.session, 'action=audit.exported')).length).toBe(2);
  });

  it('streams a long log in keyset batches: every entry once, newest first, CSV and JSON alike', async () => {
    const b = await accountWithDatabase();
    // 1,300 entries (more than two export batches of 500), many at the same instant so the
    // keyset (at, id) must break ties by id
    await sql(
      `insert into audit_log (account_id, at, actor_kind, actor_id, action, object_kind, object_id, details)
       select $1, now() - make_interval(secs => (g / 3)::int), 'system', 'bulk', 'backup.completed',
              'backup', gen_random_uuid()::text, jsonb_build_object('n', g)
       from generate_series(1, 1300) g`,
      [b.account.id],
    );
    const [{ count }] = await sql('select count(*)::int as count from audit_log where account_id = $1', [
      b.account.id,
    ]);
    const res = await b.session.fetch('/audit/export?format=csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBeNull();
    const lines = (await res.text()).trim().split('\r\n').slice(1);
    // everything that was there, plus the export's own entry
    expect(lines).toHaveLength(count + 1);
    const bulk = lines.filter((l) => l.includes(',system,bulk,'));
    expect(new Set(bulk.map((l) => l.split(',')[7])).size).toBe(1300);
    const times = lines.map((l) => Date.parse(l.split(',')[0]!));
    expect(times).toEqual([...times].sort((x, y) => y - x));

    const json = await (await b.session.fetch('/audit/export?format=json&actorKind=system')).json();
    const bulkItems = json.items.filter((e: Entry) => e.actor.id === 'bulk');
    expect(bulkItems).toHaveLength(1300);
    expect(new Set(bulkItems.map((e: Entry) => e.object?.id)).size).toBe(1300);
  });

  it('keeps a formula out of the CSV', async () => {
    const b = await accountWithDatabase();
    // a key's name becomes the actor's label of what the key does
    const key = await createKey(b.session, 'full', '=HYPERLINK("https://evil.example")');
    const r = await new Session().json(`/databases/${b.database.id}/pause`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(r.status).toBe(200);
    const csv = await (await b.session.fetch('/audit/export')).text();
    const line = csv.split('\r\n').find((l) => l.includes('database.paused'));
    expect(line).toContain(`"'=HYPERLINK(""https://evil.example"") (rsk_`);
  });

  it('cannot be changed or deleted, except with its account', async () => {
    const b = await accountWithDatabase();
    const [row] = await sql('select id from audit_log where account_id = $1 limit 1', [b.account.id]);
    await expect(sql("update audit_log set action = 'x' where id = $1", [row.id])).rejects.toThrow(
      /append-only/,
    );
    await expect(sql('delete from audit_log where id = $1', [row.id])).rejects.toThrow(/append-only/);
    await expect(sql('truncate audit_log')).rejects.toThrow(/append-only/);
    await sql('delete from accounts where id = $1', [b.account.id]);
    const [left] = await sql('select count(*)::int as n from audit_log where account_id = $1', [
      b.account.id,
    ]);
    expect(left.n).toBe(0);
  });

  it('is for admins and owners only', async () => {
    const op = await addMember(a.session, 'operator');
    expect((await op.session.json('/audit')).status).toBe(403);
    expect((await op.session.fetch('/audit/export')).status).toBe(403);
    expect(stackInfo().url).toBeTruthy();
  });
});
