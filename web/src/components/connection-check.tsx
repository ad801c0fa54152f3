// The result of a database's connection check: every step the agent ran, and for a failed one
// what went wrong, what to do, the GRANT statements to run (copyable) and the server's own words.
// The agent reports codes with parameters; the words come from the user's language.
import type { CheckItem, ConnectionCheck } from '@resistro/contract/checks';
import { For, type JSX, Show } from 'solid-js';
import { locale, type MessageKey, t, tn } from '../i18n/index.ts';
import { formatDateTime } from '../lib/format.ts';
import { CopyButton } from './copy-button.tsx';
import { Icon } from './icons.tsx';
import { Badge } from './status-badge.tsx';

/** codes whose text depends on how many objects: worded with tn() and a count */
const COUNTED = new Set([
  'tables_unreadable',
  'sequences_unreadable',
  'large_objects_unreadable',
  'schemas_unusable',
]);

const PG_SUBJECTS = new Set(['tables', 'sequences', 'large_objects', 'schemas']);

/** "Server reachable", "Privilege SHOW VIEW", "Read access: tables", … */
export function stepLabel(item: CheckItem): string {
  if (item.step === 'privilege' && item.subject) {
    return PG_SUBJECTS.has(item.subject)
      ? t(`check.subject.${item.subject}` as MessageKey)
      : t('check.step.privilege', { subject: item.subject });
  }
  if (item.step === 'version' && item.subject) return t('check.step.versionTool', { tool: item.subject });
  return t(`check.step.${item.step}` as MessageKey);
}

/** What went wrong, in the user's language, with the agent's parameters filled in. */
export function problemText(item: CheckItem): string {
  const code = item.code ?? 'check_failed';
  const params = item.params ?? {};
  if (COUNTED.has(code)) return tn(`check.code.${code}`, Number(params.count ?? 0), params);
  return t(`check.code.${code}` as MessageKey, params);
}

export function hintText(item: CheckItem): string {
  return t(`check.hint.${item.code ?? 'check_failed'}` as MessageKey, item.params ?? {});
}

function CheckStep(props: { item: CheckItem }): JSX.Element {
  return (
    <li class={props.item.ok ? 'check-item check-item-ok' : 'check-item check-item-failed'}>
      <span class="check-mark" aria-hidden="true">
        {props.item.ok ? '✓' : '✗'}
      </span>
      <div class="check-body">
        <span class="check-label">
          {stepLabel(props.item)}
          <span class="sr-only">: {props.item.ok ? t('check.passed') : t('check.failedStep')}</span>
        </span>
        <Show when={!props.item.ok}>
          <p class="check-problem">{problemText(props.item)}</p>
          <p class="check-hint">{hintText(props.item)}</p>
          <Show when={props.item.params?.grant}>
            {(grant) => (
              <div class="check-grant">
                <pre class="error-text">{grant()}</pre>
                <CopyButton text={grant()} />
              </div>
            )}
          </Show>
          <Show when={props.item.params?.install}>
            {(install) => (
              <div class="check-grant">
                <pre class="error-text">{install()}</pre>
                <CopyButton text={install()} />
              </div>
            )}
          </Show>
          <Show when={props.item.detail}>
            {(detail) => (
              <details class="check-detail">
                <summary>{t('check.detail')}</summary>
                <pre class="error-text">{detail()}</pre>
              </details>
            )}
          </Show>
        </Show>
      </div>
    </li>
  );
}

/**
 * The latest check. `onTestAgain` shows the "test again" button; `agentOnline` false says why a
 * pending check does not move.
 */
export function ConnectionCheckPanel(props: {
  check: ConnectionCheck | null;
  agentOnline?: boolean | undefined;
  busy?: boolean;
  onTestAgain?: () => void;
}): JSX.Element {
  const status = () => props.check?.status;
  return (
    <section class="card connection-check" aria-labelledby="check-title" data-testid="connection-check">
      <div class="card-head">
        <div class="check-title">
          <h2 id="check-title">{t('check.title')}</h2>
          <Show when={status()}>
            {(s) => (
              <Show
                when={s() === 'pending'}
                fallback={
                  <Badge tone={s() === 'ok' ? 'ok' : 'error'} symbol={s() === 'ok' ? '✓' : '✗'}>
                    {s() === 'ok' ? t('check.badgeOk') : t('check.badgeFailed')}
                  </Badge>
                }
              >
                <Badge tone="info" symbol="●">
                  {t('check.badgePending')}
                </Badge>
              </Show>
            )}
          </Show>
        </div>
        <Show when={props.onTestAgain}>
          <button
            type="button"
            class="btn btn-secondary btn-sm"
            disabled={props.busy || status() === 'pending'}
            onClick={() => props.onTestAgain?.()}
          >
            <Icon name="refresh" size={16} />
            {t('check.testAgain')}
          </button>
        </Show>
      </div>
      <Show when={props.check} fallback={<p class="muted">{t('check.never')}</p>}>
        {(check) => (
          <>
            <Show when={check().status === 'pending'}>
              <div class="alert alert-info" role="status">
                <span class="spinner" aria-hidden="true" />
                <p>{props.agentOnline === false ? t('check.pendingOffline') : t('check.pending')}</p>
              </div>
            </Show>
            <Show when={check().status === 'ok'}>
              <p class="check-summary">{t('check.ok')}</p>
            </Show>
            <Show when={check().status === 'failed'}>
              <div class="alert alert-error" role="alert">
                <Icon name="alert" />
                <p>{t('check.failed')}</p>
              </div>
            </Show>
            <Show when={check().checkedAt}>
              {(at) => (
                <p class="muted check-meta">
                  {check().status === 'pending'
                    ? t('check.previous', { when: formatDateTime(at()) })
                    : t('check.checkedAt', { when: formatDateTime(at()) })}
                  <Show when={check().serverVersion}>
                    {' · '}
                    {t('check.versions', {
                      server: check().serverVersion ?? '',
                      tool: check().toolVersion ?? '–',
                    })}
                  </Show>
                </p>
              )}
            </Show>
            <Show when={check().items.length > 0}>
              <ul class="check-list">
                <For each={check().items}>{(item) => <CheckStep item={item} />}</For>
              </ul>
            </Show>
            <Show when={check().items.some((i) => i.step === 'privilege' && !i.ok)}>
              <p class="check-docs">
                <a href={`/docs/${locale()}/privileges`} target="_blank" rel="noopener">
                  {t('check.docsLink')}
                </a>
              </p>
            </Show>
          </>
        )}
      </Show>
    </section>
  );
}
