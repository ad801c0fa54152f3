// A restore test's verdict with its reasons: the tables that differ (with counts where the agent
// had them), each of the customer's checks with its query, expectation and the value it got, or
// why the test could not finish, each with what to do about it.
import type { RestoreTest } from '@resistro/contract/restore-tests';
import { For, type JSX, Show } from 'solid-js';
import { type MessageKey, t } from '../i18n/index.ts';
import { Badge } from './status-badge.tsx';

type Tone = 'neutral' | 'info' | 'ok' | 'error' | 'warn';
const VIEW: Record<RestoreTest['state'], { tone: Tone; symbol: string }> = {
  pending: { tone: 'neutral', symbol: '…' },
  running: { tone: 'info', symbol: '●' },
  passed: { tone: 'ok', symbol: '✓' },
  failed: { tone: 'error', symbol: '✗' },
  error: { tone: 'error', symbol: '!' },
  cancelled: { tone: 'warn', symbol: '■' },
};

export function RestoreTestBadge(props: { state: RestoreTest['state'] }): JSX.Element {
  return (
    <Badge tone={VIEW[props.state].tone} symbol={VIEW[props.state].symbol}>
      {t(`rtest.state.${props.state}` as MessageKey)}
    </Badge>
  );
}

const SHOWN_TABLES = 10;

export function RestoreTestReasons(props: { test: RestoreTest }): JSX.Element {
  const test = () => props.test;
  const failedChecks = () => test().checks.filter((c) => c.passed === false);
  const passedChecks = () => test().checks.filter((c) => c.passed === true);
  const tables = () => test().tables;
  return (
    <div class="verdict" data-testid="restore-test-reasons">
      <Show when={test().state === 'error' || (test().state === 'cancelled' && test().error)}>
        <p class="verdict-error">
          <strong>{test().errorCode ? t(`rtest.error.${test().errorCode}` as MessageKey) : ''}</strong>
        </p>
        <Show when={test().error}>
          <pre class="error-text">{test().error}</pre>
        </Show>
        <Show when={test().errorHint}>
          <p class="field-hint">{t('rtest.errorHint', { hint: test().errorHint ?? '' })}</p>
        </Show>
      </Show>
      <Show when={tables()}>
        {(tb) => (
          <Show
            when={tb().failed > 0}
            fallback={
              <Show when={test().state === 'passed' || test().state === 'failed'}>
                <p class="muted">{t('rtest.tablesOk', { checked: tb().checked })}</p>
              </Show>
            }
          >
            <p>
              <strong>{t('rtest.tablesFailed', { failed: tb().failed, checked: tb().checked })}</strong>
            </p>
            <ul class="verdict-tables" data-testid="failing-tables">
              <For each={tb().failures.slice(0, SHOWN_TABLES)}>
                {(f) => (
                  <li>
                    <code>{f.table}</code>:{' '}
                    {t(`rtest.reason.${f.reason}` as MessageKey, {
                      expected: f.expectedRows ?? '–',
                      actual: f.actualRows ?? '–',
                    })}
                  </li>
                )}
              </For>
            </ul>
            <Show when={tb().failed > SHOWN_TABLES}>
              <p class="muted">{t('rtest.tablesMore', { count: tb().failed - SHOWN_TABLES })}</p>
            </Show>
            <p class="field-hint">{t('rtest.hint.tables')}</p>
          </Show>
        )}
      </Show>
      <For each={failedChecks()}>
        {(c) => (
          <div class="verdict-check" data-testid="failing-check">
            <p>
              <strong>{t('rtest.checkFailed', { name: c.name })}</strong>
            </p>
            <pre class="error-text">{c.sql}</pre>
            <Show
              when={c.error}
              fallback={
                <p>
                  {t('rtest.checkExpected', {
                    op: c.expect.op,
                    value: c.expect.value,
                    actual: c.actual ?? '–',
                  })}
                </p>
              }
            >
              <p>{t('rtest.checkError', { error: c.error ?? '' })}</p>
            </Show>
            <p class="field-hint">{t('rtest.hint.checks')}</p>
          </div>
        )}
      </For>
      <Show when={test().state === 'passed' && passedChecks().length > 0}>
        <ul class="verdict-passed">
          <For each={passedChecks()}>{(c) => <li>{t('rtest.checkPassed', { name: c.name })}</li>}</For>
        </ul>
      </Show>
    </div>
  );
}
