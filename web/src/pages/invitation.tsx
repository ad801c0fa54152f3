// Accepting an invitation (the link in the e-mail: /invitation#token=…; the token stays in the
// fragment, so it never reaches a server log or a Referer). Shows who invites with which role; the
// invitee chooses a password and is logged in. An address that already has its access logs in.
import { A, useNavigate } from '@solidjs/router';
import { createResource, createSignal, type JSX, Show } from 'solid-js';
import { api } from '../api.ts';
import { AuthLayout } from '../components/auth-layout.tsx';
import { control, Field } from '../components/field.tsx';
import { ErrorState } from '../components/states.tsx';
import { type MessageKey, t } from '../i18n/index.ts';
import { formatDateTime } from '../lib/format.ts';
import { setSession } from '../lib/session.ts';
import { checkNewPassword, focusFirstInvalid, type Problem } from '../lib/validate.ts';

export default function InvitationPage(): JSX.Element {
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token') ?? '';
  const navigate = useNavigate();
  const [preview] = createResource(async () => (token ? api.previewInvitation(token) : null));
  const [password, setPassword] = createSignal('');
  const [problem, setProblem] = createSignal<Problem>();
  const [error, setError] = createSignal<unknown>();
  const [busy, setBusy] = createSignal(false);
  let form: HTMLFormElement | undefined;

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const p = checkNewPassword(password());
    setProblem(p);
    setError(undefined);
    if (p) return focusFirstInvalid(form);
    setBusy(true);
    try {
      setSession(await api.acceptInvitation({ token, password: password() }));
      navigate('/', { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const msg = () => (problem() ? t(problem()!.key, problem()!.params) : undefined);

  return (
    <AuthLayout title={t('invite.title')}>
      <div class="auth-card" data-testid="invitation">
        <h1>{t('invite.title')}</h1>
        <Show when={!preview.error} fallback={<ErrorState error={preview.error} compact />}>
          <Show
            when={preview()}
            fallback={<p class="muted">{token ? t('state.loading') : t('invite.noToken')}</p>}
          >
            {(p) => (
              <>
                <p>
                  {t('invite.text', {
                    inviter: p().invitedBy ?? t('invite.anAdmin'),
                    role: t(`role.${p().role}` as MessageKey),
                  })}
                </p>
                <p class="muted">{t('invite.expires', { date: formatDateTime(p().expiresAt) })}</p>
                <Show when={error()}>
                  <ErrorState error={error()} compact />
                </Show>
                <form ref={form} onSubmit={submit} novalidate class="stack">
                  <Field id="invite-accept-email" label={t('auth.email')}>
                    <input
                      id="invite-accept-email"
                      type="email"
                      value={p().email}
                      readOnly
                      autocomplete="username"
                    />
                  </Field>
                  <Field
                    id="invite-password"
                    label={t('auth.password')}
                    hint={t('auth.passwordHint')}
                    error={msg()}
                  >
                    <input
                      {...control('invite-password', msg())}
                      type="password"
                      autocomplete="new-password"
                      value={password()}
                      onInput={(e) => setPassword(e.currentTarget.value)}
                    />
                  </Field>
                  <button type="submit" class="btn btn-primary btn-block" disabled={busy()}>
                    {busy() ? t('state.working') : t('invite.accept')}
                  </button>
                </form>
              </>
            )}
          </Show>
        </Show>
        <p class="muted">
          {t('invite.haveAccess')} <A href="/login">{t('auth.loginLink')}</A>
        </p>
      </div>
    </AuthLayout>
  );
}
