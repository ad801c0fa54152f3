// Paddle's webhooks: verified, recorded once by event id, and applied in the order Paddle says they
// happened (occurred_at), whatever order they arrive in. A subscription event carries the whole
// subscription, so the newest one applied is the truth and an older one arriving late is recorded
// as stale and changes nothing.
import { type PlanId, Timestamp } from '@resistro/contract';
import { and, eq, lte, sql } from 'drizzle-orm';
import * as v from 'valibot';
import { accounts } from '../accounts/accounts.sql.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Db, Tx } from '../db.ts';
import { ApiError } from '../errors.ts';
import { billingEvents, billingSubscriptions, billingTransactions } from './billing.sql.ts';
import type { EnabledBilling } from './billing.ts';
import { reopenForResubscription, startClosingForCancellation } from './closing-hooks.ts';
import type { PaddleSubscription, PaddleTransaction } from './paddle.ts';
import { PLAN_RANK } from './plan-fit.ts';
import { verifyPaddleSignature } from './signature.ts';

const PaddleId = (prefix: string) => v.pipe(v.string(), v.regex(new RegExp(`^${prefix}_[a-z0-9]{1,64}$`)));
const Envelope = v.object({
  event_id: PaddleId('evt'),
  event_type: v.pipe(v.string(), v.maxLength(100)),
  occurred_at: Timestamp,
  data: v.record(v.string(), v.unknown()),
});
const SubscriptionData = v.object({
  id: PaddleId('sub'),
  status: v.picklist(['active', 'trialing', 'past_due', 'paused', 'canceled']),
  customer_id: PaddleId('ctm'),
  custom_data: v.nullish(v.record(v.string(), v.unknown())),
  items: v.array(v.object({ price: v.object({ id: v.string() }) })),
  current_billing_period: v.nullish(v.object({ starts_at: Timestamp, ends_at: Timestamp })),
  scheduled_change: v.nullish(v.object({ action: v.string(), effective_at: Timestamp })),
  canceled_at: v.nullish(Timestamp),
});
const TransactionData = v.object({
  id: PaddleId('txn'),
  status: v.pipe(v.string(), v.maxLength(40)),
  customer_id: v.nullish(PaddleId('ctm')),
  subscription_id: v.nullish(PaddleId('sub')),
  custom_data: v.nullish(v.record(v.string(), v.unknown())),
  origin: v.nullish(v.pipe(v.string(), v.maxLength(60))),
  invoice_number: v.nullish(v.pipe(v.string(), v.maxLength(100))),
  currency_code: v.pipe(v.string(), v.regex(/^[A-Z]{3}$/)),
  billed_at: v.nullish(Timestamp),
  created_at: Timestamp,
  details: v.nullish(
    v.object({ totals: v.object({ grand_total: v.pipe(v.string(), v.regex(/^-?\d{1,18}$/)) }) }),
  ),
});

const SUBSCRIPTION_EVENTS = new Set([
  'subscription.created',
  'subscription.activated',
  'subscription.updated',
  'subscription.trialing',
  'subscription.past_due',
  'subscription.paused',
  'subscription.resumed',
  'subscription.canceled',
]);
const TRANSACTION_EVENTS = new Set([
  'transaction.paid',
  'transaction.completed',
  'transaction.payment_failed',
  'transaction.past_due',
  'transaction.billed',
  'transaction.canceled',
]);

export type WebhookOutcome = 'applied' | 'stale' | 'ignored' | 'duplicate';
type Applied = {
  outcome: Exclude<WebhookOutcome, 'duplicate'>;
  accountId: string | null;
  /** what the closing must hear of, after the commit */
  after?: { closeAt: Date } | { reopen: true };
  planChange?: { from: PlanId; to: PlanId };
};

type Row = typeof billingSubscriptions.$inferSelect;

async function rowFor(
  tx: Tx,
  ids: { subscriptionId?: string | null; customerId?: string | null; accountId?: unknown },
): Promise<Row | undefined> {
  if (ids.subscriptionId) {
    const [bySub] = await tx
      .select()
      .from(billingSubscriptions)
      .where(eq(billingSubscriptions.subscriptionId, ids.subscriptionId));
    if (bySub) return bySub;
  }
  if (!ids.customerId) return undefined;
  // SECURITY: a customer id is ours only if our checkout created it for that account; custom_data
  // (set server-side at checkout) must agree when present.
  const [byCustomer] = await tx
    .select()
    .from(billingSubscriptions)
    .where(eq(billingSubscriptions.customerId, ids.customerId));
  if (!byCustomer) return undefined;
  if (ids.accountId !== undefined && ids.accountId !== byCustomer.accountId) return undefined;
  return byCustomer;
}

function planOfPrice(config: EnabledBilling, priceId: string | undefined): PlanId | null {
  for (const [plan, id] of Object.entries(config.prices)) if (id === priceId) return plan as PlanId;
  return null;
}

async function applySubscription(
  tx: Tx,
  config: EnabledBilling,
  sub: v.InferOutput<typeof SubscriptionData>,
  occurredAt: Date,
  now: Date,
): Promise<Applied> {
  const row = await rowFor(tx, {
    subscriptionId: sub.id,
    customerId: sub.customer_id,
    accountId: sub.custom_data?.account_id,
  });
  if (!row) return { outcome: 'ignored', accountId: null };
  // Lock the row: two deliveries for one account apply one after the other.
  await tx.execute(sql`select 1 from billing_subscriptions where account_id = ${row.accountId} for update`);
  if (row.lastEventAt && occurredAt.getTime() < row.lastEventAt.getTime()) {
    return { outcome: 'stale', accountId: row.accountId };
  }
  const [account] = await tx
    .select({ plan: accounts.plan })
    .from(accounts)
    .where(eq(accounts.id, row.accountId));
  const activePlan = account?.plan ?? 'starter';
  const isNew = row.subscriptionId !== sub.id;
  const paddlePlan = planOfPrice(config, sub.items[0]?.price.id);
  const period = sub.current_billing_period;
  const periodStart = period ? new Date(period.starts_at) : null;

  let plan: PlanId = activePlan;
  let scheduledPlan: PlanId | null = isNew ? null : row.scheduledPlan;
  let scheduledPlanAt: Date | null = isNew ? null : row.scheduledPlanAt;
  if (paddlePlan && sub.status !== 'canceled') {
    const newPeriod = !!periodStart && !!row.periodStart && periodStart.getTime() > row.periodStart.getTime();
    if (isNew || !row.plan || PLAN_RANK[paddlePlan] >= PLAN_RANK[activePlan] || newPeriod) {
      // An upgrade (Paddle billed it), the first plan, or a downgrade whose period has come.
      plan = paddlePlan;
      scheduledPlan = null;
      scheduledPlanAt = null;
    } else {
      // A downgrade: Paddle bills the smaller plan from the next period; the limits follow then.
      scheduledPlan = paddlePlan;
      scheduledPlanAt = row.periodEnd ?? (period ? new Date(period.ends_at) : null);
    }
  }
  const status = sub.status;
  const canceledAt = status === 'canceled' ? new Date(sub.canceled_at ?? occurredAt) : null;
  await tx
    .update(billingSubscriptions)
    .set({
      subscriptionId: sub.id,
      customerId: sub.customer_id,
      status,
      plan: paddlePlan ?? row.plan,
      scheduledPlan,
      scheduledPlanAt,
      periodStart: period ? new Date(period.starts_at) : status === 'canceled' ? row.periodStart : null,
      periodEnd: period ? new Date(period.ends_at) : status === 'canceled' ? row.periodEnd : null,
      pastDueSince: status === 'past_due' ? (row.pastDueSince ?? occurredAt) : null,
      pastDueNotifiedAt: status === 'past_due' ? row.pastDueNotifiedAt : null,
      stopNotifiedAt: status === 'past_due' ? row.stopNotifiedAt : null,
      cancelAt:
        sub.scheduled_change?.action === 'cancel' ? new Date(sub.scheduled_change.effective_at) : null,
      canceledAt,
      lastEventAt: occurredAt,
      updatedAt: now,
    })
    .where(eq(billingSubscriptions.accountId, row.accountId));
  const applied: Applied = { outcome: 'applied', accountId: row.accountId };
  if (plan !== activePlan) {
    // billing is the one writer of accounts.plan (SHARED-INTERFACES), and only on Paddle's word.
    await tx.update(accounts).set({ plan }).where(eq(accounts.id, row.accountId));
    applied.planChange = { from: activePlan, to: plan };
  }
  if (status === 'canceled' && (row.status !== 'canceled' || isNew)) {
    // Paddle cancels when the paid period ends (a cancellation asked for in the dashboard already
    // started the closing with that date; the earlier of the two stays).
    applied.after = { closeAt: canceledAt! };
  } else if (status !== 'canceled' && row.status === 'canceled') {
    applied.after = { reopen: true };
  }
  return applied;
}

async function recordTransaction(
  tx: Tx,
  eventType: string,
  txn: v.InferOutput<typeof TransactionData>,
  occurredAt: Date,
): Promise<Applied> {
  // A payment method change is no charge: it is not listed among the payments.
  if (txn.origin === 'subscription_payment_method_change') return { outcome: 'ignored', accountId: null };
  const row = await rowFor(tx, {
    subscriptionId: txn.subscription_id,
    customerId: txn.customer_id,
    accountId: txn.custom_data?.account_id,
  });
  if (!row) return { outcome: 'ignored', accountId: null };
  const status =
    eventType === 'transaction.payment_failed' && txn.status !== 'past_due' ? 'payment_failed' : txn.status;
  const values = {
    accountId: row.accountId,
    subscriptionId: txn.subscription_id ?? null,
    status,
    origin: txn.origin ?? null,
    total: txn.details?.totals.grand_total ?? '0',
    currency: txn.currency_code,
    invoiceNumber: txn.invoice_number ?? null,
    billedAt: txn.billed_at ? new Date(txn.billed_at) : null,
    occurredAt,
    createdAt: new Date(txn.created_at),
  };
  const written = await tx
    .insert(billingTransactions)
    .values({ id: txn.id, ...values })
    .onConflictDoUpdate({
      target: billingTransactions.id,
      set: values,
      // Out of order: an older event about the transaction does not overwrite a newer state.
      where: and(
        eq(billingTransactions.accountId, row.accountId),
        lte(billingTransactions.occurredAt, occurredAt),
      ),
    })
    .returning({ id: billingTransactions.id });
  return { outcome: written.length > 0 ? 'applied' : 'stale', accountId: row.accountId };
}

/**
 * One delivery from Paddle. Refused (401) unless its signature verifies; a second delivery of an
 * event id changes nothing. The event is recorded in the same transaction as its effect, so a
 * failure leaves no record and Paddle's retry applies it.
 */
export async function receiveWebhook(
  db: Db,
  config: EnabledBilling,
  rawBody: string,
  signature: string | undefined,
  now: Date,
): Promise<{ outcome: WebhookOutcome; accountId: string | null; planChange?: Applied['planChange'] }> {
  // SECURITY: the signature is checked before the body is even parsed; wall-clock time, not a test clock.
  const verdict = await verifyPaddleSignature(config.webhookSecret, signature, rawBody, Date.now());
  if (!verdict.ok) {
    throw new ApiError('unauthorized', 'The Paddle-Signature header is missing, stale or does not match');
  }
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    throw new ApiError('bad_request', 'The request body is not valid JSON');
  }
  const envelope = v.safeParse(Envelope, json);
  if (!envelope.success) throw new ApiError('validation_failed', 'Invalid input: not a Paddle event');
  const event = envelope.output;
  const occurredAt = new Date(event.occurred_at);
  const result = await db.transaction(async (tx) => {
    const inserted = await tx
      .insert(billingEvents)
      .values({
        eventId: event.event_id,
        eventType: event.event_type,
        occurredAt,
        receivedAt: now,
        outcome: 'ignored',
      })
      .onConflictDoNothing()
      .returning({ eventId: billingEvents.eventId });
    if (inserted.length === 0) return { outcome: 'duplicate' as const, accountId: null };
    let applied: Applied = { outcome: 'ignored', accountId: null };
    if (SUBSCRIPTION_EVENTS.has(event.event_type)) {
      const sub = v.safeParse(SubscriptionData, event.data);
      if (!sub.success) throw new ApiError('validation_failed', 'Invalid input: not a Paddle subscription');
      applied = await applySubscription(tx, config, sub.output, occurredAt, now);
    } else if (TRANSACTION_EVENTS.has(event.event_type)) {
      const txn = v.safeParse(TransactionData, event.data);
      if (!txn.success) throw new ApiError('validation_failed', 'Invalid input: not a Paddle transaction');
      applied = await recordTransaction(tx, event.event_type, txn.output, occurredAt);
    }
    await tx
      .update(billingEvents)
      .set({ outcome: applied.outcome, accountId: applied.accountId })
      .where(eq(billingEvents.eventId, event.event_id));
    return applied;
  });
  if ('after' in result && result.after && result.accountId) {
    const accountId = result.accountId;
    try {
      if ('closeAt' in result.after) await startClosingForCancellation(db, accountId, result.after.closeAt);
      else await reopenForResubscription(db, accountId);
    } catch (e) {
      // Forget the event so Paddle's retry applies it again (applying a snapshot twice is harmless).
      await db.delete(billingEvents).where(eq(billingEvents.eventId, event.event_id));
      throw e;
    }
  }
  if ('planChange' in result && result.planChange && result.accountId) {
    await recordAudit(db, {
      accountId: result.accountId,
      actor: { kind: 'system', name: 'billing' },
      action: 'billing.plan_changed',
      details: { from: result.planChange.from, to: result.planChange.to, event: event.event_type },
    });
  }
  return {
    outcome: result.outcome,
    accountId: result.accountId,
    ...('planChange' in result && result.planChange && { planChange: result.planChange }),
  };
}

export type { PaddleSubscription, PaddleTransaction };
