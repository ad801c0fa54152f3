// The account's subscription as the dashboard and the API see it, and what a user asks of Paddle:
// a checkout, a plan change, a cancellation, a payment method update, an invoice. Plans change only
// when Paddle's webhook confirms (webhook.ts); this file only asks Paddle and records schedules.
import {
  type Billing,
  type BillingSummary,
  PAGE_LIMIT_MAX,
  type PageQuery,
  PLANS,
  type PlanId,
  type PlanPreview,
  type Transaction,
} from '@resistro/contract';
import { and, asc, desc, eq, ne } from 'drizzle-orm';
import { accounts, users } from '../accounts/accounts.sql.ts';
import type { Db, DbOrTx } from '../db.ts';
import type { BillingConfig } from '../env.ts';
import { ApiError } from '../errors.ts';
import { afterCursor, toPage } from '../lib/page.ts';
import { billingSubscriptions, billingTransactions } from './billing.sql.ts';
import { type PaddleApi, PaddleError } from './paddle.ts';
import { createPaddleApi } from './paddle-http.ts';
import { PLAN_RANK, planFitProblems } from './plan-fit.ts';

export type EnabledBilling = Extract<BillingConfig, { enabled: true }>;
type Row = typeof billingSubscriptions.$inferSelect;

/** Paddle's API for this configuration (tests of the domain pass the stand-in's URL the same way). */
export function paddleFor(config: EnabledBilling): PaddleApi {
  return createPaddleApi({ apiUrl: config.apiUrl, apiKey: config.apiKey });
}

export function requireBilling(config: BillingConfig): EnabledBilling {
  if (!config.enabled) throw new ApiError('conflict', 'Billing is not enabled on this service');
  return config;
}

/** Paddle failed: a 502 that says so, with nothing of the request or the key in it. */
export async function askPaddle<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof PaddleError) {
      console.error('paddle call failed', e.status, e.code);
      throw new ApiError('billing_unavailable', 'Paddle could not complete this; try again', undefined, {
        cause: e,
      });
    }
    throw e;
  }
}

export async function subscriptionRow(db: DbOrTx, accountId: string): Promise<Row | undefined> {
  const [row] = await db
    .select()
    .from(billingSubscriptions)
    .where(eq(billingSubscriptions.accountId, accountId));
  return row;
}

/** The state in short; `createdAt` is the account's (an unpaid sign-up's grace runs from it). */
export function summarize(
  config: BillingConfig,
  row: Pick<Row, 'status' | 'pastDueSince'> | undefined,
  createdAt: Date,
  now: Date,
): BillingSummary {
  if (!config.enabled) return { enabled: false, state: 'active', graceEndsAt: null, backupsStopped: false };
  const state = row?.status ?? 'pending';
  const from = state === 'pending' ? createdAt : state === 'past_due' ? row?.pastDueSince : null;
  const graceEndsAt = from ? new Date(from.getTime() + config.graceMs) : null;
  const backupsStopped =
    state === 'paused' || (graceEndsAt !== null && now.getTime() >= graceEndsAt.getTime());
  return { enabled: true, state, graceEndsAt: graceEndsAt?.toISOString() ?? null, backupsStopped };
}

export async function billingSummary(
  db: DbOrTx,
  config: BillingConfig,
  accountId: string,
  now: Date,
): Promise<BillingSummary> {
  if (!config.enabled) return summarize(config, undefined, now, now);
  const [account] = await db
    .select({ createdAt: accounts.createdAt })
    .from(accounts)
    .where(eq(accounts.id, accountId));
  return summarize(config, await subscriptionRow(db, accountId), account?.createdAt ?? now, now);
}

/**
 * Why new backups are refused for a billing reason (null: they are not). Protecting data comes
 * first: an unpaid account keeps backing up until its grace period ends.
 */
export async function backupsStopReason(
  db: DbOrTx,
  config: BillingConfig,
  accountId: string,
  now: Date,
): Promise<string | null> {
  const s = await billingSummary(db, config, accountId, now);
  if (!s.backupsStopped) return null;
  if (s.state === 'paused') return 'The subscription is paused; new backups are stopped until it is resumed';
  if (s.state === 'pending')
    return 'No payment has arrived since sign-up; new backups are stopped until the subscription is paid';
  return 'A payment failed and the grace period has ended; new backups are stopped until the payment method is updated';
}

export async function getBilling(
  db: Db,
  config: BillingConfig,
  accountId: string,
  now: Date,
): Promise<Billing> {
  const [account] = await db
    .select({ createdAt: accounts.createdAt })
    .from(accounts)
    .where(eq(accounts.id, accountId));
  const row = await subscriptionRow(db, accountId);
  const iso = (d: Date | null | undefined) => d?.toISOString() ?? null;
  return {
    ...summarize(config, row, account?.createdAt ?? now, now),
    plan: row?.plan ?? null,
    scheduledPlan: row?.scheduledPlan ?? null,
    scheduledPlanAt: iso(row?.scheduledPlanAt),
    periodStart: iso(row?.periodStart),
    periodEnd: iso(row?.periodEnd),
    pastDueSince: iso(row?.pastDueSince),
    cancelAt: iso(row?.cancelAt),
    canceledAt: iso(row?.canceledAt),
    // SECURITY: only Paddle's client-side token, which Paddle.js needs in the browser.
    checkout: config.enabled
      ? { scriptUrl: config.scriptUrl, clientToken: config.clientToken, environment: config.environment }
      : null,
  };
}

const SUBSCRIBED = new Set<Row['status']>(['active', 'trialing', 'past_due', 'paused']);

/** A Paddle transaction for the plan, opened by Paddle.js; the plan applies when its webhook arrives. */
export async function startCheckout(
  db: Db,
  config: BillingConfig,
  accountId: string,
  plan: PlanId,
  paddle: PaddleApi = paddleFor(requireBilling(config)),
): Promise<{ transactionId: string }> {
  const billing = requireBilling(config);
  const row = await subscriptionRow(db, accountId);
  if (row && SUBSCRIBED.has(row.status))
    throw new ApiError('conflict', 'This account already has a subscription; change its plan instead');
  let customerId = row?.customerId ?? null;
  if (!customerId) {
    const [owner] = await db
      .select({ email: users.email })
      .from(users)
      .where(eq(users.accountId, accountId))
      .orderBy(asc(users.createdAt))
      .limit(1);
    if (!owner) throw new ApiError('not_found', 'user not found');
    customerId = (await askPaddle(() => paddle.ensureCustomer({ email: owner.email, accountId }))).id;
    await db
      .insert(billingSubscriptions)
      .values({ accountId, customerId, status: 'pending' })
      .onConflictDoUpdate({
        target: billingSubscriptions.accountId,
        set: { customerId, updatedAt: new Date() },
      });
  }
  const txn = await askPaddle(() =>
    paddle.createCheckoutTransaction({ customerId, priceId: billing.prices[plan], accountId }),
  );
  return { transactionId: txn.id };
}

async function subscribedRow(db: Db, accountId: string): Promise<Row & { subscriptionId: string }> {
  const row = await subscriptionRow(db, accountId);
  if (!row?.subscriptionId || !SUBSCRIBED.has(row.status))
    throw new ApiError('conflict', 'This account has no subscription yet; complete the checkout first');
  return row as Row & { subscriptionId: string };
}

async function currentPlan(db: Db, accountId: string): Promise<PlanId> {
  const [a] = await db.select({ plan: accounts.plan }).from(accounts).where(eq(accounts.id, accountId));
  return a?.plan ?? 'starter';
}

export async function previewPlanChange(
  db: Db,
  config: BillingConfig,
  accountId: string,
  plan: PlanId,
  paddle: PaddleApi = paddleFor(requireBilling(config)),
): Promise<PlanPreview> {
  const billing = requireBilling(config);
  const row = await subscribedRow(db, accountId);
  const from = row.scheduledPlan ?? (await currentPlan(db, accountId));
  const billed = row.plan ?? from;
  if (plan === billed && !row.scheduledPlan)
    return { plan, kind: 'same', chargeNow: null, effectiveAt: null, problems: [] };
  const kind = PLAN_RANK[plan] > PLAN_RANK[await currentPlan(db, accountId)] ? 'upgrade' : 'downgrade';
  if (kind === 'downgrade') {
    return {
      plan,
      kind,
      chargeNow: null,
      effectiveAt: row.periodEnd?.toISOString() ?? null,
      problems: await planFitProblems(db, accountId, plan),
    };
  }
  const preview = await askPaddle(() =>
    paddle.previewPriceChange(row.subscriptionId, billing.prices[plan], 'prorated_immediately'),
  );
  const charge = preview.immediateTransaction;
  return {
    plan,
    kind,
    chargeNow: charge ? { amount: charge.total, currency: charge.currency } : null,
    effectiveAt: null,
    problems: [],
  };
}

/**
 * An upgrade is billed now, prorated, and applies when Paddle confirms; a downgrade is billed from
 * the next period and applies at its start (webhook.ts), once the account fits the smaller plan.
 */
export async function changePlan(
  db: Db,
  config: BillingConfig,
  accountId: string,
  plan: PlanId,
  now: Date,
  paddle: PaddleApi = paddleFor(requireBilling(config)),
): Promise<Billing> {
  const billing = requireBilling(config);
  const row = await subscribedRow(db, accountId);
  if (row.status !== 'active' && row.status !== 'trialing')
    throw new ApiError('conflict', 'The plan can change once the subscription is paid and active');
  const active = await currentPlan(db, accountId);
  if (plan === (row.plan ?? active) && !row.scheduledPlan)
    throw new ApiError('conflict', 'The account is on this plan already');
  if (PLAN_RANK[plan] > PLAN_RANK[active]) {
    await askPaddle(() =>
      paddle.changePrice(row.subscriptionId, billing.prices[plan], 'prorated_immediately'),
    );
  } else {
    const problems = await planFitProblems(db, accountId, plan);
    if (problems.length > 0) {
      throw new ApiError(
        'plan_limit',
        `The ${PLANS[plan].name} plan does not fit this account yet; change what the preview lists first`,
        Object.fromEntries(problems.map((p) => [p.limit, `is ${p.current}, the plan allows ${p.allowed}`])),
      );
    }
    await askPaddle(() =>
      paddle.changePrice(row.subscriptionId, billing.prices[plan], 'full_next_billing_period'),
    );
    // Shown as scheduled at once; the webhook confirms it and applies it when the next period starts.
    if (plan === active) {
      await db
        .update(billingSubscriptions)
        .set({ scheduledPlan: null, scheduledPlanAt: null, updatedAt: now })
        .where(eq(billingSubscriptions.accountId, accountId));
    } else {
      await db
        .update(billingSubscriptions)
        .set({ scheduledPlan: plan, scheduledPlanAt: row.periodEnd, updatedAt: now })
        .where(eq(billingSubscriptions.accountId, accountId));
    }
  }
  return getBilling(db, config, accountId, now);
}

/** Paddle ends the subscription with the paid period; its webhook then starts the account's closing. */
export async function cancelSubscription(
  db: Db,
  config: BillingConfig,
  accountId: string,
  now: Date,
  paddle: PaddleApi = paddleFor(requireBilling(config)),
): Promise<Billing> {
  requireBilling(config);
  const row = await subscribedRow(db, accountId);
  if (!row.cancelAt) {
    const sub = await askPaddle(() => paddle.cancelAtPeriodEnd(row.subscriptionId));
    const at =
      sub.scheduled_change?.action === 'cancel' ? new Date(sub.scheduled_change.effective_at) : row.periodEnd;
    await db
      .update(billingSubscriptions)
      .set({ cancelAt: at, updatedAt: now })
      .where(eq(billingSubscriptions.accountId, accountId));
  }
  return getBilling(db, config, accountId, now);
}

export async function paymentMethodTransaction(
  db: Db,
  config: BillingConfig,
  accountId: string,
  paddle: PaddleApi = paddleFor(requireBilling(config)),
): Promise<{ transactionId: string; url: string | null }> {
  requireBilling(config);
  const row = await subscribedRow(db, accountId);
  const txn = await askPaddle(() => paddle.updatePaymentMethodTransaction(row.subscriptionId));
  return { transactionId: txn.id, url: txn.checkout?.url ?? null };
}

/** Paddle's transaction ids (`txn_…`): nothing else reaches a query. */
export const PADDLE_TXN_ID = /^txn_[a-z0-9]{1,64}$/;
/**
 * The id in a page cursor of the payments: Paddle's, or a UUID (the shape every other list's
 * cursor carries; compared as text it only positions the page, as any id would).
 */
const TXN_CURSOR_ID = /^(txn_[a-z0-9]{1,64}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** Payments newest first, a page at a time. */
export async function listTransactions(db: Db, accountId: string, q: PageQuery = {}) {
  const limit = q.limit ?? PAGE_LIMIT_MAX;
  const where = [eq(billingTransactions.accountId, accountId), ne(billingTransactions.status, 'ready')];
  if (q.cursor)
    where.push(
      afterCursor(q.cursor, billingTransactions.createdAt, billingTransactions.id, {
        idPattern: TXN_CURSOR_ID,
      }),
    );
  const rows = await db
    .select()
    .from(billingTransactions)
    .where(and(...where))
    .orderBy(desc(billingTransactions.createdAt), desc(billingTransactions.id))
    .limit(limit + 1);
  return toPage(rows, limit, toTransaction, (r) => [r.createdAt, r.id]);
}

function toTransaction(r: typeof billingTransactions.$inferSelect): Transaction {
  return {
    id: r.id,
    status: r.status,
    origin: r.origin,
    total: { amount: r.total, currency: r.currency },
    invoiceNumber: r.invoiceNumber,
    billedAt: r.billedAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
  };
}

export async function invoiceUrl(
  db: Db,
  config: BillingConfig,
  accountId: string,
  transactionId: string,
  paddle: PaddleApi = paddleFor(requireBilling(config)),
): Promise<string> {
  requireBilling(config);
  const [row] = await db
    .select({ id: billingTransactions.id, invoiceNumber: billingTransactions.invoiceNumber })
    .from(billingTransactions)
    .where(and(eq(billingTransactions.id, transactionId), eq(billingTransactions.accountId, accountId)));
  if (!row) throw new ApiError('not_found', 'transaction not found');
  if (!row.invoiceNumber) throw new ApiError('conflict', 'This payment has no invoice yet');
  return askPaddle(() => paddle.invoicePdfUrl(row.id));
}
