/// <reference types="node" />
// The contract of the Paddle API client (paddle.ts) against the local stand-in, which speaks
// Paddle's protocol: what the worker sends and reads.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PADDLE, type PaddleStandIn, startPaddle } from '../../../scripts/stack/paddle.ts';
import { freePort } from '../../../scripts/stack/ports.ts';
import type { PaddleApi } from './paddle.ts';
import { PaddleError } from './paddle.ts';
import { createPaddleApi } from './paddle-http.ts';
import { verifyPaddleSignature } from './signature.ts';

let paddle: PaddleStandIn;
let api: PaddleApi;
let receiver: Server;
const received: Array<{ body: string; signature: string }> = [];

beforeAll(async () => {
  const port = await freePort();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        body: Buffer.concat(chunks).toString(),
        signature: String(req.headers['paddle-signature']),
      });
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(port, '127.0.0.1', r));
  paddle = await startPaddle({ port: await freePort(), webhookUrl: `http://127.0.0.1:${port}/hook` });
  api = createPaddleApi({ apiUrl: paddle.url, apiKey: LOCAL_PADDLE.apiKey });
});
afterAll(async () => {
  await paddle?.stop();
  await new Promise((r) => receiver?.close(r));
});

async function control(path: string, body: unknown = {}) {
  const r = await fetch(`${paddle.url}/__control${path}`, { method: 'POST', body: JSON.stringify(body) });
  expect(r.status, await r.clone().text()).toBe(200);
  return ((await r.json()) as { data: unknown }).data;
}

async function subscribed(plan: keyof typeof LOCAL_PADDLE.prices = 'business') {
  const email = `c-${crypto.randomUUID()}@example.test`;
  const customer = await api.ensureCustomer({ email, accountId: crypto.randomUUID() });
  const txn = await api.createCheckoutTransaction({
    customerId: customer.id,
    priceId: LOCAL_PADDLE.prices[plan],
    accountId: 'acct-1',
  });
  await control(`/checkout/${txn.id}`);
  const events = paddle
    .events()
    .filter(
      (e) => JSON.parse(e.body).data.id === txn.id || JSON.parse(e.body).data.customer_id === customer.id,
    );
  const created = events.map((e) => JSON.parse(e.body)).find((e) => e.event_type === 'subscription.created');
  return { customer, txn, subscriptionId: created.data.id as string, email };
}

describe('Paddle API client against the stand-in', () => {
  it('creates a customer once per e-mail address and finds the existing one again', async () => {
    const email = `c-${crypto.randomUUID()}@example.test`;
    const a = await api.ensureCustomer({ email, accountId: crypto.randomUUID() });
    expect(a.id).toMatch(/^ctm_[a-z0-9]+$/);
    const b = await api.ensureCustomer({ email, accountId: crypto.randomUUID() });
    expect(b.id).toBe(a.id);
  });

  it('opens a checkout transaction whose payment creates an active subscription, announced by signed webhooks', async () => {
    const { txn, subscriptionId } = await subscribed('business');
    expect(txn.status).toBe('ready');
    expect(txn.custom_data).toEqual({ account_id: 'acct-1' });
    const sub = await api.getSubscription(subscriptionId);
    expect(sub.status).toBe('active');
    expect(sub.items[0]?.price.id).toBe(LOCAL_PADDLE.prices.business);
    expect(sub.custom_data).toEqual({ account_id: 'acct-1' });
    const mine = received.filter((r) => r.body.includes(subscriptionId));
    expect(mine.map((r) => JSON.parse(r.body).event_type)).toEqual(
      expect.arrayContaining(['subscription.created', 'subscription.activated', 'transaction.completed']),
    );
    for (const r of mine)
      expect(
        await verifyPaddleSignature(LOCAL_PADDLE.webhookSecret, r.signature, r.body, Date.now()),
      ).toEqual({ ok: true });
  });

  it('previews and bills an upgrade prorated now, and bills a downgrade from the next period', async () => {
    const { subscriptionId } = await subscribed('business');
    const up = await api.previewPriceChange(
      subscriptionId,
      LOCAL_PADDLE.prices.professional,
      'prorated_immediately',
    );
    // Almost the whole month is left: about the difference of 79 € and 29 €, plus VAT.
    expect(Number(up.immediateTransaction?.total)).toBeGreaterThan(5000);
    expect(Number(up.immediateTransaction?.total)).toBeLessThanOrEqual(5950);
    expect(up.immediateTransaction?.currency).toBe('EUR');
    const down = await api.previewPriceChange(
      subscriptionId,
      LOCAL_PADDLE.prices.starter,
      'full_next_billing_period',
    );
    expect(down.immediateTransaction).toBeNull();
    const changed = await api.changePrice(
      subscriptionId,
      LOCAL_PADDLE.prices.professional,
      'prorated_immediately',
    );
    expect(changed.items[0]?.price.id).toBe(LOCAL_PADDLE.prices.professional);
  });

  it('schedules a cancellation for the period end and drops it again', async () => {
    const { subscriptionId } = await subscribed('starter');
    const cancelled = await api.cancelAtPeriodEnd(subscriptionId);
    expect(cancelled.status).toBe('active');
    expect(cancelled.scheduled_change).toMatchObject({
      action: 'cancel',
      effective_at: cancelled.current_billing_period?.ends_at,
    });
    const kept = await api.removeScheduledChange(subscriptionId);
    expect(kept.scheduled_change).toBeNull();
  });

  it('hands out a payment-method transaction with a checkout URL, and invoice PDFs of paid transactions', async () => {
    const { txn, subscriptionId } = await subscribed('business');
    const pm = await api.updatePaymentMethodTransaction(subscriptionId);
    expect(pm.origin).toBe('subscription_payment_method_change');
    expect(pm.checkout?.url).toMatch(/^http/);
    const url = await api.invoicePdfUrl(txn.id);
    const pdf = await fetch(url);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect((await pdf.text()).startsWith('%PDF-1.4')).toBe(true);
  });

  it('reports Paddle errors with their code, and refuses a wrong API key', async () => {
    await expect(api.getSubscription('sub_doesnotexist')).rejects.toMatchObject({
      status: 404,
      code: 'entity_not_found',
    });
    const wrong = createPaddleApi({ apiUrl: paddle.url, apiKey: 'pdl_wrong' });
    const e = await wrong.getSubscription('sub_x').catch((x) => x);
    expect(e).toBeInstanceOf(PaddleError);
    expect(e.status).toBe(403);
    expect(e.message).not.toContain(LOCAL_PADDLE.apiKey);
  });
});
