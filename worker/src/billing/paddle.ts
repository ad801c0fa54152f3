// The part of Paddle Billing's API the worker uses, as one interface (docs/billing.md). The HTTP
// implementation is paddle-http.ts; the local stand-in (scripts/stack/paddle.ts) speaks the same
// protocol, and paddle-api.test.ts runs one contract suite against it.

/** A subscription as Paddle's API and webhooks describe it (the fields we read). */
export type PaddleSubscription = {
  id: string;
  status: 'active' | 'trialing' | 'past_due' | 'paused' | 'canceled';
  customer_id: string;
  custom_data: Record<string, unknown> | null;
  items: Array<{ price: { id: string }; quantity: number }>;
  current_billing_period: { starts_at: string; ends_at: string } | null;
  next_billed_at: string | null;
  scheduled_change: { action: 'cancel' | 'pause' | 'resume'; effective_at: string } | null;
  canceled_at: string | null;
  management_urls?: { update_payment_method: string | null; cancel: string } | null;
};

export type PaddleTransaction = {
  id: string;
  status: 'draft' | 'ready' | 'billed' | 'paid' | 'completed' | 'canceled' | 'past_due';
  customer_id: string | null;
  subscription_id: string | null;
  custom_data: Record<string, unknown> | null;
  origin: string | null;
  invoice_number: string | null;
  currency_code: string;
  billed_at: string | null;
  created_at: string;
  details: { totals: { grand_total: string; currency_code?: string } } | null;
  checkout: { url: string | null } | null;
};

/** Upgrades are charged the prorated difference now; downgrades bill the new price from the next period. */
export type ProrationMode = 'prorated_immediately' | 'full_next_billing_period';

export type PaddleUpdatePreview = {
  /** charged now: null when the change bills nothing now */
  immediateTransaction: { total: string; currency: string } | null;
  nextBilledAt: string | null;
};

export type PaddleApi = {
  /** the customer with this e-mail address (created, or the existing one Paddle reports) */
  ensureCustomer(input: { email: string; accountId: string }): Promise<{ id: string }>;
  /** a ready transaction for a checkout: Paddle.js opens it by id */
  createCheckoutTransaction(input: {
    customerId: string;
    priceId: string;
    accountId: string;
  }): Promise<PaddleTransaction>;
  getSubscription(id: string): Promise<PaddleSubscription>;
  previewPriceChange(id: string, priceId: string, mode: ProrationMode): Promise<PaddleUpdatePreview>;
  changePrice(id: string, priceId: string, mode: ProrationMode): Promise<PaddleSubscription>;
  /** cancels at the end of the billing period (Paddle schedules it) */
  cancelAtPeriodEnd(id: string): Promise<PaddleSubscription>;
  /** drops a scheduled cancellation */
  removeScheduledChange(id: string): Promise<PaddleSubscription>;
  /** a transaction whose checkout updates the subscription's payment method */
  updatePaymentMethodTransaction(subscriptionId: string): Promise<PaddleTransaction>;
  /** a short-lived link to the transaction's invoice PDF */
  invoicePdfUrl(transactionId: string): Promise<string>;
};

/** Paddle answered with an error (its `error.code` kept) or could not be reached. */
export class PaddleError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'PaddleError';
    this.status = status;
    this.code = code;
  }
}
