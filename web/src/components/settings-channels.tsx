// Notification channels: webhooks (signed JSON), Slack, extra e-mail recipients, PagerDuty,
// Microsoft Teams and syslog. Create, switch on/off, send a test, delete. A webhook's signing
// secret is shown once; a PagerDuty integration key is never shown again (only its last 4 characters).
import {
  CHANNEL_TYPES,
  type Channel,
  type ChannelType,
  type CreateChannelBody,
  type CreatedChannel,
  SYSLOG_TRANSPORTS,
  type SyslogTransport,
} from '@resistro/contract/alerts';
import { createResource, createSignal, For, type JSX, Show } from 'solid-js';
import { ApiClientError, api, errorMessage } from '../api.ts';
import { type MessageKey, t } from '../i18n/index.ts';
import { ACTIONS } from '../lib/actions.ts';
import { showToast } from '../lib/toast.ts';
import { checkEmail, checkRequired, focusFirstInvalid, type Problem } from '../lib/validate.ts';
import { ConfirmDialog } from './confirm-dialog.tsx';
import { control, Field } from './field.tsx';
import { Icon } from './icons.tsx';
import { SecretBox } from './secret-box.tsx';
import { Async, EmptyState, ErrorState } from './states.tsx';
import { Guarded } from './write-guard.tsx';

type Fields = 'name' | 'url' | 'addresses' | 'routingKey' | 'host' | 'port';

/** What the list shows of where a channel sends. */
function channelTarget(c: Channel): string {
  if (c.type === 'email') return (c.addresses ?? []).join(', ');
  if (c.type === 'syslog' && c.syslog) return `${c.syslog.transport}://${c.syslog.host}:${c.syslog.port}`;
  if (c.type === 'pagerduty') return [c.urlHint, c.routingKeyHint].filter(Boolean).join(' · ');
  return c.urlHint ?? '';
}

export function checkRoutingKey(value: string): Problem | undefined {
  const v = value.trim();
  if (!v) return { key: 'validation.required' };
  return /^[A-Za-z0-9]{32}$/.test(v) ? undefined : { key: 'channels.routingKeyInvalid' };
}

export function checkSyslogPort(value: string): Problem | undefined {
  const n = Number(value.trim());
  if (!value.trim()) return { key: 'validation.required' };
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? undefined : { key: 'validation.port' };
}

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
  const [routingKey, setRoutingKey] = createSignal('');
  const [host, setHost] = createSignal('');
  const [port, setPort] = createSignal('6514');
  const [transport, setTransport] = createSignal<SyslogTransport>('tls');
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
    const ty = type();
    if (ty === 'email') {
      const list = addressList();
      found.addresses =
        list.length === 0 ? { key: 'validation.required' } : list.map(checkEmail).find(Boolean);
    } else if (ty === 'syslog') {
      found.host = checkRequired(host());
      found.port = checkSyslogPort(port());
    } else if (ty === 'pagerduty') {
      found.routingKey = checkRoutingKey(routingKey());
      if (url().trim()) found.url = checkHookUrl(url());
    } else {
      found.url = checkHookUrl(url());
    }
    setProblems(found);
    if (Object.values(found).some(Boolean)) return focusFirstInvalid(form);
    const n = name().trim();
    const body: CreateChannelBody =
      ty === 'email'
        ? { type: 'email', name: n, addresses: addressList() }
        : ty === 'syslog'
          ? {
              type: 'syslog',
              name: n,
              host: host().trim(),
              port: Number(port().trim()),
              transport: transport(),
            }
          : ty === 'pagerduty'
            ? {
                type: 'pagerduty',
                name: n,
                routingKey: routingKey().trim(),
                ...(url().trim() && { url: url().trim() }),
              }
            : { type: ty, name: n, url: url().trim() };
    setBusy(true);
    try {
      const result = await api.createChannel(body);
      mutate((list) => [...(list ?? []), result.channel]);
      setCreated(result.secret ? result : undefined);
      setName('');
      setUrl('');
      setAddresses('');
      setRoutingKey('');
      setHost('');
      showToast(t('channels.created', { name: result.channel.name }));
    } catch (err) {
      setError(err);
      if (err instanceof ApiClientError && err.fields) {
        const f = err.fields;
        setProblems({
          name: f.name,
          url: f.url,
          routingKey: f.routingKey,
          host: f.host,
          port: f.port,
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

      <Guarded action={ACTIONS.createChannel}>
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
                        <span class="muted channel-target">{channelTarget(c)}</span>
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
          <Show when={type() === 'email'}>
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
          <Show when={type() === 'pagerduty'}>
            <Field
              id="channel-routing-key"
              label={t('channels.routingKey')}
              error={message('routingKey')}
              hint={t('channels.routingKeyHint')}
            >
              <input
                {...control('channel-routing-key', message('routingKey'), true)}
                type="password"
                autocomplete="off"
                value={routingKey()}
                onInput={(e) => setRoutingKey(e.currentTarget.value)}
                spellcheck={false}
              />
            </Field>
          </Show>
          <Show when={type() === 'syslog'}>
            <p class="muted">{t('channels.syslogNoUdp')}</p>
            <div class="inline-form-row">
              <Field id="channel-host" label={t('channels.syslogHost')} error={message('host')} class="grow">
                <input
                  {...control('channel-host', message('host'), true)}
                  value={host()}
                  placeholder="logs.example.com"
                  onInput={(e) => setHost(e.currentTarget.value)}
                  spellcheck={false}
                />
              </Field>
              <Field id="channel-port" label={t('channels.syslogPort')} error={message('port')}>
                <input
                  {...control('channel-port', message('port'), true)}
                  inputmode="numeric"
                  value={port()}
                  onInput={(e) => setPort(e.currentTarget.value)}
                />
              </Field>
              <Field id="channel-transport" label={t('channels.syslogTransport')}>
                <select
                  id="channel-transport"
                  value={transport()}
                  onChange={(e) => {
                    const next = e.currentTarget.value as SyslogTransport;
                    // the registered ports: 6514 for syslog over TLS, 601 for plain TCP
                    if (port() === (transport() === 'tls' ? '6514' : '601'))
                      setPort(next === 'tls' ? '6514' : '601');
                    setTransport(next);
                  }}
                >
                  <For each={SYSLOG_TRANSPORTS}>
                    {(tr) => (
                      <option value={tr} selected={tr === transport()}>
                        {t(`channels.transport.${tr}` as MessageKey)}
                      </option>
                    )}
                  </For>
                </select>
              </Field>
            </div>
          </Show>
          <Show when={type() !== 'email' && type() !== 'syslog'}>
            <Field
              id="channel-url"
              label={
                type() === 'slack'
                  ? t('channels.slackUrl')
                  : type() === 'teams'
                    ? t('channels.teamsUrl')
                    : type() === 'pagerduty'
                      ? t('channels.pagerDutyUrl')
                      : t('channels.url')
              }
              error={message('url')}
              hint={type() === 'pagerduty' ? t('channels.pagerDutyUrlHint') : t('channels.urlHint')}
            >
              <input
                {...control('channel-url', message('url'), type() !== 'pagerduty')}
                type="url"
                inputmode="url"
                placeholder={
                  type() === 'slack'
                    ? 'https://hooks.slack.com/services/…'
                    : type() === 'teams'
                      ? 'https://prod-00.westeurope.logic.azure.com/workflows/…'
                      : type() === 'pagerduty'
                        ? 'https://events.pagerduty.com/v2/enqueue'
                        : 'https://example.com/hooks/resistro'
                }
                value={url()}
                onInput={(e) => setUrl(e.currentTarget.value)}
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
      </Guarded>

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
