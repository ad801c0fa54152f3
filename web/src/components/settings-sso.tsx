// Settings → Single sign-on (owners, Enterprise): the OIDC provider's issuer, client id and secret,
// the e-mail domains whose people may log in through it, on/off, and turning it off altogether.
// SECURITY: the client secret is write-only. The server never sends it (only hasClientSecret), so
// the field starts empty every time; leaving it empty keeps the stored one.
import type { Account } from '@resistro/contract/schemas';
import { createEffect, createResource, createSignal, type JSX, on, Show } from 'solid-js';
import { api } from '../api.ts';
import { t } from '../i18n/index.ts';
import { ACTIONS } from '../lib/actions.ts';
import { showToast } from '../lib/toast.ts';
import { checkRequired, focusFirstInvalid, type Problem } from '../lib/validate.ts';
import { ConfirmDialog } from './confirm-dialog.tsx';
import { CopyButton } from './copy-button.tsx';
import { control, Field } from './field.tsx';
import { Async, ErrorState } from './states.tsx';
import { Guarded } from './write-guard.tsx';

const msg = (p: Problem | string | undefined) =>
  typeof p === 'string' ? p : p ? t(p.key, p.params) : undefined;

/** The domains as typed: separated by commas, spaces or lines. */
export const parseDomains = (text: string) =>
  text
    .split(/[\s,;]+/)
    .map((d) => d.trim().toLowerCase())
    .filter(Boolean);

function checkIssuer(value: string): Problem | undefined {
  const v = value.trim();
  if (!v) return { key: 'validation.required' };
  try {
    const u = new URL(v);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return { key: 'sso.issuerUrl' };
  } catch {
    return { key: 'sso.issuerUrl' };
  }
  return undefined;
}

export function SsoSection(props: { account: Account }): JSX.Element {
  const [sso, { mutate, refetch }] = createResource(async () => (await api.getSso()).sso);
  const [issuer, setIssuer] = createSignal('');
  const [clientId, setClientId] = createSignal('');
  const [secret, setSecret] = createSignal('');
  const [domains, setDomains] = createSignal('');
  const [enabled, setEnabled] = createSignal(true);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<unknown>();
  const [fields, setFields] = createSignal<Record<string, Problem | string | undefined>>({});
  const [confirmRemove, setConfirmRemove] = createSignal(false);
  let form: HTMLFormElement | undefined;

  // the stored settings fill the form once loaded (and after each save); never the secret
  createEffect(
    on(sso, (s) => {
      if (s === undefined) return;
      setIssuer(s?.issuer ?? '');
      setClientId(s?.clientId ?? '');
      setDomains(s?.domains.join(', ') ?? '');
      setEnabled(s?.enabled ?? true);
      setSecret('');
    }),
  );

  const enterprise = () => props.account.plan === 'enterprise';
  const redirectUri = () => sso()?.redirectUri ?? `${location.origin}/api/v1/auth/sso/callback`;

  const save = async (e: SubmitEvent) => {
    e.preventDefault();
    const list = parseDomains(domains());
    const found: Record<string, Problem | undefined> = {
      issuer: checkIssuer(issuer()),
      clientId: checkRequired(clientId()),
      clientSecret: sso()?.hasClientSecret ? undefined : checkRequired(secret()),
      domains: list.length === 0 ? { key: 'validation.required' } : undefined,
    };
    setFields(found);
    if (Object.values(found).some(Boolean)) return focusFirstInvalid(form);
    setBusy(true);
    setError(undefined);
    try {
      const { sso: saved } = await api.updateSso({
        issuer: issuer().trim(),
        clientId: clientId().trim(),
        ...(secret() && { clientSecret: secret() }),
        domains: list,
        enabled: enabled(),
      });
      mutate(saved);
      showToast(t('sso.saved'));
    } catch (err) {
      setError(err);
      const f = (err as { fields?: Record<string, string> }).fields;
      if (f) setFields(f);
      focusFirstInvalid(form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card settings-section" id="sso" aria-labelledby="sso-title">
      <div class="card-head">
        <h2 id="sso-title">{t('sso.title')}</h2>
        <p class="muted">{t('sso.hint')}</p>
      </div>
      <Show when={!enterprise()}>
        <p class="alert alert-info" data-testid="sso-enterprise-only">
          {t('sso.enterpriseOnly')}
        </p>
      </Show>
      <Async of={sso} retry={refetch}>
        {(current) => (
          <Guarded action={ACTIONS.updateSso}>
            <fieldset class="guarded" disabled={!enterprise()}>
              <dl class="kv">
                <dt>{t('sso.redirectUri')}</dt>
                <dd class="row">
                  <code data-testid="sso-redirect-uri">{redirectUri()}</code>
                  <CopyButton text={redirectUri()} />
                </dd>
                <dt>{t('sso.state')}</dt>
                <dd data-testid="sso-state">
                  {current()
                    ? current()!.enabled
                      ? t('sso.stateOn')
                      : t('sso.stateOff')
                    : t('sso.notSetUp')}
                </dd>
              </dl>
              <form ref={form} class="form-grid" onSubmit={save} novalidate aria-label={t('sso.title')}>
                <Show when={error()}>
                  <ErrorState error={error()} compact />
                </Show>
                <Field
                  id="sso-issuer"
                  label={t('sso.issuer')}
                  hint={t('sso.issuerHint')}
                  error={msg(fields().issuer)}
                >
                  <input
                    {...control('sso-issuer', msg(fields().issuer), true)}
                    type="url"
                    inputmode="url"
                    autocomplete="off"
                    placeholder="https://login.example.com/realms/acme"
                    value={issuer()}
                    onInput={(e) => setIssuer(e.currentTarget.value)}
                  />
                </Field>
                <Field id="sso-client-id" label={t('sso.clientId')} error={msg(fields().clientId)}>
                  <input
                    {...control('sso-client-id', msg(fields().clientId))}
                    autocomplete="off"
                    value={clientId()}
                    onInput={(e) => setClientId(e.currentTarget.value)}
                  />
                </Field>
                <Field
                  id="sso-client-secret"
                  label={t('sso.clientSecret')}
                  hint={t('sso.secretHint')}
                  error={msg(fields().clientSecret)}
                >
                  <input
                    {...control('sso-client-secret', msg(fields().clientSecret), true)}
                    type="password"
                    autocomplete="new-password"
                    placeholder={current()?.hasClientSecret ? t('sso.secretStored') : ''}
                    value={secret()}
                    onInput={(e) => setSecret(e.currentTarget.value)}
                  />
                </Field>
                <Field
                  id="sso-domains"
                  label={t('sso.domains')}
                  hint={t('sso.domainsHint')}
                  error={msg(fields().domains)}
                >
                  <input
                    {...control('sso-domains', msg(fields().domains), true)}
                    autocomplete="off"
                    placeholder="acme.example, acme.de"
                    value={domains()}
                    onInput={(e) => setDomains(e.currentTarget.value)}
                  />
                </Field>
                <label class="checkbox">
                  <input
                    id="sso-enabled"
                    type="checkbox"
                    checked={enabled()}
                    onChange={(e) => setEnabled(e.currentTarget.checked)}
                  />{' '}
                  {t('sso.enabled')}
                </label>
                <div class="form-actions">
                  <Show when={current()}>
                    <button
                      type="button"
                      class="btn btn-danger-outline"
                      onClick={() => setConfirmRemove(true)}
                    >
                      {t('sso.remove')}
                    </button>
                  </Show>
                  <button type="submit" class="btn btn-primary" disabled={busy()}>
                    {busy() ? t('state.working') : t('sso.save')}
                  </button>
                </div>
              </form>
            </fieldset>
          </Guarded>
        )}
      </Async>
      <ConfirmDialog
        open={confirmRemove()}
        title={t('sso.removeTitle')}
        confirmLabel={t('sso.remove')}
        danger
        onClose={() => setConfirmRemove(false)}
        onConfirm={async () => {
          await api.removeSso();
          mutate(null);
          showToast(t('sso.removed'));
        }}
      >
        <p>{t('sso.removeText')}</p>
      </ConfirmDialog>
    </section>
  );
}
