// Billing through Paddle, end to end: the worker in workerd, the Paddle stand-in sending signed
// webhooks, real PostgreSQL. Paddle's side (a payment, the period end, a failed charge) is played
// through the stand-in's /__control routes; everything else goes through the public API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DECLINED_CARD, LOCAL_PADDLE } from '../../scripts/stack/paddle.ts';
import { waitFor } from '../../scripts/stack/ports.ts';
import {
  accountWithDatabase,
  createKey,
  paddleControl,
  runCron,
  type Session,
  signup,
  sql,
  stackInfo,
  subscribe,
} from '../../scripts/test/api.ts';
import { startIsolatedControlPlane } from '../../scripts/test/isolated.ts';
import { signPaddle } from '../src/billing/signature.ts';
import { sinkMessages } from './cron-fixtures.ts';

// Its own control plane and stand-in: these tests run the cron and read the stand-in's event log.
let plane: { stop(): Promise<void> } | undefined;
beforeAll(async () => {
  plane = await startIsolatedControlPlane('billing');
}, 180_000);
afterAll(async () => {
  await plane?.stop();
});

const billing = async (s: Session) => (await s.json('/billing')).body.billing;
const account = async (s: Session) => (await s.json('/account')).body.account;

/** Paddle answers a change first and notifies after: wait until the worker took what followed. */
async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let last: T | undefined;
  await waitFor(
    async () => {
      last = await read();
      return ok(last);
    },
    30_000,
    what,
  );
  return last as T;
}

async function subscriptionOf(s: Session): Promise<string> {
  const id = (await account(s)).id;
  const [row] = await sql('select subscription_id from billing_subscriptions where account_id = $1', [id]);
  return row.subscription_id;
}

async function events(subscriptionId: string) {
  const all: Array<{ event_id: string; event_type: string; body: string; status: number }> = (
    await paddleControl('/events')
  ).items;
  return all.filter((e) => e.body.includes(subscriptionId));
}

async function post(body: string, signature: string) {
  const r = await fetch(`${stackInfo().url}/api/v1/billing/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'paddle-signature': signature },
    body,
  });
  return { status: r.status, body: await r.json() };
}
const nowTs = () => Math.floor(Date.now() / 1000);

describe('checkout', () => {
  it('signs up without a plan: nothing is paid, the smallest limits apply, and the plan starts when Paddle confirms', async () => {
    const { session } = await signup();
    const before = await account(session);
    expect(before.plan).toBe('starter');
    expect(before.billing).toMatchObject({ enabled: true, state: 'pending', backupsStopped: false });
    expect(Date.parse(before.billing.graceEndsAt)).toBeGreaterThan(Date.now());
    const b0 = await billing(session);
    // SECURITY: the browser gets Paddle's client-side token only, never the API key or webhook secret.
    expect(b0.checkout).toMatchObject({ clientToken: LOCAL_PADDLE.clientToken, environment: 'sandbox' });
    expect(JSON.stringify(b0)).not.toContain(LOCAL_PADDLE.apiKey);
    expect(JSON.stringify(b0)).not.toContain(LOCAL_PADDLE.webhookSecret);

    const checkout = await session.json('/billing/checkout', { method: 'POST', json: { plan: 'business' } });
    expect(checkout.status).toBe(201);
    expect(checkout.body.transactionId).toMatch(/^txn_/);
    // Opened but not paid: still nothing.
    expect((await account(session)).plan).toBe('starter');
    const declined = await paddleControl(`/checkout/${checkout.body.transactionId}`, { card: DECLINED_CARD });
    expect(declined.ok).toBe(false);
    expect((await billing(session)).state).toBe('pending');

    await paddleControl(`/checkout/${checkout.body.transactionId}`);
    const after = await account(session);
    expect(after.plan).toBe('business');
    expect(after.limits.maxDatabases).toBe(5);
    expect(after.billing).toMatchObject({ state: 'active', backupsStopped: false, graceEndsAt: null });
    const b = await billing(session);
    expect(b).toMatchObject({ state: 'active', plan: 'business', scheduledPlan: null, cancelAt: null });
    expect(Date.parse(b.periodEnd)).toBeGreaterThan(Date.parse(b.periodStart));

    const txns = (await session.json('/billing/transactions')).body.items;
    expect(txns).toHaveLength(1);
    // 29 € net + 19 % VAT, in cents
    expect(txns[0]).toMatchObject({
      status: 'completed',
      origin: 'web',
      total: { amount: '3451', currency: 'EUR' },
    });
    expect(txns[0].invoiceNumber).toBeTruthy();
    const invoice = await session.json(`/billing/transactions/${txns[0].id}/invoice`);
    expect(invoice.status).toBe(200);
    const pdf = await fetch(invoice.body.url);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(await pdf.text()).toContain(txns[0].invoiceNumber);

    const again = await session.json('/billing/checkout', { method: 'POST', json: { plan: 'enterprise' } });
    expect(again.status).toBe(409);
  });

  it("refuses another account's invoice and ids that are no transaction", async () => {
    const a = await signup({ plan: 'starter' });
    const b = await signup({ plan: 'starter' });
    const [txn] = (await a.session.json('/billing/transactions')).body.items;
    expect((await b.session.json(`/billing/transactions/${txn.id}/invoice`)).status).toBe(404);
    expect((await b.session.json('/billing/transactions/txn_nothere/invoice')).status).toBe(404);
    expect(
      (await b.session.json('/billing/transactions')).body.items.map((t: { id: string }) => t.id),
    ).not.toContain(txn.id);
    // Billing is the owner's: a read key sees the plan on the account, nothing of the subscription.
    const reader = await createKey(a.session, 'read');
    const asReader = (method: string, path: string, json?: unknown) =>
      a.session.fetch(path, {
        method,
        headers: { authorization: `Bearer ${reader}` },
        ...(json ? { json } : {}),
      });
    expect((await asReader('GET', '/account')).status).toBe(200);
    expect((await asReader('GET', '/billing')).status).toBe(403);
    expect((await asReader('GET', '/billing/transactions')).status).toBe(403);
    expect((await asReader('POST', '/billing/plan', { plan: 'business' })).status).toBe(403);
    expect((await asReader('POST', '/billing/cancel')).status).toBe(403);
  });
});

describe('plan changes', () => {
  it('charges an upgrade prorated at once and applies the new limits when Paddle confirms', async () => {
    const { session } = await signup({ plan: 'business' });
    const preview = await session.json('/billing/plan/preview', {
      method: 'POST',
      json: { plan: 'professional' },
    });
    expect(preview.status).toBe(200);
    expect(preview.body.preview).toMatchObject({ kind: 'upgrade', problems: [], effectiveAt: null });
    const charge = Number(preview.body.preview.chargeNow.amount);
    // (79 € − 29 €) × the rest of the month (nearly all of it) + 19 % VAT
    expect(charge).toBeGreaterThan(5800);
    expect(charge).toBeLessThanOrEqual(5950);

    const r = await session.json('/billing/plan', { method: 'POST', json: { plan: 'professional' } });
    expect(r.status).toBe(202);
    const upgraded = await until(
      'the upgrade',
      () => account(session),
      (a) => a.plan === 'professional',
    );
    expect(upgraded.limits.maxDatabases).toBe(25);
    const txns = await until(
      'the prorated charge',
      async () => (await session.json('/billing/transactions')).body.items,
      (items) => items.length === 2,
    );
    expect(txns[0]).toMatchObject({ origin: 'subscription_update', status: 'completed' });
    expect(Number(txns[0].total.amount)).toBeGreaterThan(5800);
    expect(Number(txns[0].total.amount)).toBeLessThanOrEqual(charge);
  });

  it('explains a downgrade the account does not fit, then schedules it and applies it at the period end', async () => {
    const a = await accountWithDatabase({ plan: 'business' });
    const second = await a.session.json('/databases', {
      method: 'POST',
      json: {
        name: 'CRM',
        engine: 'postgres',
        host: '127.0.0.1',
        database: 'crm',
        user: 'backup',
        credentials: { mode: 'local' },
        schedule: { kind: 'daily', time: '03:00', timezone: 'UTC' },
        agentId: a.agent.id,
        retentionDays: 30,
      },
    });
    expect(second.status).toBe(201);
    const preview = (
      await a.session.json('/billing/plan/preview', { method: 'POST', json: { plan: 'starter' } })
    ).body.preview;
    expect(preview.kind).toBe('downgrade');
    expect(preview.problems.map((p: { limit: string }) => p.limit).sort()).toEqual([
      'databases',
      'retention',
    ]);
    expect(preview.problems.find((p: { limit: string }) => p.limit === 'databases')).toMatchObject({
      current: 2,
      allowed: 1,
    });
    const refused = await a.session.json('/billing/plan', { method: 'POST', json: { plan: 'starter' } });
    expect(refused.status).toBe(402);
    expect(refused.body.error.code).toBe('plan_limit');
    expect(Object.keys(refused.body.error.fields).sort()).toEqual(['databases', 'retention']);
    const subId = await subscriptionOf(a.session);
    expect((await events(subId)).filter((e) => e.event_type === 'subscription.updated')).toHaveLength(0);

    // Make it fit: one database, kept 7 days.
    expect((await a.session.json(`/databases/${second.body.database.id}`, { method: 'DELETE' })).status).toBe(
      204,
    );
    const patched = await a.session.json(`/databases/${a.database.id}`, {
      method: 'PATCH',
      json: { retentionDays: 7 },
    });
    expect(patched.status).toBe(200);
    const fits = (
      await a.session.json('/billing/plan/preview', { method: 'POST', json: { plan: 'starter' } })
    ).body.preview;
    expect(fits).toMatchObject({ kind: 'downgrade', problems: [], chargeNow: null });
    const b0 = await billing(a.session);
    expect(fits.effectiveAt).toBe(b0.periodEnd);

    const r = await a.session.json('/billing/plan', { method: 'POST', json: { plan: 'starter' } });
    expect(r.status).toBe(202);
    // Shown as scheduled at once (Paddle's webhook may already have arrived: it says the same).
    expect(r.body.billing).toMatchObject({ scheduledPlan: 'starter', scheduledPlanAt: b0.periodEnd });
    expect((await account(a.session)).plan).toBe('business');
    // Paddle's subscription.updated (new price from the next period) arrives: still business until then.
    await until(
      'the webhook',
      () => events(subId),
      (e) => e.some((x) => x.event_type === 'subscription.updated' && x.status === 200),
    );
    expect((await account(a.session)).plan).toBe('business');
    expect(await billing(a.session)).toMatchObject({ plan: 'starter', scheduledPlan: 'starter' });

    await paddleControl(`/subscriptions/${subId}/renew`, { outcome: 'paid' });
    const after = await account(a.session);
    expect(after.plan).toBe('starter');
    expect(after.limits.maxDatabases).toBe(1);
    expect(await billing(a.session)).toMatchObject({
      state: 'active',
      scheduledPlan: null,
      scheduledPlanAt: null,
    });
    const [renewal] = (await a.session.json('/billing/transactions')).body.items;
    expect(renewal).toMatchObject({ origin: 'subscription_recurring', total: { amount: '833' } });
  });
});

describe('a failed payment', () => {
  it('goes past due with a banner state and an e-mail, keeps backing up through the grace period, stops after it, and recovers', async () => {
    const a = await accountWithDatabase({ plan: 'business' });
    const subId = await subscriptionOf(a.session);
    await paddleControl(`/subscriptions/${subId}/renew`, { outcome: 'failed' });
    const b = await billing(a.session);
    expect(b).toMatchObject({ state: 'past_due', backupsStopped: false, plan: 'business' });
    const graceEnds = Date.parse(b.graceEndsAt);
    expect(graceEnds - Date.parse(b.pastDueSince)).toBe(7 * 86400_000);
    const txns = (await a.session.json('/billing/transactions')).body.items;
    expect(txns[0]).toMatchObject({ origin: 'subscription_recurring', status: 'past_due' });
    // Protecting data comes first: backups are still taken.
    const started = await a.client.startBackup({ databaseId: a.database.id, trigger: 'manual' });
    expect(started.backup.status).toBe('running');
    const hb = await a.client.heartbeat({
      hostname: 'db1.example.test',
      os: 'linux',
      version: '0.1.0',
      tools: [],
      publicKey: a.pair.publicKey,
    });
    expect(hb.accountNotice).toBeNull();

    await runCron();
    const mails = await sinkMessages({ kind: 'email', to: a.email });
    const pastDue = mails.filter((m) => m.email?.subject.includes('payment failed'));
    expect(pastDue).toHaveLength(1);
    expect(pastDue[0]!.email!.text).toMatch(
      new RegExp(`${stackInfo().paddleUrl.replace(/[.]/g, '\\.')}/checkout/txn_\\w+`),
    );
    await runCron();
    expect(
      (await sinkMessages({ kind: 'email', to: a.email })).filter((m) =>
        m.email?.subject.includes('payment failed'),
      ),
    ).toHaveLength(1);

    // The grace period ends (moved back in the database: the worker's clock cannot be moved).
    await sql(
      "update billing_subscriptions set past_due_since = past_due_since - interval '8 days' where subscription_id = $1",
      [subId],
    );
    expect((await account(a.session)).billing).toMatchObject({ state: 'past_due', backupsStopped: true });
    const refused = await a.session.fetch('/backups', {
      method: 'POST',
      headers: { authorization: `Bearer ${a.agentKey}` },
      json: { databaseId: a.database.id, trigger: 'schedule' },
    });
    expect(refused.status).toBe(402);
    expect((await refused.json()).error).toMatchObject({ code: 'payment_required' });
    const told = await a.client.heartbeat({
      hostname: 'db1.example.test',
      os: 'linux',
      version: '0.1.0',
      tools: [],
      publicKey: a.pair.publicKey,
    });
    expect(told.accountNotice).toMatchObject({ code: 'backups_stopped' });
    await runCron();
    expect(
      (await sinkMessages({ kind: 'email', to: a.email })).filter((m) =>
        m.email?.subject.includes('new backups stopped'),
      ),
    ).toHaveLength(1);

    // The customer updates the payment method; Paddle collects the open charge.
    const pm = await a.session.json('/billing/payment-method', { method: 'POST' });
    expect(pm.status).toBe(200);
    expect(pm.body.transactionId).toMatch(/^txn_/);
    await paddleControl(`/checkout/${pm.body.transactionId}`);
    expect(await billing(a.session)).toMatchObject({
      state: 'active',
      backupsStopped: false,
      pastDueSince: null,
      graceEndsAt: null,
    });
    const back = await a.client.heartbeat({
      hostname: 'db1.example.test',
      os: 'linux',
      version: '0.1.0',
      tools: [],
      publicKey: a.pair.publicKey,
    });
    expect(back.accountNotice).toBeNull();
    expect(
      (await a.client.startBackup({ databaseId: a.database.id, trigger: 'schedule' })).backup.status,
    ).toBe('running');
    const paid = (await a.session.json('/billing/transactions')).body.items;
    expect(paid.find((t: { origin: string }) => t.origin === 'subscription_recurring')).toMatchObject({
      status: 'completed',
    });
    expect(paid.some((t: { origin: string }) => t.origin === 'subscription_payment_method_change')).toBe(
      false,
    );
  });
});

describe('cancellation', () => {
  it('ends the subscription with the paid period, then the account is read-only; resubscribing reopens it', async () => {
    const { session } = await signup({ plan: 'business' });
    const subId = await subscriptionOf(session);
    const periodEnd = (await billing(session)).periodEnd;
    const r = await session.json('/billing/cancel', { method: 'POST' });
    expect(r.status).toBe(200);
    expect(r.body.billing).toMatchObject({ state: 'active', cancelAt: periodEnd });
    // The closing starts now and takes effect at the end of the paid period.
    expect((await account(session)).closing).toMatchObject({
      reason: 'cancelled',
      effectiveAt: periodEnd,
      readOnly: false,
    });
    await until(
      'the webhook',
      () => events(subId),
      (e) => e.some((x) => x.event_type === 'subscription.updated' && x.status === 200),
    );

    await paddleControl(`/subscriptions/${subId}/renew`, { outcome: 'paid' });
    const closed = await account(session);
    expect(closed.billing.state).toBe('canceled');
    expect(closed.closing.readOnly).toBe(true);
    expect(Date.parse(closed.closing.purgeAt) - Date.parse(closed.closing.effectiveAt)).toBe(30 * 86400_000);
    const refused = await session.json('/billing/plan', { method: 'POST', json: { plan: 'enterprise' } });
    expect(refused.body.error.code).toBe('account_read_only');

    // Resubscribing (allowed while read-only) reopens the account.
    await subscribe(session, 'starter');
    const reopened = await account(session);
    expect(reopened).toMatchObject({ plan: 'starter', closing: null });
    expect(reopened.billing.state).toBe('active');
    expect(await subscriptionOf(session)).not.toBe(subId);
  });

  it('DELETE /account ends the Paddle subscription at the period end, and reopening takes that back', async () => {
    const { session } = await signup({ plan: 'business' });
    const subId = await subscriptionOf(session);
    const periodEnd = (await billing(session)).periodEnd;
    const r = await session.json('/account', { method: 'DELETE' });
    expect(r.status).toBe(202);
    expect(r.body.closing).toMatchObject({ effectiveAt: periodEnd, readOnly: false });
    expect((await billing(session)).cancelAt).toBe(periodEnd);
    const reopen = await session.json('/account/reopen', { method: 'POST' });
    expect(reopen.status).toBeLessThan(300);
    expect((await billing(session)).cancelAt).toBeNull();
    const updates = await until(
      'the webhooks',
      () => events(subId),
      (e) => e.filter((x) => x.event_type === 'subscription.updated' && x.status === 200).length >= 2,
    );
    expect(JSON.parse(updates.at(-1)!.body).data.scheduled_change).toBeNull();
    expect((await billing(session)).state).toBe('active');
  });
});

describe('the webhook endpoint', () => {
  it('changes nothing for a forged body, a wrong secret, a stale timestamp or a replayed event id', async () => {
    const { session } = await signup({ plan: 'business' });
    const subId = await subscriptionOf(session);
    const [activated] = (await events(subId)).filter((e) => e.event_type === 'subscription.activated');
    const state = async () => ({ billing: await billing(session), plan: (await account(session)).plan });
    const before = await state();

    const forged = activated!.body.replace('"status":"active"', '"status":"paused"');
    expect(forged).not.toBe(activated!.body);
    const withOriginal = await signPaddle([LOCAL_PADDLE.webhookSecret], nowTs(), activated!.body);
    expect((await post(forged, withOriginal)).status).toBe(401);
    const fresh = JSON.parse(activated!.body);
    fresh.event_id = `evt_${crypto.randomUUID().replace(/-/g, '').slice(0, 26)}`;
    fresh.occurred_at = new Date().toISOString();
    fresh.data.status = 'paused';
    const body = JSON.stringify(fresh);
    const wrong = await post(body, await signPaddle(['not-the-secret'], nowTs(), body));
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('unauthorized');
    expect(
      (await post(body, await signPaddle([LOCAL_PADDLE.webhookSecret], nowTs() - 60, body))).status,
    ).toBe(401);
    expect((await post(body, '')).status).toBe(401);
    expect((await post(body, 'ts=1;h1=zz')).status).toBe(401);
    expect(await state()).toEqual(before);
    const [{ n }] = await sql('select count(*)::int as n from billing_events where event_id = $1', [
      fresh.event_id,
    ]);
    expect(n).toBe(0);

    // Replayed: Paddle's own delivery of an older event, signed afresh, is recorded once already.
    await paddleControl(`/subscriptions/${subId}/renew`, { outcome: 'failed' });
    const pastDue = await state();
    expect(pastDue.billing.state).toBe('past_due');
    const replay = await post(
      activated!.body,
      await signPaddle([LOCAL_PADDLE.webhookSecret], nowTs(), activated!.body),
    );
    expect(replay).toMatchObject({ status: 200, body: { outcome: 'duplicate' } });
    expect(await state()).toEqual(pastDue);

    // During a secret rotation Paddle signs with both: ours among them is enough.
    const paused = JSON.stringify({ ...fresh, occurred_at: new Date().toISOString() });
    const rotated = await post(
      paused,
      await signPaddle(['the-next-secret', LOCAL_PADDLE.webhookSecret], nowTs(), paused),
    );
    expect(rotated.status).toBe(200);
    expect((await billing(session)).state).toBe('paused');
  });

  it('applies events by when they happened, not when they arrived', async () => {
    const { session } = await signup({ plan: 'business' });
    const subId = await subscriptionOf(session);
    const [activated] = (await events(subId)).filter((e) => e.event_type === 'subscription.activated');
    const base = JSON.parse(activated!.body);
    const event = (type: string, status: string, at: Date) =>
      JSON.stringify({
        ...base,
        event_id: `evt_${crypto.randomUUID().replace(/-/g, '').slice(0, 26)}`,
        event_type: type,
        occurred_at: at.toISOString(),
        data: { ...base.data, status },
      });
    const later = event('subscription.past_due', 'past_due', new Date(Date.now() + 2000));
    const earlier = event('subscription.updated', 'active', new Date(Date.now() + 1000));
    const sign = (b: string) => signPaddle([LOCAL_PADDLE.webhookSecret], nowTs(), b);
    expect((await post(later, await sign(later))).body.outcome).toBe('applied');
    expect((await post(earlier, await sign(earlier))).body.outcome).toBe('stale');
    expect((await billing(session)).state).toBe('past_due');
    // An event for a subscription this service never sold is recorded and ignored.
    const stranger = JSON.stringify({
      ...JSON.parse(later),
      event_id: 'evt_stranger1',
      data: { ...base.data, id: 'sub_nobody', customer_id: 'ctm_nobody' },
    });
    expect((await post(stranger, await sign(stranger))).body.outcome).toBe('ignored');
  });
});
