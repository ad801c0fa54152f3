// Paying for the plan chosen at sign-up (or later): the worker opens a Paddle transaction, Paddle.js
// shows its overlay, and the plan applies when Paddle's webhook confirms the payment, which this
// page waits for before moving on to connecting the first agent.
import { PLAN_IDS, PLANS, type PlanId } from '@resistro/contract/plans';
import { A, useNavigate, useSearchParams } from '@solidjs/router';
import { createSignal, type JSX, onMount, Show } from 'solid-js';
import { api } from '../api.ts';
import { PageHeader } from '../components/page-header.tsx';
import { ErrorState, Loading } from '../components/states.tsx';
import { locale, type MessageKey, t } from '../i18n/index.ts';
import { formatPrice } from '../lib/format.ts';
import { openCheckout } from '../lib/paddle.ts';
import { refreshAccount } from '../lib/session.ts';

const CONFIRM_POLL_MS = 1_000;

export default function CheckoutPage(): JSX.Element {
  const [params] = useSearchParams<{ plan?: string }>();
  const navigate = useNavigate();
  const plan = (): PlanId =>
    (PLAN_IDS as readonly string[]).includes(params.plan ?? '') ? (params.plan as PlanId) : 'business';
  const [phase, setPhase] = createSignal<'opening' | 'open' | 'confirming' | 'closed'>('opening');
  const [error, setError] = createSignal<unknown>();

  const waitForPaddle = async () => {
    setPhase('confirming');
    // Paddle confirms by webhook, a moment after the overlay says "paid".
    for (;;) {
      const account = await refreshAccount();
      if (account?.billing?.state === 'active' || account?.billing?.state === 'trialing') break;
      await new Promise((r) => setTimeout(r, CONFIRM_POLL_MS));
    }
    navigate('/onboarding', { replace: true });
  };

  const start = async () => {
    setError(undefined);
    setPhase('opening');
    try {
      const { billing } = await api.billing();
      if (billing.state === 'active' || billing.state === 'trialing') return navigate('/settings#plan');
      if (!billing.checkout) return navigate('/onboarding', { replace: true });
      const { transactionId } = await api.startCheckout(plan());
      setPhase('open');
      const outcome = await openCheckout(billing.checkout, transactionId, locale());
      if (outcome === 'completed') await waitForPaddle();
      else setPhase('closed');
    } catch (e) {
      setError(e);
      setPhase('closed');
    }
  };
  onMount(() => void start());

  return (
    <div class="page">
      <PageHeader
        title={t('checkout.title')}
        description={t('checkout.subtitle', {
          plan: t(`plan.${plan()}` as MessageKey),
          price: formatPrice(PLANS[plan()].priceEurMonthly),
        })}
      />
      <div class="card stack" data-testid="checkout">
        <Show when={error()}>
          <ErrorState error={error()} compact />
        </Show>
        <Show when={phase() === 'opening' || phase() === 'confirming'}>
          <Loading label={phase() === 'confirming' ? t('checkout.confirming') : t('checkout.opening')} />
        </Show>
        <Show when={phase() === 'open'}>
          <p>{t('checkout.inOverlay')}</p>
        </Show>
        <Show when={phase() === 'closed'}>
          <p>{t('checkout.notPaid')}</p>
          <div class="row">
            <button type="button" class="btn btn-primary" onClick={() => void start()}>
              {t('checkout.payNow')}
            </button>
            <A href="/onboarding" class="btn btn-secondary">
              {t('checkout.later')}
            </A>
          </div>
        </Show>
        <p class="fine-print">{t('checkout.paddleNote')}</p>
      </div>
    </div>
  );
}
