// Invitations by e-mail: a signed link (a 256-bit token, only its hash stored) that expires after
// INVITATION_TTL_MS and works once. Accepting it creates the member with the invited role and logs
// them in. An address that already has a Resistro account cannot be invited (a user belongs to
// one account).
import type { Invitation, InvitationPreview, Language, Role } from '@resistro/contract';
import { roleAtLeast } from '@resistro/contract';
import { and, count, desc, eq, gt, isNull } from 'drizzle-orm';
import { accounts, users } from '../accounts/accounts.sql.ts';
import { accountLocale } from '../accounts/locale.ts';
import { addMember, findUserByEmail } from '../accounts/members.ts';
import type { Db } from '../db.ts';
import type { Config } from '../env.ts';
import { ApiError, notFound } from '../errors.ts';
import { formatDateTime } from '../i18n/format.ts';
import { DEFAULT_LOCALE, type Locale } from '../i18n/language.ts';
import { randomToken, sha256Hex } from '../lib/crypto.ts';
import { sendEmail } from '../notifications/send.ts';
import { invitations } from './teams.sql.ts';

export const INVITATION_TTL_MS = 7 * 86400_000;
/**
 * Open invitations an account may have at once: they come unpaged with the first page of
 * GET /members, so their number has a bound (members are paged).
 */
export const MAX_OPEN_INVITATIONS = 100;

type Row = typeof invitations.$inferSelect;

function toInvitation(row: Row, invitedBy: string | null): Invitation {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    canDownload: row.canDownload,
    invitedBy,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
  };
}

async function inviterEmail(db: Db, userId: string | null): Promise<string | null> {
  if (!userId) return null;
  const [u] = await db.select({ email: users.email }).from(users).where(eq(users.id, userId));
  return u?.email ?? null;
}

/** The open invitations of an account (not accepted, withdrawn or expired). */
export async function listInvitations(db: Db, accountId: string, now: Date): Promise<Invitation[]> {
  const rows = await db
    .select()
    .from(invitations)
    .where(
      and(
        eq(invitations.accountId, accountId),
        isNull(invitations.acceptedAt),
        isNull(invitations.revokedAt),
        gt(invitations.expiresAt, now),
      ),
    )
    .orderBy(desc(invitations.createdAt));
  return Promise.all(rows.map(async (r) => toInvitation(r, await inviterEmail(db, r.invitedByUserId))));
}

const ROLE_NAMES: Record<Language, Record<Role, string>> = {
  en: { owner: 'owner', admin: 'admin', operator: 'operator', viewer: 'viewer' },
  de: { owner: 'Inhaber', admin: 'Admin', operator: 'Operator', viewer: 'Betrachter' },
};

/** The invitation e-mail in the account's language. */
export function invitationEmail(
  o: { inviter: string | null; role: Role; link: string; expiresAt: Date },
  locale: Locale,
): { subject: string; text: string } {
  const role = ROLE_NAMES[locale.language][o.role];
  const until = formatDateTime(o.expiresAt, locale);
  if (locale.language === 'de')
    return {
      subject: '[Resistro] Einladung in ein Team',
      text: [
        `${o.inviter ?? 'Ein Admin'} lädt Sie als ${role} in sein Resistro-Konto ein.`,
        '',
        `Einladung annehmen (der Link gilt bis ${until} und nur einmal):`,
        o.link,
        '',
        'Wenn Sie niemanden dort kennen, ignorieren Sie diese E-Mail einfach.',
        '',
        '--',
        'Resistro – verschlüsselte Datenbank-Backups',
      ].join('\n'),
    };
  return {
    subject: '[Resistro] You are invited to a team',
    text: [
      `${o.inviter ?? 'An admin'} invites you to their Resistro account as ${role}.`,
      '',
      `Accept the invitation (the link works once, until ${until}):`,
      o.link,
      '',
      'If you do not know anyone there, just ignore this e-mail.',
      '',
      '--',
      'Resistro – encrypted database backups',
    ].join('\n'),
  };
}

/**
 * Invites `email` with `role` and sends the link. Only an owner invites an owner. An earlier open
 * invitation of the same address is withdrawn (the new link replaces it). `mailed` is false when
 * the e-mail could not be sent: the invitation stays open and can be sent again.
 */
export async function createInvitation(
  db: Db,
  config: Config,
  input: {
    accountId: string;
    email: string;
    role: Role;
    canDownload: boolean;
    by: { role: Role; userId: string | null };
    origin: string;
  },
  now: Date,
): Promise<{ invitation: Invitation; mailed: boolean }> {
  if (input.role === 'owner' && !roleAtLeast(input.by.role, 'owner'))
    throw new ApiError('forbidden', 'Only an owner may invite an owner', { role: 'is wider than your role' });
  const existing = await findUserByEmail(db, input.email);
  if (existing?.accountId === input.accountId)
    throw new ApiError('conflict', 'This address is already a member', { email: 'is already a member' });
  if (existing)
    throw new ApiError('conflict', 'This e-mail address already has a Resistro account', {
      email: 'is already registered',
    });
  const token = randomToken();
  const expiresAt = new Date(now.getTime() + INVITATION_TTL_MS);
  const row = await db.transaction(async (tx) => {
    await tx
      .update(invitations)
      .set({ revokedAt: now })
      .where(
        and(
          eq(invitations.accountId, input.accountId),
          eq(invitations.email, input.email),
          isNull(invitations.acceptedAt),
          isNull(invitations.revokedAt),
        ),
      );
    // the account row locked: two invitations at once cannot both take the last place
    await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, input.accountId)).for('update');
    const [open] = await tx
      .select({ n: count() })
      .from(invitations)
      .where(
        and(
          eq(invitations.accountId, input.accountId),
          isNull(invitations.acceptedAt),
          isNull(invitations.revokedAt),
          gt(invitations.expiresAt, now),
        ),
      );
    if ((open?.n ?? 0) >= MAX_OPEN_INVITATIONS)
      throw new ApiError(
        'conflict',
        'This account has as many open invitations as it may have; withdraw some or wait until they expire',
      );
    const [inserted] = await tx
      .insert(invitations)
      .values({
        accountId: input.accountId,
        email: input.email,
        role: input.role,
        // operator and higher always may download; the grant is a viewer's
        canDownload: input.role === 'viewer' ? input.canDownload : false,
        tokenHash: await sha256Hex(token),
        invitedByUserId: input.by.userId,
        createdAt: now,
        expiresAt,
      })
      .returning();
    return inserted!;
  });
  const inviter = await inviterEmail(db, input.by.userId);
  const locale = (await accountLocale(db, input.accountId)) ?? DEFAULT_LOCALE;
  const link = `${config.appOrigin ?? input.origin}/invitation#token=${token}`;
  let mailed = true;
  try {
    await sendEmail(config, {
      to: input.email,
      ...invitationEmail({ inviter, role: input.role, link, expiresAt }, locale),
    });
  } catch (err) {
    // SECURITY: the error, never the link (it carries the token).
    console.error('invitation e-mail failed', err instanceof Error ? err.message : String(err));
    mailed = false;
  }
  return { invitation: toInvitation(row, inviter), mailed };
}

export async function revokeInvitation(db: Db, accountId: string, id: string, now: Date) {
  const rows = await db
    .update(invitations)
    .set({ revokedAt: now })
    .where(
      and(
        eq(invitations.id, id),
        eq(invitations.accountId, accountId),
        isNull(invitations.acceptedAt),
        isNull(invitations.revokedAt),
      ),
    )
    .returning({ email: invitations.email });
  if (!rows[0]) throw notFound('invitation');
  return rows[0];
}

/** The open invitation a link names; a used, withdrawn, expired or unknown link is a 404. */
async function openInvitation(db: Db, token: string, now: Date): Promise<Row> {
  const [row] = await db
    .select()
    .from(invitations)
    .where(eq(invitations.tokenHash, await sha256Hex(token)));
  if (!row || row.acceptedAt || row.revokedAt)
    throw new ApiError('not_found', 'This invitation is used, withdrawn or unknown');
  if (row.expiresAt <= now) throw new ApiError('not_found', 'This invitation has expired; ask for a new one');
  return row;
}

export async function previewInvitation(db: Db, token: string, now: Date): Promise<InvitationPreview> {
  const row = await openInvitation(db, token, now);
  return {
    email: row.email,
    role: row.role,
    invitedBy: await inviterEmail(db, row.invitedByUserId),
    expiresAt: row.expiresAt.toISOString(),
  };
}

/** Accepts: the member is created with the invited role and logged in; the link is used up. */
export async function acceptInvitation(
  db: Db,
  config: Config,
  input: { token: string; password: string },
  now: Date,
) {
  const row = await openInvitation(db, input.token, now);
  const used = await db
    .update(invitations)
    .set({ acceptedAt: now })
    .where(and(eq(invitations.id, row.id), isNull(invitations.acceptedAt), isNull(invitations.revokedAt)))
    .returning({ id: invitations.id });
  if (!used[0]) throw new ApiError('not_found', 'This invitation is used, withdrawn or unknown');
  try {
    const member = await addMember(
      db,
      config,
      {
        accountId: row.accountId,
        email: row.email,
        password: input.password,
        role: row.role,
        canDownload: row.canDownload,
      },
      now,
    );
    return { ...member, accountId: row.accountId, invitationId: row.id };
  } catch (err) {
    // Not joined: the link stays usable (e.g. the address signed up elsewhere meanwhile: a 409).
    await db.update(invitations).set({ acceptedAt: null }).where(eq(invitations.id, row.id));
    throw err;
  }
}
