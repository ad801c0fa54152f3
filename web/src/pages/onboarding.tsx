// Connect the first (or another) agent: the exact commands with this service's endpoint and a
// fresh agent key filled in. The page watches for the agent and moves on by itself once it is there.
import type { Agent, CreatedApiKey } from '@resistro/contract/schemas';
import { A, useNavigate } from '@solidjs/router';
import { createEffect, createResource, createSignal, type JSX, onCleanup, Show } from 'solid-js';
import { api } from '../api.ts';
import { CodeBlock } from '../components/copy-button.tsx';
import { Icon } from '../components/icons.tsx';
import { PageHeader } from '../components/page-header.tsx';
import { SecretBox } from '../components/secret-box.tsx';
import { ErrorState } from '../components/states.tsx';
import { t } from '../i18n/index.ts';
import { ACTIONS, actionAttr } from '../lib/actions.ts';
import { createPoll } from '../lib/poll.ts';
import { actionBlocked } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';

export const AGENT_POLL_MS = 3_000;
/** An agent that registered this recently before the page opened is the one being set up. */
export const RECENT_AGENT_MS = 15 * 60_000;

/**
 * The agent this page waits for, if it is there: one that was not there when the page opened,
 * one that uses the key created here (an agent re-registering keeps its id), or, when the page
 * opens, an online agent that registered in the last minutes (it was set up with a key from the
 * settings, or the page was reloaded).
 */
export function connectedAgent(
  list: Agent[],
  known: ReadonlySet<string> | undefined,
  keyId: string | undefined,
  openedAt: number,
): Agent | undefined {
  if (!known) {
    return list.find((a) => a.online && openedAt - Date.parse(a.createdAt) < RECENT_AGENT_MS);
  }
  return list.find((a) => !known.has(a.id) || (keyId !== undefined && a.apiKeyId === keyId && a.online));
}

export function onboardingCommands(origin: string, apiKey: string) {
  return {
    install: `curl ${origin}/install-agent.sh | sudo sh`,
    edit: 'sudo nano /etc/resistro-agent/env',
    env: `RESISTRO_API_KEY=${apiKey}\nRESISTRO_ENDPOINT=${origin}/api`,
    restart: 'sudo systemctl restart resistro-agent',
  };
}

function Step(props: { n: number; title: string; done?: boolean; children: JSX.Element }): JSX.Element {
  return (
    <li class="step" classList={{ 'step-done': props.done }}>
      <span class="step-n" aria-hidden="true">
        {props.done ? <Icon name="check" size={16} /> : props.n}
      </span>
      <div class="step-body">
        <h2>{props.title}</h2>
        {props.children}
      </div>
    </li>
  );
}

export default function OnboardingPage(): JSX.Element {
  const navigate = useNavigate();
  const origin = window.location.origin;
  const [created, setCreated] = createSignal<CreatedApiKey>();
  const [keyError, setKeyError] = createSignal<unknown>();
  const [creating, setCreating] = createSignal(false);
  const [connected, setConnected] = createSignal<Agent>();
  // Found on the first load: shown as connected, but the user came here on purpose, so no redirect.
  const [foundAtOpen, setFoundAtOpen] = createSignal(false);
  const openedAt = Date.now();
  // Agents that existed when the page opened; a new one is what we wait for.
  let known: Set<string> | undefined;
  const [agents, { refetch }] = createResource(() => api.allAgents());

  createEffect(() => {
    if (agents.state !== 'ready' || connected()) return;
    const list = agents();
    const found = connectedAgent(list, known, created()?.apiKey.id, openedAt);
    if (!known) {
      known = new Set(list.map((a) => a.id));
      if (found) setFoundAtOpen(true);
    }
    if (found) setConnected(found);
  });
  const otherOnline = () =>
    agents.latest?.filter((a) => a.online && a.id !== connected()?.id).map((a) => a.hostname) ?? [];
  createPoll(
    () => void refetch(),
    AGENT_POLL_MS,
    () => !connected(),
  );

  createEffect(() => {
    const agent = connected();
    if (!agent) return;
    if (foundAtOpen()) return;
    showToast(t('onboarding.connectedToast', { host: agent.hostname }));
    const timer = setTimeout(() => navigate('/databases/new'), 2500);
    onCleanup(() => clearTimeout(timer));
  });

  const createKey = async () => {
    setCreating(true);
    setKeyError(undefined);
    try {
      const name = `${t('onboarding.keyName')} ${new Date().toISOString().slice(0, 10)}`;
      setCreated(await api.createApiKey({ name, scope: 'agent' }));
    } catch (e) {
      setKeyError(e);
    } finally {
      setCreating(false);
    }
  };

  const commands = () => onboardingCommands(origin, created()?.secret ?? t('onboarding.keyPlaceholder'));

  return (
    <div class="page page-narrow">
      <PageHeader title={t('onboarding.title')} description={t('onboarding.subtitle')} />

      <Show
        when={connected()}
        fallback={
          <div class="card waiting" role="status" aria-live="polite">
            <span class="pulse" aria-hidden="true" />
            <div>
              <strong>{t('onboarding.waiting')}</strong>
              <p class="muted">{t('onboarding.waitingHint')}</p>
              <Show when={otherOnline().length > 0}>
                <p class="muted" data-testid="already-online">
                  {t('onboarding.alreadyOnline', { hosts: otherOnline().join(', ') })}{' '}
                  <A href="/databases/new">{t('onboarding.addDatabase')}</A>
                </p>
              </Show>
            </div>
          </div>
        }
      >
        {(agent) => (
          <div class="card connected" role="status" aria-live="polite">
            <span class="all-good-icon" aria-hidden="true">
              <Icon name="check" />
            </span>
            <div>
              <strong data-testid="agent-connected">
                {t('onboarding.connected', { host: agent().hostname })}
              </strong>
              <p class="muted">
                {foundAtOpen() ? t('onboarding.alreadyConnected') : t('onboarding.movingOn')}
              </p>
            </div>
            <A href="/databases/new" class="btn btn-primary">
              {t('onboarding.addDatabase')}
            </A>
          </div>
        )}
      </Show>

      <ol class="steps">
        <Step n={1} title={t('onboarding.step1')} done={Boolean(created())}>
          <p>{t('onboarding.step1Text')}</p>
          <Show when={keyError()}>
            <ErrorState error={keyError()} compact />
          </Show>
          <Show
            when={created()}
            fallback={
              <div class="row">
                <button
                  type="button"
                  class="btn btn-primary"
                  onClick={createKey}
                  disabled={creating() || actionBlocked(ACTIONS.createApiKey) !== undefined}
                  title={actionBlocked(ACTIONS.createApiKey)}
                  data-action={actionAttr(ACTIONS.createApiKey)}
                >
                  <Icon name="key" size={16} />
                  {creating() ? t('state.working') : t('onboarding.createKey')}
                </button>
                <A href="/settings#api-keys" class="btn btn-ghost">
                  {t('onboarding.manageKeys')}
                </A>
              </div>
            }
          >
            {(key) => (
              <SecretBox secret={key().secret} testId="api-key-secret" warning={t('keys.secretOnce')} />
            )}
          </Show>
        </Step>
        <Step n={2} title={t('onboarding.step2')}>
          <p>{t('onboarding.step2Text')}</p>
          <CodeBlock code={commands().install} label={t('onboarding.terminal')} testId="cmd-install" />
        </Step>
        <Step n={3} title={t('onboarding.step3')}>
          <p>{t('onboarding.step3Text')}</p>
          <CodeBlock code={commands().edit} label={t('onboarding.terminal')} />
          <CodeBlock code={commands().env} label="/etc/resistro-agent/env" testId="cmd-env" />
          <p class="note">
            <Icon name="shield" size={16} /> {t('onboarding.encryptionNote')}
          </p>
        </Step>
        <Step n={4} title={t('onboarding.step4')}>
          <p>{t('onboarding.step4Text')}</p>
          <CodeBlock code={commands().restart} label={t('onboarding.terminal')} testId="cmd-restart" />
        </Step>
      </ol>
    </div>
  );
}
