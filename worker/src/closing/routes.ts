// Cancelling, deleting on request, reopening, and the export manifest. Ending the subscription
// is billing's (Paddle): the routes get it as a port from the app (index.ts wires billing in), so
// billing can call startClosing/reopenAccount without a folder loop.
import { DeleteAccountBody, ExportManifestQuery } from '@resistro/contract';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { checkPassword } from '../accounts/accounts.ts';
import type { AppEnv } from '../app-types.ts';
import { auditRequest } from '../audit/audit.ts';
import { ApiError } from '../errors.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readBody, readQuery } from '../lib/validate.ts';
import { getClosing, reopenAccount, startClosing, toAccountClosing } from './closing.ts';
import { exportManifest } from './export.ts';

export type SubscriptionPort = {
  /**
   * Ends the account's subscription at the end of its paid period (as Paddle does) and returns
   * that date; null when the account has none (created before billing, or never paid): then the
   * account turns read-only at once.
   */
  endSubscription(c: Context<AppEnv>, accountId: string): Promise<Date | null>;
  /** Takes back a scheduled cancellation; called before the account is reopened. */
  resumeSubscription(c: Context<AppEnv>, accountId: string): Promise<void>;
};

export const NO_SUBSCRIPTIONS: SubscriptionPort = {
  endSubscription: async () => null,
  resumeSubscription: async () => {},
};

async function close(
  c: Context<AppEnv>,
  ports: SubscriptionPort,
  reason: 'cancelled' | 'deletion_requested',
) {
  const db = c.get('db');
  const now = c.get('now');
  const p = requirePrincipal(c.get('principal'), 'write');
  const existing = await getClosing(db, p.accountId);
  // Already closing: the date stays (the subscription was ended already); a deletion request
  // only changes the reason.
  const effectiveAt = existing?.effectiveAt ?? (await ports.endSubscription(c, p.accountId)) ?? now;
  await startClosing(db, p.accountId, { effectiveAt, reason, now });
  const closing = toAccountClosing(await getClosing(db, p.accountId), now);
  await auditRequest(
    c,
    reason === 'cancelled' ? 'account.cancelled' : 'account.deletion_requested',
    { kind: 'account', id: p.accountId },
    { effectiveAt: closing?.effectiveAt, purgeAt: closing?.purgeAt },
  );
  return closing;
}

export function closingRoutes(ports: SubscriptionPort = NO_SUBSCRIPTIONS) {
  return new Hono<AppEnv>()
    .delete('/account', async (c) => {
      return c.json({ closing: await close(c, ports, 'cancelled') }, 202);
    })
    .post('/account/deletion', async (c) => {
      const p = requirePrincipal(c.get('principal'), 'write');
      const input = await readBody(c, DeleteAccountBody);
      if (!p.userId) {
        throw new ApiError(
          'forbidden',
          'Only a logged-in user can delete the account (it asks for the password)',
        );
      }
      if (!(await checkPassword(c.get('db'), p.userId, input.password))) {
        throw new ApiError('validation_failed', 'The password is wrong', { password: 'is wrong' });
      }
      return c.json({ closing: await close(c, ports, 'deletion_requested') }, 202);
    })
    .post('/account/reopen', async (c) => {
      const p = requirePrincipal(c.get('principal'), 'write');
      const db = c.get('db');
      const closing = await getClosing(db, p.accountId);
      if (!closing) throw new ApiError('conflict', 'This account is neither cancelled nor being deleted');
      if (closing.purgeAt <= c.get('now')) {
        throw new ApiError('conflict', 'The 30 days are over; this account is being deleted');
      }
      await ports.resumeSubscription(c, p.accountId);
      await reopenAccount(db, p.accountId);
      await auditRequest(
        c,
        'account.reopened',
        { kind: 'account', id: p.accountId },
        { reason: closing.reason },
      );
      return c.json({ closing: null });
    })
    .get('/export/manifest', async (c) => {
      const p = requirePrincipal(c.get('principal'), 'download');
      const q = readQuery(c, ExportManifestQuery);
      const manifest = await exportManifest(c.get('db'), c.get('storage'), p.accountId, q, c.get('now'));
      // one entry per export, at its first page (the totals cover every page)
      if (!q.cursor)
        await auditRequest(
          c,
          'account.exported',
          q.databaseId ? { kind: 'database', id: q.databaseId } : undefined,
          {
            backups: manifest.backups,
            totalBytes: manifest.totalBytes,
          },
        );
      return c.json(manifest);
    });
}
