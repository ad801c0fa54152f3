// Members, roles and invitations against the real worker, PostgreSQL and mail sink: an invitation
// by e-mail accepted through its link, what a viewer can and cannot do, role changes (never
// without an owner), API keys no wider than their creator, removal ending every session.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  accountWithDatabase,
  createKey,
  Session,
  signup,
  sql,
  uploadBackup,
} from '../../scripts/test/api.ts';
import { sinkMessages } from './cron-fixtures.ts';
import { addMember, invitationToken, PASSWORD } from './team-fixtures.ts';

describe('teams', () => {
  it('makes who signs up the owner', async () => {
    const a = await signup();
    const me = await a.session.json('/auth/me');
    expect(me.body.user).toMatchObject({ role: 'owner', canDownload: true });
    const members = await a.session.json('/members');
    expect(members.body.items).toEqual([expect.objectContaining({ email: a.email, role: 'owner' })]);
  });

  it('invites a colleague as viewer by e-mail: they see everything but cannot delete or download', async () => {
    const a = await accountWithDatabase();
    const { backup } = await uploadBackup(a.client, a.database.id, randomBytes(1024));
    const viewer = await addMember(a.session, 'viewer');
    const mail = (await sinkMessages({ kind: 'email', to: viewer.email })).at(-1)!;
    expect(mail.email!.subject).toContain('Resistro');
    expect(mail.email!.text).toContain(a.email);
    expect(mail.email!.text).toContain('viewer');

    const me = await viewer.session.json('/auth/me');
    expect(me.body.user).toMatchObject({ email: viewer.email, role: 'viewer', canDownload: false });
    expect(me.body.account.id).toBe(a.account.id);
    expect((await viewer.session.json('/databases')).body.items.map((d: { id: string }) => d.id)).toEqual([
      a.database.id,
    ]);
    expect((await viewer.session.json('/backups')).body.items[0].id).toBe(backup.id);

    for (const [method, path] of [
      ['DELETE', `/backups/${backup.id}`],
      ['DELETE', `/databases/${a.database.id}`],
      ['POST', `/databases/${a.database.id}/pause`],
      ['GET', `/backups/${backup.id}/download`],
      ['POST', '/invitations'],
      ['GET', '/audit'],
    ] as const) {
      const r = await viewer.session.json(path, { method, json: method === 'POST' ? {} : undefined });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.error.code).toBe('forbidden');
    }
    const dl = await viewer.session.json(`/backups/${backup.id}/download`);
    expect(dl.body.error.message).toMatch(/may not download backups unless an admin grants it/);
    // nothing changed
    expect((await a.session.json(`/backups/${backup.id}`)).body.backup.status).toBe('succeeded');

    // The owner grants downloads: now the viewer may download, still not delete.
    const grant = await a.session.json(`/members/${viewer.id}`, {
      method: 'PATCH',
      json: { canDownload: true },
    });
    expect(grant.status).toBe(200);
    expect((await viewer.session.json(`/backups/${backup.id}/download`)).status).toBe(200);
    expect((await viewer.session.json(`/backups/${backup.id}`, { method: 'DELETE' })).status).toBe(403);
  });

  it('uses an invitation link once, and not after it expired or was withdrawn', async () => {
    const a = await signup();
    const email = `late-${Date.now()}@example.test`;
    const inv = await a.session.json('/invitations', { method: 'POST', json: { email, role: 'operator' } });
    expect(inv.status).toBe(201);
    expect(inv.body.invitation).toMatchObject({ email, role: 'operator', invitedBy: a.email });
    const token = await invitationToken(email);
    const preview = await new Session().json(`/invitation?token=${token}`);
    expect(preview.body).toMatchObject({ email, role: 'operator', invitedBy: a.email });
    // only the hash is stored
    const [row] = await sql('select token_hash from invitations where id = $1', [inv.body.invitation.id]);
    expect(row.token_hash).not.toContain(token);

    await sql("update invitations set expires_at = now() - interval '1 second' where id = $1", [
      inv.body.invitation.id,
    ]);
    const expired = await new Session().json('/invitation/accept', {
      method: 'POST',
      json: { token, password: PASSWORD },
    });
    expect(expired.status).toBe(404);
    expect(expired.body.error.message).toMatch(/expired/);

    // invited again: the new link works once; the withdrawn one never
    await a.session.json('/invitations', { method: 'POST', json: { email, role: 'operator' } });
    const second = await invitationToken(email);
    const s = new Session();
    expect(
      (await s.json('/invitation/accept', { method: 'POST', json: { token: second, password: PASSWORD } }))
        .status,
    ).toBe(201);
    expect((await s.json('/auth/me')).body.user.role).toBe('operator');
    const again = await new Session().json('/invitation/accept', {
      method: 'POST',
      json: { token: second, password: PASSWORD },
    });
    expect(again.status).toBe(404);

    // an address that is already a member, or has its own account, cannot be invited
    const dup = await a.session.json('/invitations', { method: 'POST', json: { email, role: 'viewer' } });
    expect(dup.status).toBe(409);
    expect(dup.body.error.fields.email).toBeDefined();
    const other = await signup();
    const taken = await a.session.json('/invitations', {
      method: 'POST',
      json: { email: other.email, role: 'viewer' },
    });
    expect(taken.status).toBe(409);

    // a withdrawn invitation's link is dead
    const third = `withdrawn-${Date.now()}@example.test`;
    const w = await a.session.json('/invitations', {
      method: 'POST',
      json: { email: third, role: 'viewer' },
    });
    const wToken = await invitationToken(third);
    expect((await a.session.json('/members')).body.invitations.map((i: { id: string }) => i.id)).toContain(
      w.body.invitation.id,
    );
    expect((await a.session.json(`/invitations/${w.body.invitation.id}`, { method: 'DELETE' })).status).toBe(
      204,
    );
    expect((await new Session().json(`/invitation?token=${wToken}`)).status).toBe(404);
  });

  it('keeps at least one owner, and only an owner gives or takes the owner role', async () => {
    const a = await signup();
    const me = (await a.session.json('/auth/me')).body.user;
    const admin = await addMember(a.session, 'admin');
    const last = await a.session.json(`/members/${me.id}`, { method: 'PATCH', json: { role: 'admin' } });
    expect(last.status).toBe(409);
    expect((await a.session.json(`/members/${me.id}`, { method: 'DELETE' })).status).toBe(409);
    // an admin may not make themselves (or anyone) owner, nor invite an owner, nor touch the owner
    expect(
      (await admin.session.json(`/members/${admin.id}`, { method: 'PATCH', json: { role: 'owner' } })).status,
    ).toBe(403);
    expect(
      (await admin.session.json(`/members/${me.id}`, { method: 'PATCH', json: { role: 'viewer' } })).status,
    ).toBe(403);
    expect((await admin.session.json(`/members/${me.id}`, { method: 'DELETE' })).status).toBe(403);
    const inviteOwner = await admin.session.json('/invitations', {
      method: 'POST',
      json: { email: `o-${Date.now()}@example.test`, role: 'owner' },
    });
    expect(inviteOwner.status).toBe(403);
    // the owner makes the admin an owner, then may step down
    expect(
      (await a.session.json(`/members/${admin.id}`, { method: 'PATCH', json: { role: 'owner' } })).status,
    ).toBe(200);
    const down = await a.session.json(`/members/${me.id}`, { method: 'PATCH', json: { role: 'viewer' } });
    expect(down.status).toBe(200);
    expect((await a.session.json('/auth/me')).body.user.role).toBe('viewer');
    // billing and cancellation are the owner's
    expect((await a.session.json('/account', { method: 'DELETE' })).status).toBe(403);
    expect((await a.session.json('/billing')).status).toBe(403);
    expect((await admin.session.json('/billing')).status).toBe(200);
  });

  it('gives an API key no more than its creator’s role, and caps it when the creator is demoted', async () => {
    const a = await accountWithDatabase();
    const op = await addMember(a.session, 'operator');
    const viewer = await addMember(a.session, 'viewer');
    expect(
      (await viewer.session.json('/api-keys', { method: 'POST', json: { name: 'x', scope: 'read' } })).status,
    ).toBe(403);
    const full = await op.session.json('/api-keys', {
      method: 'POST',
      json: { name: 'ops full', scope: 'full' },
    });
    expect(full.status).toBe(201);
    expect(full.body.apiKey).toMatchObject({
      role: 'operator',
      createdBy: op.email,
      createdByRemoved: false,
    });
    const key = full.body.secret as string;
    const asKey = (path: string, method = 'GET', json?: unknown) => {
      const s = new Session();
      return s.json(path, { method, json, headers: { authorization: `Bearer ${key}` } });
    };
    expect((await asKey(`/databases/${a.database.id}/pause`, 'POST')).status).toBe(200);
    expect((await asKey('/invitations', 'POST', { email: 'k@example.test', role: 'viewer' })).status).toBe(
      403,
    );
    expect((await asKey('/account', 'DELETE')).status).toBe(403);
    // An operator revokes only their own keys.
    const ownerKeys = (await a.session.json('/api-keys')).body.items.filter(
      (k: { createdBy: string }) => k.createdBy === a.email,
    );
    expect((await op.session.json(`/api-keys/${ownerKeys[0].id}`, { method: 'DELETE' })).status).toBe(403);

    // demoted to viewer: the key can no longer change anything
    await a.session.json(`/members/${op.id}`, { method: 'PATCH', json: { role: 'viewer' } });
    const capped = (await a.session.json('/api-keys')).body.items.find(
      (k: { id: string }) => k.id === full.body.apiKey.id,
    );
    expect(capped).toMatchObject({ role: 'viewer', canDownload: false });
    expect((await asKey(`/databases/${a.database.id}/resume`, 'POST')).status).toBe(403);
    expect((await asKey('/databases')).status).toBe(200);
  });

  it('removing a member ends their sessions at once and lists the keys they created', async () => {
    const a = await accountWithDatabase();
    const admin = await addMember(a.session, 'admin');
    const second = new Session();
    expect(
      (await second.json('/auth/login', { method: 'POST', json: { email: admin.email, password: PASSWORD } }))
        .status,
    ).toBe(200);
    const agentKey = await createKey(admin.session, 'agent', 'their agent key');
    expect(agentKey).toMatch(/^rsk_/);

    const removed = await a.session.json(`/members/${admin.id}`, { method: 'DELETE' });
    expect(removed.status).toBe(200);
    expect(removed.body.apiKeys).toEqual([
      expect.objectContaining({ name: 'their agent key', createdBy: admin.email }),
    ]);
    for (const s of [admin.session, second]) {
      const r = await s.json('/databases');
      expect(r.status).toBe(401);
    }
    const [n] = await sql('select count(*)::int as n from sessions where user_id = $1', [admin.id]);
    expect(n.n).toBe(0);
    // the key is kept until an admin decides, and says its creator left
    const kept = (await a.session.json('/api-keys')).body.items.find(
      (k: { name: string }) => k.name === 'their agent key',
    );
    expect(kept).toMatchObject({ createdBy: admin.email, createdByRemoved: true });
    expect((await a.session.json(`/api-keys/${kept.id}`, { method: 'DELETE' })).status).toBe(204);
    // and they cannot log in any more
    const login = await new Session().json('/auth/login', {
      method: 'POST',
      json: { email: admin.email, password: PASSWORD },
    });
    expect(login.status).toBe(401);
    expect((await a.session.json('/members')).body.items.map((m: { email: string }) => m.email)).toEqual([
      a.email,
    ]);
  });
});
