// API keys: create one with a scope (its secret is shown once, with a copy button), list, revoke.
import {
  API_KEY_SCOPES,
  type ApiKey,
  type ApiKeyScope,
  type CreatedApiKey,
} from '@resistro/contract/schemas';
import { createResource, createSignal, For, type JSX, Show } from 'solid-js';
import { ApiClientError, api } from '../api.ts';
import { type MessageKey, t } from '../i18n/index.ts';
import { formatDateTime, formatRelative } from '../lib/format.ts';
import { showToast } from '../lib/toast.ts';
import { checkRequired, focusFirstInvalid, type Problem } from '../lib/validate.ts';
import { ConfirmDialog } from './confirm-dialog.tsx';
import { control, Field } from './field.tsx';
import { Icon } from './icons.tsx';
import { SecretBox } from './secret-box.tsx';
import { Async, EmptyState, ErrorState } from './states.tsx';

export function ApiKeysSection(): JSX.Element {
  const [keys, { refetch, mutate }] = createResource(async () => (await api.listApiKeys()).items);
  const [name, setName] = createSignal('');
  const [scope, setScope] = createSignal<ApiKeyScope>('agent');
  const [problem, setProblem] = createSignal<Problem | string>();
  const [error, setError] = createSignal<unknown>();
  const [busy, setBusy] = createSignal(false);
  const [created, setCreated] = createSignal<CreatedApiKey>();
  const [toRevoke, setToRevoke] = createSignal<ApiKey>();
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

      <Async of={keys} retry={refetch}>
        {(list) => (
          <Show
            when={list().length > 0}
            fallback={
              <EmptyState icon="key" title={t('keys.emptyTitle')}>
                {t('keys.emptyText')}
              </EmptyState>
            }
          >
            <div class="table-wrap">
              <table class="table responsive-table">
                <caption class="sr-only">{t('keys.title')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('keys.name')}</th>
                    <th scope="col">{t('keys.scope')}</th>
                    <th scope="col">{t('keys.created')}</th>
                    <th scope="col">{t('keys.lastUsed')}</th>
                    <th scope="col" class="actions-col">
                      <span class="sr-only">{t('backups.col.actions')}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  <For each={list()}>
                    {(k) => (
                      <tr data-key-id={k.id}>
                        <td data-label={t('keys.name')} class="cell-wide">
                          <strong>{k.name}</strong>
                          <div class="cell-sub mono">{k.prefix}…</div>
                        </td>
                        <td data-label={t('keys.scope')}>
                          <span class="badge badge-neutral">{t(`keys.scope.${k.scope}` as MessageKey)}</span>
                        </td>
                        <td data-label={t('keys.created')}>{formatDateTime(k.createdAt)}</td>
                        <td data-label={t('keys.lastUsed')}>
                          {k.lastUsedAt ? (
                            <span title={formatDateTime(k.lastUsedAt)}>{formatRelative(k.lastUsedAt)}</span>
                          ) : (
                            <span class="muted">{t('keys.neverUsed')}</span>
                          )}
                        </td>
                        <td class="actions-cell">
                          <button
                            type="button"
                            class="btn btn-danger-outline btn-sm"
                            aria-label={t('keys.revokeLabel', { name: k.name })}
                            onClick={() => setToRevoke(k)}
                          >
                            {t('keys.revoke')}
                          </button>
                        </td>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
            </div>
          </Show>
        )}
      </Async>

      <ConfirmDialog
        open={Boolean(toRevoke())}
        title={t('keys.revokeTitle', { name: toRevoke()?.name ?? '' })}
        confirmLabel={t('keys.revoke')}
        danger
        onClose={() => setToRevoke(undefined)}
        onConfirm={async () => {
          const k = toRevoke();
          if (!k) return;
          await api.revokeApiKey(k.id);
          mutate((list) => (list ?? []).filter((x) => x.id !== k.id));
          if (created()?.apiKey.id === k.id) setCreated(undefined);
          showToast(t('keys.revoked', { name: k.name }));
        }}
      >
        <p>{t('keys.revokeText')}</p>
      </ConfirmDialog>
    </section>
  );
}
