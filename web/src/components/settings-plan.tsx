// The plan: current plan, the four plans to switch between, and quota and usage.
import { PLAN_IDS, PLANS, type PlanId } from '@resistro/contract/plans';
import type { Account } from '@resistro/contract/schemas';
import { createSignal, For, type JSX, Show } from 'solid-js';
import { api } from '../api.ts';
import { type MessageKey, t } from '../i18n/index.ts';
import { formatBytes, formatPrice } from '../lib/format.ts';
import { updateAccount } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';
import { ConfirmDialog } from './confirm-dialog.tsx';
import { UsageMeter } from './usage-meter.tsx';

export function UsageSection(props: { account: Account }): JSX.Element {
  return (
    <section class="card settings-section" id="usage" aria-labelledby="usage-title">
      <div class="card-head">
        <h2 id="usage-title">{t('settings.usage')}</h2>
      </div>
      <div class="usage-grid">
        <div>
          <h3 class="usage-label">{t('settings.storage')}</h3>
          <UsageMeter
            value={props.account.usage.storageBytes}
            max={props.account.limits.storageBytes}
            label={t('settings.storage')}
            text={t('usage.ofQuota', {
              used: formatBytes(props.account.usage.storageBytes),
              quota: formatBytes(props.account.limits.storageBytes),
            })}
          />
        </div>
        <div>
          <h3 class="usage-label">{t('settings.databases')}</h3>
          <UsageMeter
            value={props.account.usage.databases}
            max={props.account.limits.maxDatabases}
            label={t('settings.databases')}
            text={
              props.account.limits.maxDatabases === null
                ? t('usage.databasesUnlimited', { used: props.account.usage.databases })
                : t('usage.databasesOf', {
                    used: props.account.usage.databases,
                    max: props.account.limits.maxDatabases,
                  })
            }
          />
        </div>
        <div>
          <h3 class="usage-label">{t('settings.retention')}</h3>
          <p class="usage-value">
            {t('plan.retentionDays', { days: props.account.limits.maxRetentionDays })}
          </p>
        </div>
      </div>
    </section>
  );
}

export function PlanSection(props: { account: Account }): JSX.Element {
  const [target, setTarget] = createSignal<PlanId>();
  const current = () => props.account.plan;
  return (
    <section class="card settings-section" id="plan" aria-labelledby="plan-title">
      <div class="card-head">
        <h2 id="plan-title">{t('settings.plan')}</h2>
        <p class="muted">{t('settings.planHint')}</p>
      </div>
      <div class="plans">
        <For each={PLAN_IDS}>
          {(id) => {
            const plan = PLANS[id];
            return (
              <div class="plan-card" classList={{ current: current() === id }}>
                <div class="plan-card-head">
                  <h3>{t(`plan.${id}` as MessageKey)}</h3>
                  <Show when={current() === id}>
                    <span class="badge badge-info">{t('settings.currentPlan')}</span>
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
                <Show when={current() !== id}>
                  <button type="button" class="btn btn-secondary btn-block" onClick={() => setTarget(id)}>
                    {PLANS[id].priceEurMonthly > PLANS[current()].priceEurMonthly
                      ? t('settings.upgrade')
                      : t('settings.downgrade')}
                  </button>
                </Show>
              </div>
            );
          }}
        </For>
      </div>
      <p class="fine-print">{t('settings.vatNote')}</p>
      <ConfirmDialog
        open={Boolean(target())}
        title={t('settings.changePlanTitle', { plan: target() ? PLANS[target()!].name : '' })}
        confirmLabel={t('settings.changePlan')}
        onClose={() => setTarget(undefined)}
        onConfirm={async () => {
          const plan = target();
          if (!plan) return;
          const { account } = await api.updateAccount({ plan });
          updateAccount(account);
          showToast(t('settings.planChanged', { plan: PLANS[plan].name }));
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
      </ConfirmDialog>
    </section>
  );
}
