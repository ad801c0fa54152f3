// Where billing hands over to the account's closing (closing/: read-only state, export, reminders,
// purge). Paddle reporting a subscription canceled starts the closing at the end of the paid
// period; a resubscription reopens the account. The other way round, closing's routes end the
// subscription through the SubscriptionPort below (wired in index.ts).

import { eq } from 'drizzle-orm';
import type { Context } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { reopenAccount, startClosing } from '../closing/closing.ts';
import type { SubscriptionPort } from '../closing/routes.ts';
import type { Db } from '../db.ts';
import { billingSubscriptions } from './billing.sql.ts';
import { askPaddle, cancelSubscription, paddleFor, subscriptionRow } from './billing.ts';

export async function startClosingForCancellation(
  db: Db,
  accountId: string,
  effectiveAt: Date,
): Promise<void> {
  await startClosing(db, accountId, { effectiveAt, reason: 'cancelled' });
}

export async function reopenForResubscription(db: Db, accountId: string): Promise<void> {
  await reopenAccount(db, accountId);
}

const LIVE = new Set(['active', 'trialing', 'past_due', 'paused']);

/** Cancelling (DELETE /account) ends the Paddle subscription with its paid period; reopening takes that back. */
export const billingSubscriptionPort: SubscriptionPort = {
  async endSubscription(c: Context<AppEnv>, accountId: string): Promise<Date | null> {
    const config = c.get('config').billing;
    if (!config.enabled) return null;
    const row = await subscriptionRow(c.get('db'), accountId);
    if (!row?.subscriptionId || !LIVE.has(row.status)) return null;
    const billing = await cancelSubscription(c.get('db'), config, accountId, c.get('now'));
    return billing.cancelAt ? new Date(billing.cancelAt) : null;
  },
  async resumeSubscription(c: Context<AppEnv>, accountId: string): Promise<void> {
    const config = c.get('config').billing;
    if (!config.enabled) return;
    const db = c.get('db');
    const row = await subscriptionRow(db, accountId);
    if (!row?.subscriptionId || !row.cancelAt || !LIVE.has(row.status)) return;
    const id = row.subscriptionId;
    await askPaddle(() => paddleFor(config).removeScheduledChange(id));
    await db
      .update(billingSubscriptions)
      .set({ cancelAt: null, updatedAt: c.get('now') })
      .where(eq(billingSubscriptions.accountId, accountId));
  },
};
