// /billing: the subscription, checkout, plan changes, cancellation, invoices, and Paddle's webhook.
// Everything but the webhook needs the account's owner (SHARED-INTERFACES: billing → role 'owner').
import { ChangePlanBody, CheckoutBody, PageQuery } from '@resistro/contract';
import { Hono } from 'hono';
import type { AppEnv, Principal } from '../app-types.ts';
import { ApiError } from '../errors.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readBody, readQuery } from '../lib/validate.ts';
import {
  cancelSubscription,
  changePlan,
  getBilling,
  invoiceUrl,
  listTransactions,
  PADDLE_TXN_ID,
  paymentMethodTransaction,
  previewPlanChange,
  startCheckout,
} from './billing.ts';
import { startClosingForCancellation } from './closing-hooks.ts';
import { receiveWebhook } from './webhook.ts';

function requireOwner(principal: Principal | null, access: 'read' | 'write'): Principal {
  return requirePrincipal(principal, access);
}

/** Mounted before authentication: Paddle signs its deliveries instead of sending a key. */
export const billingWebhookRoutes = new Hono<AppEnv>().post('/billing/webhook', async (c) => {
  const config = c.get('config').billing;
  if (!config.enabled) throw new ApiError('not_found', 'No such route');
  const raw = await c.req.text();
  const result = await receiveWebhook(
    c.get('db'),
    config,
    raw,
    c.req.header('paddle-signature'),
    c.get('now'),
  );
  return c.json({ ok: true, outcome: result.outcome });
});

export const billingRoutes = new Hono<AppEnv>()
  .get('/billing', async (c) => {
    const p = requireOwner(c.get('principal'), 'read');
    return c.json({
      billing: await getBilling(c.get('db'), c.get('config').billing, p.accountId, c.get('now')),
    });
  })
  .post('/billing/checkout', async (c) => {
    const p = requireOwner(c.get('principal'), 'write');
    const { plan } = await readBody(c, CheckoutBody);
    return c.json(await startCheckout(c.get('db'), c.get('config').billing, p.accountId, plan), 201);
  })
  .post('/billing/plan/preview', async (c) => {
    const p = requireOwner(c.get('principal'), 'write');
    const { plan } = await readBody(c, ChangePlanBody);
    return c.json({
      preview: await previewPlanChange(c.get('db'), c.get('config').billing, p.accountId, plan),
    });
  })
  .post('/billing/plan', async (c) => {
    const p = requireOwner(c.get('principal'), 'write');
    const { plan } = await readBody(c, ChangePlanBody);
    const billing = await changePlan(c.get('db'), c.get('config').billing, p.accountId, plan, c.get('now'));
    return c.json({ billing }, 202);
  })
  .get('/billing/transactions', async (c) => {
    const p = requireOwner(c.get('principal'), 'read');
    return c.json(await listTransactions(c.get('db'), p.accountId, readQuery(c, PageQuery)));
  })
  .get('/billing/transactions/:id/invoice', async (c) => {
    const p = requireOwner(c.get('principal'), 'read');
    const id = c.req.param('id');
    // Only ids of Paddle's shape reach the database (no NUL, no megabyte of text).
    if (!PADDLE_TXN_ID.test(id)) throw new ApiError('not_found', 'transaction not found');
    return c.json({ url: await invoiceUrl(c.get('db'), c.get('config').billing, p.accountId, id) });
  })
  .post('/billing/payment-method', async (c) => {
    const p = requireOwner(c.get('principal'), 'write');
    return c.json(await paymentMethodTransaction(c.get('db'), c.get('config').billing, p.accountId));
  })
  .post('/billing/cancel', async (c) => {
    const p = requireOwner(c.get('principal'), 'write');
    const billing = await cancelSubscription(c.get('db'), c.get('config').billing, p.accountId, c.get('now'));
    // The same as DELETE /account: the closing starts, read-only from the end of the paid period.
    if (billing.cancelAt)
      await startClosingForCancellation(c.get('db'), p.accountId, new Date(billing.cancelAt));
    return c.json({ billing });
  });
