// Settings → Abonnement: the plan and the subscription's state, changing plan with Paddle's
// proration preview (upgrade) or a scheduled downgrade with what to change first, the invoices with
// their PDFs, and updating the payment method. Plans change once Paddle confirms (webhook), so the
// section polls briefly after a change.
import type { Billing, PlanPreview, Transaction } from '@resistro/contract/billing';
import { PLAN_IDS, PLANS, type PlanId } from '@resistro/contract/plans';
import type { Account } from '@resistro/contract/schemas';
import { A } from '@solidjs/router';
import { createResource, createSignal, For, type JSX, Match, Show, Switch } from 'solid-js';
import { api, errorMessage } from '../api.ts';
import { locale, type MessageKey, t } from '../i18n/index.ts';
import { formatBytes, formatDate, formatMoney, formatPrice } from '../lib/format.ts';
import { openCheckout } from '../lib/paddle.ts';
import { refreshAccount, updateAccount } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';
import { ConfirmDialog } from './confirm-dialog.tsx';
import { Async } from './states.tsx';

const RANK: Record<PlanId, number> = { starter: 0, business: 1, professional: 2, enterprise: 3 };
const CONFIRM_POLL_MS = 1_000;
const CONFIRM_TRIES = 30;

const planName = (id: PlanId) => t(`plan.${id}` as MessageKey);

function problemText(p: PlanPreview['problems'][number], plan: PlanId): string {
  const name = planName(plan);
  if (p.limit === 'databases')
    return t('billing.problemDatabases', {
      current: p.current,
      allowed: p.allowed,
      plan: name,
      delete: p.current - p.allowed,
    });
  if (p.limit === 'storage')
    return t('billing.problemStorage', {
      current: formatBytes(p.current),
      allowed: formatBytes(p.allowed),
      plan: name,
    });
  return t('billing.problemRetention', { current: p.current, allowed: p.allowed, plan: name });
}

function StateBadge(props: { billing: Billing }): JSX.Element {
  const cls = () =>
    ({
      active: 'badge-ok',
      trialing: 'badge-ok',
      pending: 'badge-warn',
      past_due: 'badge-error',
      paused: 'badge-warn',
      canceled: 'badge-neutral',
    })[props.billing.state];
  return (
    <span class={`badge ${cls()}`} data-testid="billing-state">
      {t(`billing.state.${props.billing.state}` as MessageKey)}
    </span>
  );
}

export function SubscriptionSection(props: { account: Account }): JSX.Element {
  const [billing, { refetch, mutate }] = createResource(async () => (await api.billing()).billing);
  const [transactions, { refetch: refetchTransactions }] = createResource(() => api.allTransactions());
  const [target, setTarget] = createSignal<PlanId>();
  const [preview, { mutate: setPreview }] = createResource(target, async (plan) => {
    const b = billing();
    if (!b?.enabled || b.state === 'pending' || b.state === 'canceled') return undefined;
    return (await api.previewPlanChange(plan)).preview;
  });
  const current = () => props.account.plan;
  /** the plan the account will be on: a scheduled downgrade counts */
  const next = () => billing()?.scheduledPlan ?? current();

  /** Paddle confirms by webhook: refresh until the account shows what was asked, or give up quietly. */
  const awaitConfirmation = async (done: (a: Account, b: Billing) => boolean, newInvoice = false) => {
    const invoicesBefore = transactions()?.length ?? 0;
    for (let i = 0; i < CONFIRM_TRIES; i++) {
      const [a, b] = await Promise.all([refreshAccount(), api.billing().then((r) => r.billing)]);
      mutate(b);
      if (a && done(a, b)) break;
      await new Promise((r) => setTimeout(r, CONFIRM_POLL_MS));
    }
    // Paddle sends the charge's transaction in its own webhook, which may come after the
    // subscription's: an upgrade's invoice is awaited too.
    for (let i = 0; i < CONFIRM_TRIES; i++) {
      const items = (await refetchTransactions()) ?? [];
      if (!newInvoice || items.length > invoicesBefore) break;
      await new Promise((r) => setTimeout(r, CONFIRM_POLL_MS));
    }
  };

  const changePlan = async (plan: PlanId) => {
    const b = billing();
    if (!b?.enabled) {
      const { account } = await api.updateAccount({ plan });
      updateAccount(account);
      showToast(t('settings.planChanged', { plan: PLANS[plan].name }));
      return;
    }
    const upgrade = RANK[plan] > RANK[current()];
    const { billing: after } = await api.changePlan(plan);
    mutate(after);
    if (upgrade) {
      showToast(t('billing.upgradeSent', { plan: planName(plan) }));
      void awaitConfirmation((a) => a.plan === plan, true);
    } else {
      showToast(
        t('billing.downgradeScheduled', {
          plan: planName(plan),
          date: after.periodEnd ? formatDate(after.periodEnd) : '–',
        }),
      );
      void awaitConfirmation((_a, nb) => nb.scheduledPlan === (plan === current() ? null : plan));
    }
  };

  const updatePayment = async () => {
    try {
      const b = billing();
      const { transactionId, url } = await api.paymentMethodTransaction();
      if (!b?.checkout) {
        if (url) window.location.href = url;
        return;
      }
      const outcome = await openCheckout(b.checkout, transactionId, locale());
      if (outcome === 'completed') {
        showToast(t('billing.paymentMethodUpdated'));
        void awaitConfirmation((_a, nb) => nb.state !== 'past_due');
      }
    } catch (e) {
      showToast(errorMessage(e), 'error');
    }
  };

  const openInvoice = async (txn: Transaction) => {
    try {
      const { url } = await api.invoiceUrl(txn.id);
      window.open(url, '_blank', 'noopener');
    } catch (e) {
      showToast(errorMessage(e), 'error');
    }
  };

  return (
    <section class="card settings-section" id="plan" aria-labelledby="plan-title">
      <div class="card-head">
        <h2 id="plan-title">{t('billing.title')}</h2>
        <p class="muted">{t('settings.planHint')}</p>
      </div>
      <Async of={billing} retry={refetch}>
        {(b) => (
          <>
            <Show when={b().enabled}>
              <dl class="kv" data-testid="subscription">
                <dt>{t('billing.status')}</dt>
                <dd>
                  <StateBadge billing={b()} />
                </dd>
                <dt>{t('billing.plan')}</dt>
                <dd>{planName(current())}</dd>
                <Show when={b().periodEnd && b().state !== 'canceled'}>
                  <dt>{b().cancelAt ? t('billing.endsOn') : t('billing.renewsOn')}</dt>
                  <dd>{formatDate(b().cancelAt ?? b().periodEnd!)}</dd>
                </Show>
              </dl>
              <Switch>
                <Match when={b().state === 'pending'}>
                  <div class="alert alert-warn" role="status">
                    <p>
                      {t('billing.pendingText', {
                        date: b().graceEndsAt ? formatDate(b().graceEndsAt!) : '–',
                      })}{' '}
                      <A href={`/checkout?plan=${current() === 'starter' ? 'business' : current()}`}>
                        {t('billing.payNow')}
                      </A>
                    </p>
                  </div>
                </Match>
                <Match when={b().state === 'past_due'}>
                  <div class="alert alert-error" role="alert">
                    <p>
                      {b().backupsStopped
                        ? t('billing.stoppedText')
                        : t('billing.pastDueText', {
                            date: b().graceEndsAt ? formatDate(b().graceEndsAt!) : '–',
                          })}
                    </p>
                  </div>
                </Match>
                <Match when={b().scheduledPlan}>
                  {(plan) => (
                    <div class="alert alert-info" role="status" data-testid="scheduled-plan">
                      <p>
                        {t('billing.scheduledText', {
                          plan: planName(plan()),
                          date: b().scheduledPlanAt ? formatDate(b().scheduledPlanAt!) : '–',
                        })}
                      </p>
                    </div>
                  )}
                </Match>
              </Switch>
              <Show when={b().state !== 'pending' && b().state !== 'canceled'}>
                <div class="row">
                  <button type="button" class="btn btn-secondary" onClick={() => void updatePayment()}>
                    {t('billing.updatePayment')}
                  </button>
                </div>
              </Show>
            </Show>
            <div class="plans">
              <For each={PLAN_IDS}>
                {(id) => {
                  const plan = PLANS[id];
                  return (
                    <div class="plan-card" classList={{ current: current() === id }}>
                      <div class="plan-card-head">
                        <h3>{planName(id)}</h3>
                        <Show when={current() === id}>
                          <span class="badge badge-info">{t('settings.currentPlan')}</span>
                        </Show>
                        <Show when={current() !== id && next() === id}>
                          <span class="badge badge-neutral">{t('billing.scheduledBadge')}</span>
                        </Show>
                      </div>
                      <p class="plan-price">
                        {formatPrice(plan.priceEurMonthly)}
                        <span class="muted"> {t('plan.month')}</span>
                      </p>
                      <ul class="plan-limits">
                        <li>
                          {plan.maxDatabases === null
                            ? t('plan.unlimitedDatabases')
                            : t(plan.maxDatabases === 1 ? 'plan.databases_one' : 'plan.databases_other', {
                                count: plan.maxDatabases,
                              })}
                        </li>
                        <li>{t('plan.retentionDays', { days: plan.maxRetentionDays })}</li>
                        <li>{t('plan.storage', { size: formatBytes(plan.storageBytes) })}</li>
                      </ul>
                      <Show
                        when={
                          next() !== id &&
                          (!b().enabled || b().state === 'active' || b().state === 'trialing')
                        }
                      >
                        <button
                          type="button"
                          class="btn btn-secondary btn-block"
                          onClick={() => setTarget(id)}
                        >
                          {RANK[id] > RANK[current()] ? t('settings.upgrade') : t('settings.downgrade')}
                        </button>
                      </Show>
                    </div>
                  );
                }}
              </For>
            </div>
            <p class="fine-print">{t('settings.vatNote')}</p>
            <Show when={b().enabled}>
              <h3>{t('billing.invoices')}</h3>
              <Async of={transactions} retry={refetchTransactions}>
                {(items) => (
                  <Show when={items().length > 0} fallback={<p class="muted">{t('billing.noInvoices')}</p>}>
                    <table class="table" data-testid="invoices">
                      <thead>
                        <tr>
                          <th>{t('billing.date')}</th>
                          <th>{t('billing.invoiceNumber')}</th>
                          <th>{t('billing.amount')}</th>
                          <th>{t('billing.status')}</th>
                          <th />
                        </tr>
                      </thead>
                      <tbody>
                        <For each={items()}>
                          {(txn) => (
                            <tr>
                              <td>{formatDate(txn.billedAt ?? txn.createdAt)}</td>
                              <td>{txn.invoiceNumber ?? '–'}</td>
                              <td>{formatMoney(txn.total)}</td>
                              <td>{t(`billing.txn.${txn.status}` as MessageKey)}</td>
                              <td>
                                <Show when={txn.invoiceNumber}>
                                  <button
                                    type="button"
                                    class="btn btn-ghost btn-sm"
                                    onClick={() => void openInvoice(txn)}
                                  >
                                    {t('billing.invoicePdf')}
                                  </button>
                                </Show>
                              </td>
                            </tr>
                          )}
                        </For>
                      </tbody>
                    </table>
                  </Show>
                )}
              </Async>
            </Show>
          </>
        )}
      </Async>
      <ConfirmDialog
        open={Boolean(target())}
        title={t('settings.changePlanTitle', { plan: target() ? PLANS[target()!].name : '' })}
        confirmLabel={t('settings.changePlan')}
        confirmDisabled={preview.loading || (preview()?.problems.length ?? 0) > 0}
        onClose={() => {
          setTarget(undefined);
          setPreview(undefined);
        }}
        onConfirm={async () => {
          const plan = target();
          if (plan) await changePlan(plan);
        }}
      >
        <p>
          {target()
            ? t('settings.changePlanText', {
                plan: PLANS[target()!].name,
                price: formatPrice(PLANS[target()!].priceEurMonthly),
                days: PLANS[target()!].maxRetentionDays,
              })
            : ''}
        </p>
        <Show when={preview()}>
          {(p) => (
            <Switch>
              <Match when={p().kind === 'upgrade'}>
                <p data-testid="proration">
                  {p().chargeNow
                    ? t('billing.chargeNow', { amount: formatMoney(p().chargeNow!) })
                    : t('billing.noChargeNow')}
                </p>
              </Match>
              <Match when={p().problems.length > 0}>
                <div class="alert alert-warn" role="alert" data-testid="plan-problems">
                  <p>{t('billing.doesNotFit', { plan: planName(p().plan) })}</p>
                  <ul>
                    <For each={p().problems}>{(problem) => <li>{problemText(problem, p().plan)}</li>}</For>
                  </ul>
                </div>
              </Match>
              <Match when={p().kind === 'downgrade'}>
                <p data-testid="downgrade-date">
                  {t('billing.downgradeAt', {
                    plan: planName(p().plan),
                    date: p().effectiveAt ? formatDate(p().effectiveAt!) : '–',
                  })}
                </p>
              </Match>
            </Switch>
          )}
        </Show>
        <Show when={preview.error}>
          <p class="alert alert-error">{errorMessage(preview.error)}</p>
        </Show>
      </ConfirmDialog>
    </section>
  );
}
