// Notification channels: webhooks (signed JSON), Slack and extra e-mail channels. Create, switch
// on/off, send a test, delete. A webhook's signing secret is shown once.
import {
  CHANNEL_TYPES,
  type Channel,
  type ChannelType,
  type CreateChannelBody,
  type CreatedChannel,
} from '@resistro/contract/alerts';
import { createResource, createSignal, For, type JSX, Show } from 'solid-js';
import { ApiClientError, api, errorMessage } from '../api.ts';
import { type MessageKey, t } from '../i18n/index.ts';
import { showToast } from '../lib/toast.ts';
import { checkEmail, checkRequired, focusFirstInvalid, type Problem } from '../lib/validate.ts';
import { ConfirmDialog } from './confirm-dialog.tsx';
import { control, Field } from './field.tsx';
import { Icon } from './icons.tsx';
import { SecretBox } from './secret-box.tsx';
import { Async, EmptyState, ErrorState } from './states.tsx';

type Fields = 'name' | 'url' | 'addresses';

export function checkHookUrl(value: string): Problem | undefined {
  const v = value.trim();
  if (!v) return { key: 'validation.required' };
  try {
    const u = new URL(v);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return { key: 'validation.url' };
  } catch {
    return { key: 'validation.url' };
  }
  return undefined;
}

export function ChannelsSection(): JSX.Element {
  const [channels, { refetch, mutate }] = createResource(async () => (await api.listChannels()).items);
  const [type, setType] = createSignal<ChannelType>('webhook');
  const [name, setName] = createSignal('');
  const [url, setUrl] = createSignal('');
  const [addresses, setAddresses] = createSignal('');
  const [problems, setProblems] = createSignal<Partial<Record<Fields, Problem | string>>>({});
  const [error, setError] = createSignal<unknown>();
  const [busy, setBusy] = createSignal(false);
  const [created, setCreated] = createSignal<CreatedChannel>();
  const [toDelete, setToDelete] = createSignal<Channel>();
  const [working, setWorking] = createSignal<string>();
  let form: HTMLFormElement | undefined;

  const message = (f: Fields) => {
    const p = problems()[f];
    return typeof p === 'string' ? p : p ? t(p.key, p.params) : undefined;
  };
  const addressList = () =>
    addresses()
      .split(/[,\s;]+/)
      .map((x) => x.trim())
      .filter(Boolean);

  const create = async (e: SubmitEvent) => {
    e.preventDefault();
    setError(undefined);
    const found: Partial<Record<Fields, Problem>> = { name: checkRequired(name()) };
    if (type() === 'email') {
      const list = addressList();
      found.addresses =
        list.length === 0 ? { key: 'validation.required' } : list.map(checkEmail).find(Boolean);
    } else {
      found.url = checkHookUrl(url());
    }
    setProblems(found);
    if (Object.values(found).some(Boolean)) return focusFirstInvalid(form);
    const body: CreateChannelBody =
      type() === 'email'
        ? { type: 'email', name: name().trim(), addresses: addressList() }
        : { type: type() as 'webhook' | 'slack', name: name().trim(), url: url().trim() };
    setBusy(true);
    try {
      const result = await api.createChannel(body);
      mutate((list) => [...(list ?? []), result.channel]);
      setCreated(result.secret ? result : undefined);
      setName('');
      setUrl('');
      setAddresses('');
      showToast(t('channels.created', { name: result.channel.name }));
    } catch (err) {
      setError(err);
      if (err instanceof ApiClientError && err.fields) {
        const f = err.fields;
        setProblems({
          name: f.name,
          url: f.url,
          addresses: Object.entries(f).find(([k]) => k.startsWith('addresses'))?.[1],
        });
      }
    } finally {
      setBusy(false);
    }
  };

  const toggle = async (c: Channel) => {
    setWorking(c.id);
    try {
      const { channel } = await api.updateChannel(c.id, { enabled: !c.enabled });
      mutate((list) => (list ?? []).map((x) => (x.id === channel.id ? channel : x)));
    } catch (e) {
      showToast(errorMessage(e), 'error', 8000);
    } finally {
      setWorking(undefined);
    }
  };

  const test = async (c: Channel) => {
    setWorking(c.id);
    try {
      const { deliveries } = await api.testChannel(c.id);
      const failed = deliveries.find((d) => d.status === 'failed');
      if (failed) showToast(t('channels.testFailed', { error: failed.lastError ?? '' }), 'error', 10_000);
      else showToast(t('channels.testSent', { name: c.name }));
    } catch (e) {
      showToast(errorMessage(e), 'error', 8000);
    } finally {
      setWorking(undefined);
    }
  };

  return (
    <section class="card settings-section" id="webhooks" aria-labelledby="channels-title">
      <div class="card-head">
        <h2 id="channels-title">{t('channels.title')}</h2>
        <p class="muted">{t('channels.hint')}</p>
      </div>

      <Show when={created()}>
        {(c) => (
          <SecretBox
            role="status"
            secret={c().secret ?? ''}
            warning={t('channels.secretOnce')}
            onDismiss={() => setCreated(undefined)}
          />
        )}
      </Show>

      <Async of={channels} retry={refetch}>
        {(list) => (
          <Show
            when={list().length > 0}
            fallback={
              <EmptyState icon="webhook" title={t('channels.emptyTitle')}>
                {t('channels.emptyText')}
              </EmptyState>
            }
          >
            <ul class="channel-list">
              <For each={list()}>
                {(c) => (
                  <li class="channel" classList={{ disabled: !c.enabled }}>
                    <div class="channel-main">
                      <span class="badge badge-neutral">{t(`channels.type.${c.type}` as MessageKey)}</span>
                      <strong>{c.name}</strong>
                      <span class="muted channel-target">
                        {c.type === 'email' ? (c.addresses ?? []).join(', ') : c.urlHint}
                      </span>
                    </div>
                    <div class="channel-actions">
                      <label class="switch">
                        <input
                          type="checkbox"
                          checked={c.enabled}
                          disabled={working() === c.id}
                          onChange={() => toggle(c)}
                        />
                        <span>{c.enabled ? t('channels.enabled') : t('channels.disabled')}</span>
                      </label>
                      <button
                        type="button"
                        class="btn btn-secondary btn-sm"
                        disabled={working() === c.id || !c.enabled}
                        onClick={() => test(c)}
                      >
                        {t('channels.test')}
                      </button>
                      <button
                        type="button"
                        class="icon-btn icon-btn-danger"
                        aria-label={t('channels.deleteLabel', { name: c.name })}
                        onClick={() => setToDelete(c)}
                      >
                        <Icon name="trash" size={16} />
                      </button>
                    </div>
                  </li>
                )}
              </For>
            </ul>
          </Show>
        )}
      </Async>

      <form ref={form} class="inline-form" onSubmit={create} novalidate>
        <h3>{t('channels.add')}</h3>
        <Show when={error()}>
          <ErrorState error={error()} compact />
        </Show>
        <div class="inline-form-row">
          <Field id="channel-type" label={t('channels.typeLabel')}>
            <select
              id="channel-type"
              value={type()}
              onChange={(e) => setType(e.currentTarget.value as ChannelType)}
            >
              <For each={CHANNEL_TYPES}>
                {(ty) => (
                  <option value={ty} selected={ty === type()}>
                    {t(`channels.type.${ty}` as MessageKey)}
                  </option>
                )}
              </For>
            </select>
          </Field>
          <Field id="channel-name" label={t('channels.name')} error={message('name')} class="grow">
            <input
              {...control('channel-name', message('name'))}
              value={name()}
              onInput={(e) => setName(e.currentTarget.value)}
              autocomplete="off"
            />
          </Field>
        </div>
        <Show
          when={type() === 'email'}
          fallback={
            <Field
              id="channel-url"
              label={type() === 'slack' ? t('channels.slackUrl') : t('channels.url')}
              error={message('url')}
              hint={t('channels.urlHint')}
            >
              <input
                {...control('channel-url', message('url'), true)}
                type="url"
                inputmode="url"
                placeholder={
                  type() === 'slack'
                    ? 'https://hooks.slack.com/services/…'
                    : 'https://example.com/hooks/resistro'
                }
                value={url()}
                onInput={(e) => setUrl(e.currentTarget.value)}
                spellcheck={false}
              />
            </Field>
          }
        >
          <Field
            id="channel-addresses"
            label={t('channels.addresses')}
            error={message('addresses')}
            hint={t('channels.addressesHint')}
          >
            <input
              {...control('channel-addresses', message('addresses'), true)}
              value={addresses()}
              onInput={(e) => setAddresses(e.currentTarget.value)}
              spellcheck={false}
            />
          </Field>
        </Show>
        <div>
          <button type="submit" class="btn btn-secondary" disabled={busy()}>
            <Icon name="plus" size={16} />
            {busy() ? t('state.working') : t('channels.create')}
          </button>
        </div>
      </form>

      <ConfirmDialog
        open={Boolean(toDelete())}
        title={t('channels.deleteTitle', { name: toDelete()?.name ?? '' })}
        confirmLabel={t('action.delete')}
        danger
        onClose={() => setToDelete(undefined)}
        onConfirm={async () => {
          const c = toDelete();
          if (!c) return;
          await api.deleteChannel(c.id);
          mutate((list) => (list ?? []).filter((x) => x.id !== c.id));
          showToast(t('channels.deleted', { name: c.name }));
        }}
      >
        <p>{t('channels.deleteText')}</p>
      </ConfirmDialog>
    </section>
  );
}
