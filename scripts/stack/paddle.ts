// The local stand-in for Paddle Billing: the part of its API the worker uses, Paddle.js with an
// overlay checkout, and signed webhooks sent to the worker as Paddle sends them. `npm start` and
// the tests use it; docs/billing.md says how to point the worker at a real Paddle account instead.
//   API (Authorization: Bearer <apiKey>, `{ data }` / `{ error }` answers, as api.paddle.com):
//     POST /customers  GET /customers?email=  POST /transactions  GET /transactions/:id
//     GET /transactions/:id/invoice  GET|PATCH /subscriptions/:id  PATCH /subscriptions/:id/preview
//     POST /subscriptions/:id/cancel  GET /subscriptions/:id/update-payment-method-transaction
//   Browser:  GET /paddle.js (Paddle.Initialize, Paddle.Checkout.open/close)  GET /checkout/:txn
//             POST /checkout/:txn/pay  GET /invoices/:txn.pdf
//   Tests (the period end and payment outcomes Paddle decides on its own):
//     POST /__control/checkout/:txn {card?}      pay a checkout without a browser
//     POST /__control/subscriptions/:id/renew {outcome: 'paid'|'failed'}   the period ends now
//     POST /__control/subscriptions/:id/recover  the failed payment is collected
//     GET  /__control/events                     every webhook sent, with its signature and answer
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { signPaddle } from '../../worker/src/billing/signature.ts';

type PlanId = 'starter' | 'business' | 'professional' | 'enterprise';
export const LOCAL_PADDLE = {
  apiKey: 'pdl_local_apikey_resistro',
  webhookSecret: 'pdl_ntfset_local_resistro',
  clientToken: 'test_local_resistro',
  prices: {
    starter: 'pri_localstarter',
    business: 'pri_localbusiness',
    professional: 'pri_localprofessional',
    enterprise: 'pri_localenterprise',
  } as Record<PlanId, string>,
};
/** Net monthly prices in cents, as the user guide lists them. */
const AMOUNTS: Record<PlanId, number> = {
  starter: 700,
  business: 2900,
  professional: 7900,
  enterprise: 14900,
};
/** A card number that Paddle's sandbox declines. */
export const DECLINED_CARD = '4000000000000002';

type Sub = {
  id: string;
  status: 'active' | 'trialing' | 'past_due' | 'paused' | 'canceled';
  customer_id: string;
  custom_data: Record<string, unknown> | null;
  priceId: string;
  period: { starts_at: string; ends_at: string } | null;
  scheduled_change: { action: 'cancel'; effective_at: string; resume_at: null } | null;
  canceled_at: string | null;
  created_at: string;
  updated_at: string;
};
type Txn = {
  id: string;
  status: 'draft' | 'ready' | 'billed' | 'paid' | 'completed' | 'canceled' | 'past_due';
  customer_id: string | null;
  subscription_id: string | null;
  custom_data: Record<string, unknown> | null;
  origin: string;
  priceId: string | null;
  total: number;
  invoice_number: string | null;
  billed_at: string | null;
  created_at: string;
  updated_at: string;
};
export type SentEvent = {
  event_id: string;
  event_type: string;
  body: string;
  signature: string;
  status: number;
};

export type PaddleStandIn = {
  url: string;
  port: number;
  /** where webhooks go from now on (the worker's port may be chosen after the stand-in starts) */
  setWebhookUrl(url: string): void;
  events(): SentEvent[];
  stop(): Promise<void>;
};

const id = (prefix: string) =>
  `${prefix}_${[...randomBytes(20)]
    .map((b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36])
    .join('')
    .slice(0, 26)}`;

function addMonth(d: Date): Date {
  const n = new Date(d);
  n.setUTCMonth(n.getUTCMonth() + 1);
  return n;
}

// No parameter properties: `npm start` runs this file with Node's type stripping, which refuses them.
class RequestError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, detail: string) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startPaddle(opts: {
  port: number;
  host?: string;
  /** where webhooks go (the worker's /api/v1/billing/webhook) */
  webhookUrl: string;
  /** secrets each webhook is signed with (two while rotating); default the local one */
  webhookSecrets?: string[];
  apiKey?: string;
}): Promise<PaddleStandIn> {
  const apiKey = opts.apiKey ?? LOCAL_PADDLE.apiKey;
  const secrets = opts.webhookSecrets ?? [LOCAL_PADDLE.webhookSecret];
  let webhookUrl = opts.webhookUrl;
  const planOf = new Map(Object.entries(LOCAL_PADDLE.prices).map(([plan, p]) => [p, plan as PlanId]));
  const customers = new Map<string, { id: string; email: string; custom_data: unknown }>();
  const subs = new Map<string, Sub>();
  const txns = new Map<string, Txn>();
  const sent: SentEvent[] = [];
  let invoiceCounter = 0;
  let base = '';

  const subJson = (s: Sub) => ({
    id: s.id,
    status: s.status,
    customer_id: s.customer_id,
    custom_data: s.custom_data,
    currency_code: 'EUR',
    collection_mode: 'automatic',
    items: [
      {
        status: 'active',
        quantity: 1,
        price: {
          id: s.priceId,
          unit_price: { amount: String(AMOUNTS[planOf.get(s.priceId)!]), currency_code: 'EUR' },
        },
      },
    ],
    current_billing_period: s.period,
    billing_cycle: { interval: 'month', frequency: 1 },
    next_billed_at: s.status === 'canceled' || s.scheduled_change ? null : (s.period?.ends_at ?? null),
    scheduled_change: s.scheduled_change,
    canceled_at: s.canceled_at,
    created_at: s.created_at,
    updated_at: s.updated_at,
    management_urls: {
      update_payment_method: `${base}/pay/update-payment-method/${s.id}`,
      cancel: `${base}/pay/cancel/${s.id}`,
    },
  });
  const txnJson = (t: Txn) => ({
    id: t.id,
    status: t.status,
    customer_id: t.customer_id,
    subscription_id: t.subscription_id,
    custom_data: t.custom_data,
    origin: t.origin,
    collection_mode: 'automatic',
    currency_code: 'EUR',
    invoice_number: t.invoice_number,
    billed_at: t.billed_at,
    created_at: t.created_at,
    updated_at: t.updated_at,
    items: t.priceId ? [{ price: { id: t.priceId }, quantity: 1 }] : [],
    details: {
      totals: {
        subtotal: String(t.total),
        tax: String(Math.round(t.total * 0.19)),
        grand_total: String(t.total + Math.round(t.total * 0.19)),
        currency_code: 'EUR',
      },
    },
    checkout: { url: `${base}/checkout/${t.id}?standalone=1` },
  });

  /** Sends one event as Paddle does (signed, one POST); waits for the answer so tests can go on. */
  async function emit(eventType: string, data: unknown): Promise<void> {
    const event = {
      event_id: id('evt'),
      event_type: eventType,
      occurred_at: new Date().toISOString(),
      notification_id: id('ntf'),
      data,
    };
    const body = JSON.stringify(event);
    const signature = await signPaddle(secrets, Math.floor(Date.now() / 1000), body);
    let status = 0;
    try {
      const r = await fetch(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'paddle-signature': signature },
        body,
      });
      status = r.status;
      await r.body?.cancel();
    } catch {
      status = 0;
    }
    sent.push({ event_id: event.event_id, event_type: eventType, body, signature, status });
  }

  const now = () => new Date().toISOString();
  function bill(t: Txn, status: 'completed' | 'past_due') {
    t.status = status;
    t.updated_at = now();
    t.billed_at ??= now();
    t.invoice_number ??= `LOCAL-${new Date().getUTCFullYear()}-${String(++invoiceCounter).padStart(5, '0')}`;
  }
  function newTxn(p: Partial<Txn> & Pick<Txn, 'origin' | 'total'>): Txn {
    const t: Txn = {
      id: id('txn'),
      status: 'ready',
      customer_id: null,
      subscription_id: null,
      custom_data: null,
      priceId: null,
      invoice_number: null,
      billed_at: null,
      created_at: now(),
      updated_at: now(),
      ...p,
    };
    txns.set(t.id, t);
    return t;
  }
  const getSub = (subId: string) => {
    const s = subs.get(subId);
    if (!s) throw new RequestError(404, 'entity_not_found', `Subscription ${subId} not found`);
    return s;
  };
  const getTxn = (txnId: string) => {
    const t = txns.get(txnId);
    if (!t) throw new RequestError(404, 'entity_not_found', `Transaction ${txnId} not found`);
    return t;
  };

  /** A checkout paid: a new subscription, or a payment method change (which collects what is past due). */
  async function payCheckout(t: Txn, card: string): Promise<{ ok: boolean }> {
    if (t.status !== 'ready')
      throw new RequestError(400, 'transaction_not_ready', `Transaction ${t.id} is ${t.status}`);
    if (card.replace(/\s+/g, '') === DECLINED_CARD) {
      await emit('transaction.payment_failed', { ...txnJson(t), status: 'ready' });
      return { ok: false };
    }
    if (t.origin === 'subscription_payment_method_change') {
      bill(t, 'completed');
      t.total = 0;
      await emit('transaction.completed', txnJson(t));
      const s = t.subscription_id ? subs.get(t.subscription_id) : undefined;
      if (s?.status === 'past_due') await recover(s);
      return { ok: true };
    }
    const start = new Date();
    const s: Sub = {
      id: id('sub'),
      status: 'active',
      customer_id: t.customer_id!,
      custom_data: t.custom_data,
      priceId: t.priceId!,
      period: { starts_at: start.toISOString(), ends_at: addMonth(start).toISOString() },
      scheduled_change: null,
      canceled_at: null,
      created_at: now(),
      updated_at: now(),
    };
    subs.set(s.id, s);
    t.subscription_id = s.id;
    bill(t, 'completed');
    await emit('transaction.paid', { ...txnJson(t), status: 'paid' });
    await emit('subscription.created', subJson(s));
    await emit('subscription.activated', subJson(s));
    await emit('transaction.completed', txnJson(t));
    return { ok: true };
  }

  async function recover(s: Sub) {
    const due = [...txns.values()].filter((t) => t.subscription_id === s.id && t.status === 'past_due');
    for (const t of due) {
      bill(t, 'completed');
      await emit('transaction.completed', txnJson(t));
    }
    s.status = 'active';
    s.updated_at = now();
    await emit('subscription.updated', subJson(s));
  }

  /** The billing period ends now: a scheduled cancellation happens, or the next period is billed. */
  async function renew(s: Sub, outcome: 'paid' | 'failed') {
    if (s.status === 'canceled') throw new RequestError(400, 'subscription_is_canceled', 'canceled');
    if (s.scheduled_change?.action === 'cancel') {
      s.status = 'canceled';
      s.canceled_at = now();
      s.period = null;
      s.scheduled_change = null;
      s.updated_at = now();
      await emit('subscription.canceled', subJson(s));
      return;
    }
    const start = new Date();
    s.period = { starts_at: start.toISOString(), ends_at: addMonth(start).toISOString() };
    const t = newTxn({
      origin: 'subscription_recurring',
      total: AMOUNTS[planOf.get(s.priceId)!],
      customer_id: s.customer_id,
      subscription_id: s.id,
      custom_data: s.custom_data,
      priceId: s.priceId,
    });
    if (outcome === 'paid') {
      bill(t, 'completed');
      s.status = 'active';
      s.updated_at = now();
      await emit('subscription.updated', subJson(s));
      await emit('transaction.completed', txnJson(t));
    } else {
      bill(t, 'past_due');
      await emit('transaction.payment_failed', txnJson(t));
      s.status = 'past_due';
      s.updated_at = now();
      await emit('subscription.past_due', subJson(s));
    }
  }

  function proration(s: Sub, priceId: string, mode: string) {
    const oldAmount = AMOUNTS[planOf.get(s.priceId)!];
    const newAmount = AMOUNTS[planOf.get(priceId)!];
    if (mode !== 'prorated_immediately' || !s.period) return 0;
    const startMs = Date.parse(s.period.starts_at);
    const endMs = Date.parse(s.period.ends_at);
    const remaining = Math.max(0, Math.min(1, (endMs - Date.now()) / (endMs - startMs)));
    return Math.round((newAmount - oldAmount) * remaining);
  }

  function checkPatch(s: Sub, body: any): { priceId?: string; mode?: string; dropSchedule: boolean } {
    const priceId = body?.items?.[0]?.price_id;
    if (priceId !== undefined && !planOf.has(priceId))
      throw new RequestError(400, 'price_not_found', `Price ${priceId} not found`);
    const mode = body?.proration_billing_mode;
    if (
      priceId !== undefined &&
      ![
        'prorated_immediately',
        'full_next_billing_period',
        'full_immediately',
        'prorated_next_billing_period',
        'do_not_bill',
      ].includes(mode)
    )
      throw new RequestError(400, 'invalid_field', 'proration_billing_mode is required when items change');
    if (s.status === 'canceled') throw new RequestError(400, 'subscription_locked_canceled', 'canceled');
    if (priceId !== undefined && s.status === 'past_due')
      throw new RequestError(400, 'subscription_locked_pending_changes', 'past due');
    return {
      priceId,
      mode,
      dropSchedule: body && 'scheduled_change' in body && body.scheduled_change === null,
    };
  }

  async function api(method: string, path: string, body: any, query: URLSearchParams): Promise<unknown> {
    let m: RegExpMatchArray | null;
    if (method === 'POST' && path === '/customers') {
      const email = String(body?.email ?? '').toLowerCase();
      if (!email.includes('@')) throw new RequestError(400, 'invalid_field', 'email is invalid');
      const existing = [...customers.values()].find((c) => c.email === email);
      if (existing)
        throw new RequestError(
          409,
          'customer_already_exists',
          `customer email conflicts with customer of id ${existing.id}`,
        );
      const c = { id: id('ctm'), email, custom_data: body.custom_data ?? null };
      customers.set(c.id, c);
      return c;
    }
    if (method === 'GET' && path === '/customers') {
      const email = query.get('email')?.toLowerCase();
      return [...customers.values()].filter((c) => !email || c.email === email);
    }
    if (method === 'POST' && path === '/transactions') {
      const priceId = body?.items?.[0]?.price_id;
      if (!planOf.has(priceId)) throw new RequestError(400, 'price_not_found', `Price ${priceId} not found`);
      if (body.customer_id && !customers.has(body.customer_id))
        throw new RequestError(400, 'customer_not_found', 'customer not found');
      const t = newTxn({
        origin: 'web',
        total: AMOUNTS[planOf.get(priceId)!],
        customer_id: body.customer_id ?? null,
        custom_data: body.custom_data ?? null,
        priceId,
      });
      return txnJson(t);
    }
    m = method === 'GET' ? path.match(/^\/transactions\/([^/]+)$/) : null;
    if (m) return txnJson(getTxn(m[1]!));
    m = method === 'GET' ? path.match(/^\/transactions\/([^/]+)\/invoice$/) : null;
    if (m) {
      const t = getTxn(m[1]!);
      if (t.status !== 'completed' && t.status !== 'billed' && t.status !== 'past_due')
        throw new RequestError(
          400,
          'transaction_not_billed',
          'Only billed or completed transactions have an invoice',
        );
      return { url: `${base}/invoices/${t.id}.pdf?token=${randomBytes(12).toString('hex')}` };
    }
    m = method === 'GET' ? path.match(/^\/subscriptions\/([^/]+)$/) : null;
    if (m) return subJson(getSub(m[1]!));
    m = method === 'PATCH' ? path.match(/^\/subscriptions\/([^/]+)\/preview$/) : null;
    if (m) {
      const s = getSub(m[1]!);
      const p = checkPatch(s, body);
      const charge = p.priceId ? proration(s, p.priceId, p.mode!) : 0;
      return {
        ...subJson({ ...s, priceId: p.priceId ?? s.priceId }),
        immediate_transaction:
          charge > 0
            ? {
                details: {
                  totals: { grand_total: String(charge + Math.round(charge * 0.19)), currency_code: 'EUR' },
                },
              }
            : null,
        update_summary: {
          result: {
            action: charge >= 0 ? 'charge' : 'credit',
            amount: String(Math.abs(charge)),
            currency_code: 'EUR',
          },
        },
      };
    }
    m = method === 'PATCH' ? path.match(/^\/subscriptions\/([^/]+)$/) : null;
    if (m) {
      const s = getSub(m[1]!);
      const p = checkPatch(s, body);
      if (p.dropSchedule) s.scheduled_change = null;
      let t: Txn | undefined;
      if (p.priceId) {
        const charge = proration(s, p.priceId, p.mode!);
        s.priceId = p.priceId;
        if (charge > 0)
          t = newTxn({
            origin: 'subscription_update',
            total: charge,
            customer_id: s.customer_id,
            subscription_id: s.id,
            custom_data: s.custom_data,
            priceId: p.priceId,
          });
      }
      s.updated_at = now();
      const answer = subJson(s);
      // Paddle answers first and notifies after; the events follow this answer.
      setImmediate(async () => {
        if (t) bill(t, 'completed');
        await emit('subscription.updated', subJson(s));
        if (t) await emit('transaction.completed', txnJson(t));
      });
      return answer;
    }
    m = method === 'POST' ? path.match(/^\/subscriptions\/([^/]+)\/cancel$/) : null;
    if (m) {
      const s = getSub(m[1]!);
      if (s.status === 'canceled') throw new RequestError(400, 'subscription_locked_canceled', 'canceled');
      if (body?.effective_from === 'immediately') {
        s.status = 'canceled';
        s.canceled_at = now();
        s.period = null;
        setImmediate(() => emit('subscription.canceled', subJson(s)));
      } else {
        s.scheduled_change = { action: 'cancel', effective_at: s.period!.ends_at, resume_at: null };
        setImmediate(() => emit('subscription.updated', subJson(s)));
      }
      s.updated_at = now();
      return subJson(s);
    }
    m = method === 'GET' ? path.match(/^\/subscriptions\/([^/]+)\/update-payment-method-transaction$/) : null;
    if (m) {
      const s = getSub(m[1]!);
      if (s.status === 'canceled') throw new RequestError(400, 'subscription_locked_canceled', 'canceled');
      const t = newTxn({
        origin: 'subscription_payment_method_change',
        total: 0,
        customer_id: s.customer_id,
        subscription_id: s.id,
        custom_data: s.custom_data,
      });
      return txnJson(t);
    }
    throw new RequestError(404, 'not_found', `${method} ${path} is not part of the stand-in`);
  }

  async function control(method: string, path: string, body: any): Promise<unknown> {
    let m: RegExpMatchArray | null;
    if (method === 'GET' && path === '/__control/events') return { items: sent };
    m = method === 'POST' ? path.match(/^\/__control\/checkout\/([^/]+)$/) : null;
    if (m) return payCheckout(getTxn(m[1]!), String(body?.card ?? '4242424242424242'));
    m = method === 'POST' ? path.match(/^\/__control\/subscriptions\/([^/]+)\/renew$/) : null;
    if (m) {
      await renew(getSub(m[1]!), body?.outcome === 'failed' ? 'failed' : 'paid');
      return subJson(getSub(m[1]!));
    }
    m = method === 'POST' ? path.match(/^\/__control\/subscriptions\/([^/]+)\/recover$/) : null;
    if (m) {
      const s = getSub(m[1]!);
      if (s.status !== 'past_due') throw new RequestError(400, 'not_past_due', 'not past due');
      await recover(s);
      return subJson(s);
    }
    throw new RequestError(404, 'not_found', `${method} ${path} is not a control route`);
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://paddle');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const json = (status: number, value: unknown) =>
      res
        .writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*' })
        .end(JSON.stringify(value));
    try {
      const raw = method === 'GET' ? '' : await readBody(req);
      let body: any;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        throw new RequestError(400, 'bad_request', 'The body is not JSON');
      }
      if (path === '/paddle.js') {
        return res
          .writeHead(200, {
            'content-type': 'text/javascript; charset=utf-8',
            'access-control-allow-origin': '*',
          })
          .end(paddleJs(base));
      }
      if (method === 'GET' && path.startsWith('/checkout/')) {
        const t = getTxn(path.slice('/checkout/'.length));
        return res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end(checkoutPage(t, txnJson(t), planOf));
      }
      let m: RegExpMatchArray | null;
      m = method === 'POST' ? path.match(/^\/checkout\/([^/]+)\/pay$/) : null;
      if (m) {
        const form = new URLSearchParams(raw);
        const card = String(body?.card ?? form.get('card') ?? '');
        return json(200, await payCheckout(getTxn(m[1]!), card));
      }
      m = method === 'GET' ? path.match(/^\/pay\/update-payment-method\/([^/]+)$/) : null;
      if (m) {
        const t = (await api(
          'GET',
          `/subscriptions/${m[1]}/update-payment-method-transaction`,
          undefined,
          url.searchParams,
        )) as { id: string };
        return res.writeHead(302, { location: `${base}/checkout/${t.id}?standalone=1` }).end();
      }
      m = method === 'GET' ? path.match(/^\/invoices\/([^/]+)\.pdf$/) : null;
      if (m) {
        const t = getTxn(m[1]!);
        return res
          .writeHead(200, { 'content-type': 'application/pdf' })
          .end(invoicePdf(t, txnJson(t).details.totals));
      }
      if (path.startsWith('/__control/')) return json(200, { data: await control(method, path, body) });
      // SECURITY (as Paddle): every API call carries the API key.
      if (req.headers.authorization !== `Bearer ${apiKey}`)
        throw new RequestError(403, 'forbidden', 'You are not authorized to perform this request');
      return json(200, {
        data: await api(method, path, body, url.searchParams),
        meta: { request_id: id('req') },
      });
    } catch (e) {
      const err =
        e instanceof RequestError ? e : new RequestError(500, 'internal_error', (e as Error).message);
      return json(err.status, {
        error: { type: 'request_error', code: err.code, detail: err.message },
        meta: {},
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  base = `http://127.0.0.1:${port}`;
  return {
    url: base,
    port,
    setWebhookUrl: (url: string) => {
      webhookUrl = url;
    },
    events: () => [...sent],
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function euro(cents: string | number): string {
  return `${(Number(cents) / 100).toFixed(2)} €`;
}

/** The checkout Paddle shows in its overlay's iframe (or on its own for a payment link). */
function checkoutPage(t: Txn, j: ReturnType<typeof Object>, planOf: Map<string, PlanId>): string {
  const totals = (j as { details: { totals: { grand_total: string } } }).details.totals;
  const what =
    t.origin === 'subscription_payment_method_change'
      ? 'Update payment method'
      : `Resistro ${planOf.get(t.priceId ?? '') ?? ''} — ${euro(totals.grand_total)} / month (incl. VAT)`;
  return `<!doctype html><meta charset="utf-8"><title>Paddle checkout (local stand-in)</title>
<style>body{font:15px system-ui;margin:0;padding:24px;background:#fff;color:#111}h1{font-size:18px}label{display:block;margin:12px 0 4px}input{font:inherit;padding:8px;width:100%;box-sizing:border-box}button{margin-top:16px;font:inherit;padding:10px 16px;background:#111;color:#fff;border:0;border-radius:6px;cursor:pointer}.note{color:#666;font-size:13px}.err{color:#b00020}</style>
<h1>${escapeHtml(what)}</h1>
<p class="note">Local Paddle stand-in: no real payment. ${escapeHtml(t.id)}</p>
<form id="pay"><label for="card">Card number</label><input id="card" name="card" value="4242 4242 4242 4242" autocomplete="off">
<button type="submit" id="pay-button">${t.origin === 'subscription_payment_method_change' ? 'Save' : 'Pay now'}</button>
<p id="msg" role="status"></p></form>
<script>
const standalone = new URLSearchParams(location.search).has('standalone');
const tell = (name, data) => { if (!standalone && parent !== window) parent.postMessage({ paddleStandIn: true, name, data }, '*'); };
tell('checkout.loaded', { transaction_id: ${JSON.stringify(t.id)} });
document.getElementById('pay').addEventListener('submit', async (e) => {
  e.preventDefault();
  const msg = document.getElementById('msg');
  msg.textContent = 'Processing…'; msg.className = '';
  const r = await fetch('/checkout/${t.id}/pay', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ card: document.getElementById('card').value }) });
  const j = await r.json();
  if (r.ok && j.ok) { msg.textContent = 'Payment successful'; tell('checkout.completed', { transaction_id: ${JSON.stringify(t.id)}, status: 'completed' }); }
  else { msg.textContent = r.ok ? 'The card was declined' : (j.error && j.error.detail) || 'Payment failed'; msg.className = 'err'; tell('checkout.payment.failed', { transaction_id: ${JSON.stringify(t.id)} }); }
});
</script>`;
}

/** Paddle.js v2's surface the dashboard uses: Environment.set, Initialize, Checkout.open/close. */
function paddleJs(base: string): string {
  return `(() => {
  const BASE = ${JSON.stringify(base)};
  let settings = { eventCallback: undefined };
  let frame;
  function close(name) {
    if (frame) { frame.remove(); frame = undefined; }
    if (name && settings.eventCallback) settings.eventCallback({ name, data: {} });
  }
  window.addEventListener('message', (e) => {
    if (e.origin !== BASE || !e.data || !e.data.paddleStandIn) return;
    if (settings.eventCallback) settings.eventCallback({ name: e.data.name, data: e.data.data });
    if (e.data.name === 'checkout.completed') {
      const success = settings.successUrl;
      setTimeout(() => { close(); if (success) location.href = success; }, 300);
    }
  });
  window.Paddle = {
    Environment: { set() {} },
    Initialize(o) {
      if (!o || !o.token) throw new Error('Paddle.Initialize needs a client-side token');
      settings = { ...settings, ...o };
    },
    Checkout: {
      open(o) {
        if (!o || !o.transactionId) throw new Error('the stand-in opens checkouts by transactionId');
        close();
        settings.successUrl = o.settings && o.settings.successUrl;
        frame = document.createElement('div');
        frame.className = 'paddle-frame paddle-frame-overlay';
        Object.assign(frame.style, { position: 'fixed', inset: '0', zIndex: '99999', background: 'rgba(0,0,0,.5)', display: 'flex', alignItems: 'center', justifyContent: 'center' });
        const box = document.createElement('div');
        Object.assign(box.style, { background: '#fff', borderRadius: '10px', width: 'min(460px,94vw)', position: 'relative' });
        const x = document.createElement('button');
        x.textContent = '×'; x.setAttribute('aria-label', 'Close checkout');
        Object.assign(x.style, { position: 'absolute', right: '8px', top: '4px', border: '0', background: 'none', fontSize: '22px', cursor: 'pointer' });
        x.onclick = () => close('checkout.closed');
        const iframe = document.createElement('iframe');
        iframe.name = 'paddle_frame';
        iframe.title = 'Paddle checkout';
        iframe.src = BASE + '/checkout/' + encodeURIComponent(o.transactionId);
        Object.assign(iframe.style, { border: '0', width: '100%', height: '420px', borderRadius: '10px' });
        box.append(x, iframe); frame.append(box); document.body.append(frame);
      },
      close() { close('checkout.closed'); },
    },
  };
})();`;
}

/** A one-page PDF invoice (valid PDF 1.4, Helvetica text). */
function invoicePdf(t: Txn, totals: { subtotal: string; tax: string; grand_total: string }): Buffer {
  const lines = [
    'Invoice (local Paddle stand-in)',
    `Invoice number: ${t.invoice_number ?? '-'}`,
    `Transaction: ${t.id}`,
    `Date: ${(t.billed_at ?? t.created_at).slice(0, 10)}`,
    `Net: ${euro(totals.subtotal).replace('€', 'EUR')}`,
    `VAT 19%: ${euro(totals.tax).replace('€', 'EUR')}`,
    `Total: ${euro(totals.grand_total).replace('€', 'EUR')}`,
  ];
  const text = lines
    .map((l, i) => `BT /F1 12 Tf 72 ${740 - i * 20} Td (${l.replace(/[()\\]/g, '')}) Tj ET`)
    .join('\n');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${Buffer.byteLength(text)} >>\nstream\n${text}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(Buffer.byteLength(out));
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out);
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
