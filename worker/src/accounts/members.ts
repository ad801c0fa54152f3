// The members of an account: the users with their role (owner, admin, operator, viewer) and the
// download grant of a viewer. A user belongs to one account. There is always at least one owner:
// role changes and removals lock the account's members and refuse to take the last one away.
import { type Member, PAGE_LIMIT_MAX, type PageQuery, type Role, roleAtLeast } from '@resistro/contract';
import { and, asc, eq } from 'drizzle-orm';
import type { Db, Tx } from '../db.ts';
import type { Config } from '../env.ts';
import { ApiError, notFound } from '../errors.ts';
import { hashPassword } from '../lib/crypto.ts';
import { afterCursor, toPage } from '../lib/page.ts';
import { users } from './accounts.sql.ts';
import { createSession, toUser } from './accounts.ts';

type Row = typeof users.$inferSelect;

export function toMember(row: Row): Member {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    canDownload: row.canDownload,
    createdAt: row.createdAt.toISOString(),
  };
}

/** The account's members, oldest first (the owner who signed up leads), a page at a time. */
export async function listMembers(db: Db, accountId: string, q: PageQuery = {}) {
  const limit = q.limit ?? PAGE_LIMIT_MAX;
  const where = [eq(users.accountId, accountId)];
  if (q.cursor) where.push(afterCursor(q.cursor, users.createdAt, users.id, { order: 'asc' }));
  const rows = await db
    .select()
    .from(users)
    .where(and(...where))
    .orderBy(asc(users.createdAt), asc(users.id))
    .limit(limit + 1);
  return toPage(rows, limit, toMember, (r) => [r.createdAt, r.id]);
}

/** The user with this e-mail address in any account, if there is one. */
export async function findUserByEmail(db: Db, email: string) {
  const [row] = await db
    .select({ id: users.id, accountId: users.accountId })
    .from(users)
    .where(eq(users.email, email));
  return row;
}

/** A new member with the password they chose (an accepted invitation), logged in. */
export async function addMember(
  db: Db,
  config: Config,
  input: { accountId: string; email: string; password: string; role: Role; canDownload: boolean },
  now: Date,
) {
  const passwordHash = await hashPassword(input.password, config.pbkdf2Iterations);
  const inserted = await db
    .insert(users)
    .values({
      accountId: input.accountId,
      email: input.email,
      passwordHash,
      role: input.role,
      canDownload: input.canDownload,
      createdAt: now,
      // the invitation was opened from this address: it is verified (issue 16)
      emailVerifiedAt: now,
    })
    .onConflictDoNothing()
    .returning();
  const user = inserted[0];
  if (!user)
    throw new ApiError('conflict', 'This e-mail address already has a Resistro account', {
      email: 'is already registered',
    });
  const session = await createSession(db, config, user, now);
  return { user: toUser(user), ...session };
}

/** Locks the account's members for a change of owners; returns them. */
async function lockMembers(tx: Tx, accountId: string) {
  return tx
    .select({ id: users.id, role: users.role, email: users.email, canDownload: users.canDownload })
    .from(users)
    .where(eq(users.accountId, accountId))
    .for('update');
}

const LAST_OWNER = 'An account always keeps at least one owner: make another member owner first';

/**
 * Changes a member's role or download grant. Only an owner gives or takes the owner role; the
 * last owner stays. Returns the member before and after, for the audit log.
 */
export async function updateMember(
  db: Db,
  accountId: string,
  id: string,
  change: { role?: Role | undefined; canDownload?: boolean | undefined },
  by: { role: Role },
) {
  return db.transaction(async (tx) => {
    const members = await lockMembers(tx, accountId);
    const before = members.find((m) => m.id === id);
    if (!before) throw notFound('member');
    const role = change.role ?? before.role;
    if (
      (role === 'owner' || before.role === 'owner') &&
      role !== before.role &&
      !roleAtLeast(by.role, 'owner')
    )
      throw new ApiError('forbidden', 'Only an owner may give or take the owner role');
    if (before.role === 'owner' && role !== 'owner' && members.filter((m) => m.role === 'owner').length <= 1)
      throw new ApiError('conflict', LAST_OWNER);
    const canDownload = change.canDownload ?? before.canDownload;
    const [after] = await tx
      .update(users)
      .set({ role, canDownload })
      .where(and(eq(users.id, id), eq(users.accountId, accountId)))
      .returning();
    return { before: { role: before.role, canDownload: before.canDownload }, after: toMember(after!) };
  });
}

/**
 * Removes a member: their user goes, and with it (cascade) every session they had, so they are
 * logged out at once. Only an owner removes an owner; the last owner stays.
 */
export async function removeMember(db: Db, accountId: string, id: string, by: { role: Role }) {
  return db.transaction(async (tx) => {
    const members = await lockMembers(tx, accountId);
    const member = members.find((m) => m.id === id);
    if (!member) throw notFound('member');
    if (member.role === 'owner' && !roleAtLeast(by.role, 'owner'))
      throw new ApiError('forbidden', 'Only an owner may remove an owner');
    if (member.role === 'owner' && members.filter((m) => m.role === 'owner').length <= 1)
      throw new ApiError('conflict', LAST_OWNER);
    await tx.delete(users).where(and(eq(users.id, id), eq(users.accountId, accountId)));
    return { email: member.email, role: member.role };
  });
}
