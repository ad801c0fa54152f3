// Members of every role for the team tests: invited by e-mail through the real mail path (the
// local sink), the link's token read from the e-mail, accepted as the invitee would.
import type { Role } from '@resistro/contract';
import { Session, uniqueEmail } from '../../scripts/test/api.ts';
import { sinkMessages } from './cron-fixtures.ts';

export const PASSWORD = 'correct horse battery staple';

/** The invitation link's token from the newest e-mail to `to`. */
export async function invitationToken(to: string): Promise<string> {
  const mails = await sinkMessages({ kind: 'email', to });
  const text = mails.at(-1)?.email?.text ?? '';
  const m = text.match(/\/invitation#token=([A-Za-z0-9_-]+)/);
  if (!m?.[1]) throw new Error(`no invitation e-mail to ${to}`);
  return m[1];
}

/** Invites a new address with `role` and accepts; returns the member's own logged-in session. */
export async function addMember(
  owner: Session,
  role: Role,
  opts: { canDownload?: boolean; tag?: string } = {},
): Promise<{ session: Session; email: string; id: string }> {
  const email = uniqueEmail(opts.tag ?? role);
  const inv = await owner.json('/invitations', {
    method: 'POST',
    json: { email, role, ...(opts.canDownload !== undefined && { canDownload: opts.canDownload }) },
  });
  if (inv.status !== 201) throw new Error(`invite failed: ${inv.status} ${JSON.stringify(inv.body)}`);
  if (!inv.body.mailed) throw new Error('the invitation e-mail was not sent');
  const session = new Session();
  const accepted = await session.json('/invitation/accept', {
    method: 'POST',
    json: { token: await invitationToken(email), password: PASSWORD },
  });
  if (accepted.status !== 201)
    throw new Error(`accept failed: ${accepted.status} ${JSON.stringify(accepted.body)}`);
  return { session, email, id: accepted.body.user.id };
}
