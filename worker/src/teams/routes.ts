// Members, roles and invitations (docs/teams.md). Every route's role is checked by the route
// table (middleware/auth.ts authorize); what depends on the target (owners) is checked here.
import {
  AcceptInvitationBody,
  InvitationLookupQuery,
  InviteBody,
  PageQuery,
  roleAtLeast,
  UpdateMemberBody,
} from '@resistro/contract';
import { Hono } from 'hono';
import { listMembers, removeMember, updateMember } from '../accounts/members.ts';
import { capKeysOf, listKeysCreatedBy } from '../api-keys/api-keys.ts';
import type { AppEnv } from '../app-types.ts';
import { auditRequest, recordAudit, requestIp } from '../audit/audit.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readBody, readId, readQuery } from '../lib/validate.ts';
import { getAccount } from '../plans/plans.ts';
import { setSessionCookie } from '../plans/routes.ts';
import {
  acceptInvitation,
  createInvitation,
  listInvitations,
  previewInvitation,
  revokeInvitation,
} from './invitations.ts';

export const teamRoutes = new Hono<AppEnv>()
  .get('/members', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    const db = c.get('db');
    // Open invitations (addresses someone was invited under) are an admin's business.
    const q = readQuery(c, PageQuery);
    const page = await listMembers(db, p.accountId, q);
    // With the first page only: their number is capped (MAX_OPEN_INVITATIONS), the members' is not.
    const invitations =
      roleAtLeast(p.role, 'admin') && !q.cursor ? await listInvitations(db, p.accountId, c.get('now')) : [];
    return c.json({ ...page, invitations });
  })
  .patch('/members/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const id = readId(c, 'member');
    const input = await readBody(c, UpdateMemberBody);
    const db = c.get('db');
    const { before, after } = await updateMember(db, p.accountId, id, input, p);
    // The keys the member created stay within their new role.
    await capKeysOf(db, p.accountId, id, after.role, after.canDownload);
    if (before.role !== after.role || before.canDownload !== after.canDownload)
      await auditRequest(
        c,
        'member.role_changed',
        { kind: 'member', id },
        { email: after.email, from: before.role, to: after.role, canDownload: after.canDownload },
      );
    return c.json({ member: after });
  })
  .delete('/members/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const id = readId(c, 'member');
    const db = c.get('db');
    const keys = await listKeysCreatedBy(db, p.accountId, id);
    const removed = await removeMember(db, p.accountId, id, p);
    await auditRequest(
      c,
      'member.removed',
      { kind: 'member', id },
      { email: removed.email, role: removed.role, apiKeys: keys.length },
    );
    // Their keys keep working until an admin revokes them: listed here to keep or revoke.
    return c.json({ removed: { id, email: removed.email }, apiKeys: keys });
  })
  .post('/invitations', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const input = await readBody(c, InviteBody);
    const result = await createInvitation(
      c.get('db'),
      c.get('config'),
      {
        accountId: p.accountId,
        email: input.email,
        role: input.role,
        canDownload: input.canDownload ?? false,
        by: p,
        origin: new URL(c.req.url).origin,
      },
      c.get('now'),
    );
    await auditRequest(
      c,
      'member.invited',
      { kind: 'invitation', id: result.invitation.id },
      {
        email: input.email,
        role: input.role,
        canDownload: result.invitation.canDownload,
        mailed: result.mailed,
      },
    );
    return c.json(result, 201);
  })
  .delete('/invitations/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const id = readId(c, 'invitation');
    const { email } = await revokeInvitation(c.get('db'), p.accountId, id, c.get('now'));
    await auditRequest(c, 'member.invitation_withdrawn', { kind: 'invitation', id }, { email });
    return c.body(null, 204);
  })
  .get('/invitation', async (c) => {
    const { token } = readQuery(c, InvitationLookupQuery);
    return c.json(await previewInvitation(c.get('db'), token, c.get('now')));
  })
  .post('/invitation/accept', async (c) => {
    const input = await readBody(c, AcceptInvitationBody);
    const db = c.get('db');
    const joined = await acceptInvitation(db, c.get('config'), input, c.get('now'));
    await recordAudit(db, {
      accountId: joined.accountId,
      actor: { kind: 'user', userId: joined.user.id },
      ip: requestIp(c),
      action: 'member.joined',
      objectKind: 'member',
      objectId: joined.user.id,
      details: { email: joined.user.email, role: joined.user.role, invitation: joined.invitationId },
    });
    setSessionCookie(c, joined.token, joined.expiresAt);
    return c.json({ user: joined.user, account: await getAccount(db, joined.accountId) }, 201);
  });
