// The addresses that receive alert e-mails (account.alertEmails); each change is saved at once.
import type { Account } from '@resistro/contract/schemas';
import { createSignal, For, type JSX, Show } from 'solid-js';
import { ApiClientError, api } from '../api.ts';
import { t } from '../i18n/index.ts';
import { ACTIONS } from '../lib/actions.ts';
import { updateAccount } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';
import { checkEmail, type Problem } from '../lib/validate.ts';
import { control, Field } from './field.tsx';
import { Icon } from './icons.tsx';
import { ErrorState } from './states.tsx';
import { Guarded } from './write-guard.tsx';

export const MAX_ALERT_EMAILS = 10;

export function AlertEmailsSection(props: { account: Account }): JSX.Element {
  const [draft, setDraft] = createSignal('');
  const [problem, setProblem] = createSignal<Problem | string>();
  const [error, setError] = createSignal<unknown>();
  const [busy, setBusy] = createSignal(false);
  const emails = () => props.account.alertEmails;

  const message = () => {
    const p = problem();
    return typeof p === 'string' ? p : p ? t(p.key, p.params) : undefined;
  };

  const save = async (next: string[]) => {
    setBusy(true);
    setError(undefined);
    try {
      const { account } = await api.updateAccount({ alertEmails: next });
      updateAccount(account);
      return true;
    } catch (e) {
      setError(e);
      if (e instanceof ApiClientError && e.fields) {
        const first = Object.entries(e.fields).find(([k]) => k.startsWith('alertEmails'));
        if (first) setProblem(first[1]);
      }
      return false;
    } finally {
      setBusy(false);
    }
  };

  const add = async (e: SubmitEvent) => {
    e.preventDefault();
    const address = draft().trim().toLowerCase();
    let p: Problem | undefined = checkEmail(address);
    if (!p && emails().includes(address)) p = { key: 'alertEmails.duplicate' };
    if (!p && emails().length >= MAX_ALERT_EMAILS)
      p = { key: 'alertEmails.max', params: { max: MAX_ALERT_EMAILS } };
    setProblem(p);
    if (p) return;
    if (await save([...emails(), address])) {
      setDraft('');
      showToast(t('alertEmails.added', { email: address }));
    }
  };

  const remove = async (address: string) => {
    if (await save(emails().filter((x) => x !== address)))
      showToast(t('alertEmails.removed', { email: address }));
  };

  return (
    <section class="card settings-section" id="alerts" aria-labelledby="alert-emails-title">
      <div class="card-head">
        <h2 id="alert-emails-title">{t('alertEmails.title')}</h2>
        <p class="muted">{t('alertEmails.hint')}</p>
      </div>
      <Show when={error()}>
        <ErrorState error={error()} compact />
      </Show>
      <Guarded action={ACTIONS.updateAccount}>
        <Show when={emails().length > 0} fallback={<p class="alert alert-warn">{t('alertEmails.none')}</p>}>
          <ul class="email-list">
            <For each={emails()}>
              {(address) => (
                <li>
                  <Icon name="bell" size={16} />
                  <span class="email-address">{address}</span>
                  <Show when={!props.account.verifiedAlertEmails.includes(address)}>
                    <span class="badge badge-warn" title={t('alertEmails.unverified')}>
                      {t('security.emailUnverified')}
                    </span>
                  </Show>
                  <button
                    type="button"
                    class="icon-btn icon-btn-danger"
                    disabled={busy()}
                    aria-label={t('alertEmails.removeLabel', { email: address })}
                    onClick={() => remove(address)}
                  >
                    <Icon name="x" size={16} />
                  </button>
                </li>
              )}
            </For>
          </ul>
        </Show>
        <form class="inline-form" onSubmit={add} novalidate>
          <div class="inline-form-row">
            <Field id="alert-email-new" label={t('alertEmails.add')} error={message()} class="grow">
              <input
                {...control('alert-email-new', message())}
                type="email"
                autocomplete="email"
                placeholder="ops@example.com"
                value={draft()}
                onInput={(e) => {
                  setDraft(e.currentTarget.value);
                  setProblem(undefined);
                }}
              />
            </Field>
            <div class="inline-form-submit">
              <button type="submit" class="btn btn-secondary" disabled={busy()}>
                <Icon name="plus" size={16} />
                {t('alertEmails.addButton')}
              </button>
            </div>
          </div>
        </form>
      </Guarded>
    </section>
  );
}
