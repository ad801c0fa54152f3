// Paddle Billing over plain fetch (runs in workerd). Each call: Bearer API key, JSON in and out,
// `{ data }` answers and `{ error: { code, detail } }` failures.
import {
  type PaddleApi,
  PaddleError,
  type PaddleSubscription,
  type PaddleTransaction,
  type ProrationMode,
} from './paddle.ts';

const TIMEOUT_MS = 15_000;

export function createPaddleApi(o: { apiUrl: string; apiKey: string }): PaddleApi {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${o.apiUrl}${path}`, {
        method,
        headers: {
          // SECURITY: the API key goes only to Paddle's API URL, never into a log or an error.
          authorization: `Bearer ${o.apiKey}`,
          'content-type': 'application/json',
          'paddle-version': '1',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (e) {
      throw new PaddleError(0, 'unreachable', `Paddle could not be reached: ${(e as Error).name}`);
    }
    const text = await res.text();
    let json: { data?: T; error?: { code?: string; detail?: string } } = {};
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      throw new PaddleError(res.status, 'bad_response', `Paddle answered ${res.status} without JSON`);
    }
    if (!res.ok || json.data === undefined) {
      throw new PaddleError(
        res.status,
        json.error?.code ?? 'unknown',
        `Paddle answered ${res.status}: ${json.error?.detail ?? json.error?.code ?? 'no detail'}`,
      );
    }
    return json.data;
  }

  const items = (priceId: string) => [{ price_id: priceId, quantity: 1 }];

  return {
    async ensureCustomer({ email, accountId }) {
      try {
        return await call<{ id: string }>('POST', '/customers', {
          email,
          custom_data: { account_id: accountId },
        });
      } catch (e) {
        // Paddle keeps one customer per e-mail address: reuse it.
        if (!(e instanceof PaddleError) || e.code !== 'customer_already_exists') throw e;
        const found = await call<Array<{ id: string }>>(
          'GET',
          `/customers?email=${encodeURIComponent(email)}`,
        );
        if (!found[0]) throw e;
        return { id: found[0].id };
      }
    },
    createCheckoutTransaction({ customerId, priceId, accountId }) {
      return call<PaddleTransaction>('POST', '/transactions', {
        items: items(priceId),
        customer_id: customerId,
        collection_mode: 'automatic',
        // SECURITY: set here, server-side, so a browser cannot attach a payment to another account.
        custom_data: { account_id: accountId },
      });
    },
    getSubscription(id) {
      return call<PaddleSubscription>('GET', `/subscriptions/${encodeURIComponent(id)}`);
    },
    async previewPriceChange(id, priceId, mode: ProrationMode) {
      const preview = await call<{
        immediate_transaction: { details: { totals: { grand_total: string; currency_code: string } } } | null;
        next_billed_at: string | null;
      }>('PATCH', `/subscriptions/${encodeURIComponent(id)}/preview`, {
        items: items(priceId),
        proration_billing_mode: mode,
      });
      const totals = preview.immediate_transaction?.details.totals;
      return {
        immediateTransaction: totals ? { total: totals.grand_total, currency: totals.currency_code } : null,
        nextBilledAt: preview.next_billed_at,
      };
    },
    changePrice(id, priceId, mode) {
      return call<PaddleSubscription>('PATCH', `/subscriptions/${encodeURIComponent(id)}`, {
        items: items(priceId),
        proration_billing_mode: mode,
      });
    },
    cancelAtPeriodEnd(id) {
      return call<PaddleSubscription>('POST', `/subscriptions/${encodeURIComponent(id)}/cancel`, {
        effective_from: 'next_billing_period',
      });
    },
    removeScheduledChange(id) {
      return call<PaddleSubscription>('PATCH', `/subscriptions/${encodeURIComponent(id)}`, {
        scheduled_change: null,
      });
    },
    updatePaymentMethodTransaction(subscriptionId) {
      return call<PaddleTransaction>(
        'GET',
        `/subscriptions/${encodeURIComponent(subscriptionId)}/update-payment-method-transaction`,
      );
    },
    async invoicePdfUrl(transactionId) {
      const r = await call<{ url: string }>(
        'GET',
        `/transactions/${encodeURIComponent(transactionId)}/invoice`,
      );
      return r.url;
    },
  };
}
