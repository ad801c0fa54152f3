// Quota and usage against the plan's limits (the plan itself: settings-subscription.tsx).
import type { Account } from '@resistro/contract/schemas';
import type { JSX } from 'solid-js';
import { t } from '../i18n/index.ts';
import { formatBytes } from '../lib/format.ts';
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
