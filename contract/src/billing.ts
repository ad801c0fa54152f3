// Billing through Paddle: the subscription's state, plan changes, transactions with invoices, and
// what the dashboard needs to open Paddle's checkout. Browser-safe: valibot only. No Paddle
// secret is ever part of these (the client token is Paddle's public, browser-side token).
import * as v from 'valibot';
import { pageOf } from './page.ts';
import { PLAN_IDS } from './plans.ts';
import { Timestamp } from './text.ts';

const Plan = v.picklist(PLAN_IDS, 'must be one of starter, business, professional, enterprise');

/**
 * pending: signed up, no payment yet; active/trialing: paid; past_due: a payment failed (backups
 * keep running until the grace period ends); paused; canceled: ended (see the account's closing).
 */
export const BILLING_STATES = ['pending', 'active', 'trialing', 'past_due', 'paused', 'canceled'] as const;
export type BillingState = (typeof BILLING_STATES)[number];

/** The short form every account answer carries (banners on every page). */
export const BillingSummary = v.object({
  /** false on a self-hosted service without Paddle: nothing is billed or stopped */
  enabled: v.boolean(),
  state: v.picklist(BILLING_STATES),
  /** when new backups stop (past_due, pending) unless a payment arrives first */
  graceEndsAt: v.nullable(Timestamp),
  /** true once new backups are refused for a billing reason */
  backupsStopped: v.boolean(),
});
export type BillingSummary = v.InferOutput<typeof BillingSummary>;

export const Money = v.object({
  /** in the currency's minor unit (cents), as a decimal string */
  amount: v.string(),
  currency: v.string(),
});
export type Money = v.InferOutput<typeof Money>;

export const Billing = v.object({
  ...BillingSummary.entries,
  /** the plan Paddle bills now (null before the first payment) */
  plan: v.nullable(Plan),
  /** a downgrade waiting for the end of the period */
  scheduledPlan: v.nullable(Plan),
  scheduledPlanAt: v.nullable(Timestamp),
  periodStart: v.nullable(Timestamp),
  periodEnd: v.nullable(Timestamp),
  pastDueSince: v.nullable(Timestamp),
  cancelAt: v.nullable(Timestamp),
  canceledAt: v.nullable(Timestamp),
  /** what the browser needs to load Paddle.js (null when billing is off) */
  checkout: v.nullable(
    v.object({
      scriptUrl: v.string(),
      clientToken: v.string(),
      environment: v.picklist(['sandbox', 'production']),
    }),
  ),
});
export type Billing = v.InferOutput<typeof Billing>;
export const BillingResponse = v.object({ billing: Billing });

export const CheckoutBody = v.strictObject({ plan: Plan });
export const CheckoutResponse = v.object({ transactionId: v.string() });

export const ChangePlanBody = v.strictObject({ plan: Plan });
/** What must change before a downgrade: which limit, what the account has, what the plan allows. */
export const PlanProblem = v.object({
  limit: v.picklist(['databases', 'storage', 'retention']),
  message: v.string(),
  current: v.number(),
  allowed: v.number(),
});
export type PlanProblem = v.InferOutput<typeof PlanProblem>;
export const PlanPreview = v.object({
  plan: Plan,
  kind: v.picklist(['upgrade', 'downgrade', 'same']),
  /** charged now (upgrade: the prorated difference), null when nothing is charged now */
  chargeNow: v.nullable(Money),
  /** when the new plan's limits apply (an upgrade: once Paddle confirms; a downgrade: the period end) */
  effectiveAt: v.nullable(Timestamp),
  /** a downgrade the account does not fit: what to change first (empty when it fits) */
  problems: v.array(PlanProblem),
});
export type PlanPreview = v.InferOutput<typeof PlanPreview>;
export const PlanPreviewResponse = v.object({ preview: PlanPreview });

export const Transaction = v.object({
  id: v.string(),
  status: v.string(),
  /** web (checkout), subscription_recurring, subscription_update, ... */
  origin: v.nullable(v.string()),
  total: Money,
  invoiceNumber: v.nullable(v.string()),
  billedAt: v.nullable(Timestamp),
  createdAt: Timestamp,
});
export type Transaction = v.InferOutput<typeof Transaction>;
/** Newest first, a page at a time. */
export const TransactionList = pageOf(Transaction);
export const InvoiceResponse = v.object({ url: v.string() });
export const PaymentMethodResponse = v.object({ transactionId: v.string(), url: v.nullable(v.string()) });
