// API keys: create one with a scope (its secret is shown once, with a copy button), list, revoke.
import {
  type Agent,
  API_KEY_SCOPES,
  type ApiKey,
  type ApiKeyScope,
  type CreatedApiKey,
} from '@resistro/contract/schemas';
import { createResource, createSignal, For, type JSX, Show } from 'solid-js';
import { ApiClientError, api } from '../api.ts';
import { type MessageKey, t, tn } from '../i18n/index.ts';
import { ACTIONS } from '../lib/actions.ts';
import { formatDateTime, formatRelative } from '../lib/format.ts';
import { showToast } from '../lib/toast.ts';
import { checkRequired, focusFirstInvalid, type Problem } from '../lib/validate.ts';
import { ConfirmFor } from './confirm-dialog.tsx';
import { DataTable } from './data-table.tsx';
import { control, Field } from './field.tsx';
import { Icon } from './icons.tsx';
import { SecretBox } from './secret-box.tsx';
import { Async, EmptyState, ErrorState } from './states.tsx';
import { Guarded } from './write-guard.tsx';

export function ApiKeysSection(): JSX.Element {
  const [keys, { refetch, mutate }] = createResource(() => api.allApiKeys());
  const [name, setName] = createSignal('');
  const [scope, setScope] = createSignal<ApiKeyScope>('agent');
  const [problem, setProblem] = createSignal<Problem | string>();
  const [error, setError] = createSignal<unknown>();
  const [busy, setBusy] = createSignal(false);
  const [created, setCreated] = createSignal<CreatedApiKey>();
  const [toRevoke, setToRevoke] = createSignal<ApiKey>();
  // Which agents use a key: loaded when its revoke dialog opens, so the dialog can name them.
  const [agents] = createResource(
    () => toRevoke() !== undefined,
    () => api.allAgents(),
  );
  const usersOf = (k: ApiKey): Agent[] | undefined =>
    agents.state === 'ready' ? agents.latest.filter((a) => a.apiKeyId === k.id) : undefined;
  const openRevoke = (k: ApiKey) => setToRevoke(k);
  let form: HTMLFormElement | undefined;

  const nameError = () => {
    const p = problem();
    return typeof p === 'string' ? p : p ? t(p.key, p.params) : undefined;
  };

  const create = async (e: SubmitEvent) => {
    e.preventDefault();
    setError(undefined);
    const p =
      checkRequired(name()) ??
      (name().trim().length > 100 ? { key: 'validation.tooLong' as const, params: { max: 100 } } : undefined);
    setProblem(p);
    if (p) return focusFirstInvalid(form);
    setBusy(true);
    try {
      const result = await api.createApiKey({ name: name().trim(), scope: scope() });
      setCreated(result);
      setName('');
      mutate((list) => [result.apiKey, ...(list ?? [])]);
    } catch (err) {
      setError(err);
      if (err instanceof ApiClientError && err.fields?.name) setProblem(err.fields.name);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card settings-section" id="api-keys" aria-labelledby="keys-title">
      <div class="card-head">
        <h2 id="keys-title">{t('keys.title')}</h2>
        <p class="muted">{t('keys.hint')}</p>
      </div>

      <Show when={created()}>
        {(c) => (
          <SecretBox
            role="status"
            secret={c().secret}
            testId="api-key-secret"
            warning={t('keys.secretOnce')}
            onDismiss={() => setCreated(undefined)}
          />
        )}
      </Show>

      <Guarded action={ACTIONS.createApiKey}>
        <form ref={form} class="inline-form" onSubmit={create} novalidate>
          <Show when={error()}>
            <ErrorState error={error()} compact />
          </Show>
          <div class="inline-form-row">
            <Field id="key-name" label={t('keys.name')} error={nameError()} class="grow">
              <input
                {...control('key-name', nameError())}
                value={name()}
                placeholder={t('keys.namePlaceholder')}
                onInput={(e) => setName(e.currentTarget.value)}
                autocomplete="off"
              />
            </Field>
            <Field id="key-scope" label={t('keys.scope')} hint={t(`keys.scopeHint.${scope()}` as MessageKey)}>
              <select
                {...control('key-scope', undefined, true)}
                value={scope()}
                onChange={(e) => setScope(e.currentTarget.value as ApiKeyScope)}
              >
                <For each={API_KEY_SCOPES}>
                  {(s) => (
                    <option value={s} selected={s === scope()}>
                      {t(`keys.scope.${s}` as MessageKey)}
                    </option>
                  )}
                </For>
              </select>
            </Field>
            <div class="inline-form-submit">
              <button type="submit" class="btn btn-primary" disabled={busy()}>
                <Icon name="plus" size={16} />
                {busy() ? t('state.working') : t('keys.create')}
              </button>
            </div>
          </div>
        </form>
      </Guarded>

      <Async of={keys} retry={refetch}>
        {(list) => (
          <DataTable
            caption={t('keys.title')}
            rows={list()}
            rowAttrs={(k) => ({ 'data-key-id': k.id })}
            empty={
              <EmptyState icon="key" title={t('keys.emptyTitle')}>
                {t('keys.emptyText')}
              </EmptyState>
            }
            columns={[
              {
                label: t('keys.name'),
                wide: true,
                cell: (k) => (
                  <>
                    <strong>{k.name}</strong>
                    <div class="cell-sub mono">{k.prefix}…</div>
                  </>
                ),
              },
              {
                label: t('keys.scope'),
                cell: (k) => (
                  <span class="badge badge-neutral">{t(`keys.scope.${k.scope}` as MessageKey)}</span>
                ),
              },
              { label: t('keys.created'), cell: (k) => formatDateTime(k.createdAt) },
              {
                label: t('keys.lastUsed'),
                cell: (k) =>
                  k.lastUsedAt ? (
                    <span title={formatDateTime(k.lastUsedAt)}>
                      {formatRelative(k.lastUsedAt, new Date(), 'past')}
                    </span>
                  ) : (
                    <span class="muted">{t('keys.neverUsed')}</span>
                  ),
              },
            ]}
            actions={(k) => (
              <button
                type="button"
                class="btn btn-danger-outline btn-sm"
                aria-label={t('keys.revokeLabel', { name: k.name })}
                onClick={() => openRevoke(k)}
              >
                {t('keys.revoke')}
              </button>
            )}
          />
        )}
      </Async>

      <ConfirmFor
        item={toRevoke()}
        title={(k) => t('keys.revokeTitle', { name: k.name })}
        confirmLabel={t('keys.revoke')}
        danger
        onClose={() => setToRevoke(undefined)}
        onConfirm={async (k) => {
          await api.revokeApiKey(k.id);
          mutate((list) => (list ?? []).filter((x) => x.id !== k.id));
          if (created()?.apiKey.id === k.id) setCreated(undefined);
          showToast(t('keys.revoked', { name: k.name }));
        }}
      >
        {(k) => (
          <>
            <p>{t('keys.revokeText')}</p>
            <KeyUsers users={usersOf(k)} />
          </>
        )}
      </ConfirmFor>
    </section>
  );
}

/** Names the agents that stop working when the key goes (they cannot back up until given a new key). */
function KeyUsers(props: { users: Agent[] | undefined }): JSX.Element {
  return (
    <Show when={props.users} fallback={<p class="muted">{t('keys.usersLoading')}</p>}>
      {(users) => (
        <Show when={users().length > 0} fallback={<p class="muted">{t('keys.usersNone')}</p>}>
          <div class="alert alert-warn" data-testid="key-users">
            <Icon name="server" />
            <div class="alert-body">
              <strong>{tn('keys.usersTitle', users().length)}</strong>
              <ul class="chips">
                <For each={users()}>{(a) => <li class="chip">{a.hostname}</li>}</For>
              </ul>
            </div>
          </div>
        </Show>
      )}
    </Show>
  );
}
