import { PLAN_IDS } from '@resistro/contract';
import { sql } from 'drizzle-orm';
import { index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { accounts } from '../accounts/accounts.sql.ts';
import { ts, tsMs } from '../lib/columns.ts';

export const BILLING_STATUSES = ['pending', 'active', 'trialing', 'past_due', 'paused', 'canceled'] as const;

/**
 * The account's Paddle subscription as the last applied webhook described it (one row per account,
 * created at the first checkout). `plan` is what Paddle bills; accounts.plan follows it, except
 * that a downgrade waits in `scheduledPlan` until the period it was asked in has ended.
 */
export const billingSubscriptions = pgTable(
  'billing_subscriptions',
  {
    accountId: uuid('account_id')
      .primaryKey()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    customerId: text('customer_id'),
    subscriptionId: text('subscription_id'),
    status: text('status', { enum: BILLING_STATUSES }).notNull().default('pending'),
    plan: text('plan', { enum: PLAN_IDS }),
    scheduledPlan: text('scheduled_plan', { enum: PLAN_IDS }),
    scheduledPlanAt: ts('scheduled_plan_at'),
    periodStart: ts('period_start'),
    periodEnd: ts('period_end'),
    pastDueSince: ts('past_due_since'),
    pastDueNotifiedAt: ts('past_due_notified_at'),
    /** the e-mail saying new backups stopped (grace period over) went out */
    stopNotifiedAt: ts('stop_notified_at'),
    /** a cancellation Paddle has scheduled for the end of the paid period */
    cancelAt: ts('cancel_at'),
    canceledAt: ts('canceled_at'),
    /** occurred_at of the newest subscription event applied; older ones are recorded, not applied */
    lastEventAt: ts('last_event_at'),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('billing_subscriptions_subscription_key').on(t.subscriptionId),
    uniqueIndex('billing_subscriptions_customer_key').on(t.customerId),
    index('billing_subscriptions_past_due_idx').on(t.pastDueSince).where(sql`${t.pastDueSince} IS NOT NULL`),
  ],
);

/** Every webhook event accepted, by Paddle's event id: a second delivery of one is not applied again. */
export const billingEvents = pgTable(
  'billing_events',
  {
    eventId: text('event_id').primaryKey(),
    eventType: text('event_type').notNull(),
    accountId: uuid('account_id').references(() => accounts.id, { onDelete: 'cascade' }),
    occurredAt: ts('occurred_at').notNull(),
    receivedAt: ts('received_at').notNull().defaultNow(),
    /** 'applied', 'stale' (older than what was applied), 'ignored' (not ours or not a kind we use) */
    outcome: text('outcome', { enum: ['applied', 'stale', 'ignored'] }).notNull(),
  },
  (t) => [index('billing_events_account_idx').on(t.accountId, t.occurredAt)],
);

/** Paddle transactions of the account (charges, their state and invoice number; the PDF is fetched from Paddle). */
export const billingTransactions = pgTable(
  'billing_transactions',
  {
    id: text('id').primaryKey(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    subscriptionId: text('subscription_id'),
    status: text('status').notNull(),
    origin: text('origin'),
    /** in the currency's minor unit, as Paddle sends it (a decimal string) */
    total: text('total').notNull(),
    currency: text('currency').notNull(),
    invoiceNumber: text('invoice_number'),
    billedAt: ts('billed_at'),
    occurredAt: ts('occurred_at').notNull(),
    createdAt: tsMs('created_at').notNull(),
  },
  (t) => [index('billing_transactions_account_idx').on(t.accountId, t.createdAt)],
);
