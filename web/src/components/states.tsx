// Loading, empty and error states, used on every page the same way.
import { type Accessor, type JSX, Match, type Resource, Show, Switch } from 'solid-js';
import { errorMessage } from '../api.ts';
import { t } from '../i18n/index.ts';
import { Icon, type IconName } from './icons.tsx';

export function Loading(props: { label?: string; rows?: number }): JSX.Element {
  return (
    <div class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      <span>{props.label ?? t('state.loading')}</span>
    </div>
  );
}

export function EmptyState(props: {
  icon?: IconName;
  title: string;
  children?: JSX.Element;
  action?: JSX.Element;
}): JSX.Element {
  return (
    <div class="empty">
      <div class="empty-icon" aria-hidden="true">
        <Icon name={props.icon ?? 'archive'} size={22} />
      </div>
      <h3>{props.title}</h3>
      <Show when={props.children}>
        <p>{props.children}</p>
      </Show>
      <Show when={props.action}>
        <div class="empty-action">{props.action}</div>
      </Show>
    </div>
  );
}

export function ErrorState(props: { error: unknown; retry?: () => void; compact?: boolean }): JSX.Element {
  return (
    <div class={props.compact ? 'alert alert-error' : 'error-state alert alert-error'} role="alert">
      <Icon name="alert" />
      <div class="alert-body">
        <strong>{t('state.errorTitle')}</strong>
        <p>{errorMessage(props.error)}</p>
      </div>
      <Show when={props.retry}>
        <button type="button" class="btn btn-secondary btn-sm" onClick={() => props.retry?.()}>
          <Icon name="refresh" size={16} />
          {t('action.retry')}
        </button>
      </Show>
    </div>
  );
}

/** Loading → error (with retry) → content; keeps showing the last value while it refreshes. */
export function Async<T>(props: {
  of: Resource<T>;
  retry?: () => void;
  loading?: JSX.Element;
  children: (value: Accessor<T>) => JSX.Element;
}): JSX.Element {
  return (
    <Switch fallback={props.loading ?? <Loading />}>
      <Match when={props.of.state === 'errored'}>
        <ErrorState error={props.of.error} retry={props.retry} />
      </Match>
      {/* A retry after an error refreshes without a previous value: that is still loading. */}
      <Match
        when={
          (props.of.state === 'ready' || props.of.state === 'refreshing') && props.of.latest !== undefined
        }
      >
        {props.children(() => props.of.latest as T)}
      </Match>
    </Switch>
  );
}
