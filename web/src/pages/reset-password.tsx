// The page the reset e-mail links to: a new password for the token in the link's fragment.
import { A } from '@solidjs/router';
import { createSignal, type JSX, Show } from 'solid-js';
import { api } from '../api.ts';
import { AuthLayout } from '../components/auth-layout.tsx';
import { control, Field } from '../components/field.tsx';
import { ErrorState } from '../components/states.tsx';
import { t } from '../i18n/index.ts';
import { takeLinkToken } from '../lib/link-token.ts';
import { setSession } from '../lib/session.ts';
import { checkNewPassword, type Problem } from '../lib/validate.ts';

export default function ResetPasswordPage(): JSX.Element {
  const token = takeLinkToken();
  const [password, setPassword] = createSignal('');
  const [problem, setProblem] = createSignal<Problem>();
  const [error, setError] = createSignal<unknown>();
  const [done, setDone] = createSignal(false);
  const [busy, setBusy] = createSignal(false);
  const msg = () => (problem() ? t(problem()!.key, problem()!.params) : undefined);

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const p = checkNewPassword(password());
    setProblem(p);
    setError(undefined);
    if (p || !token) return;
    setBusy(true);
    try {
      await api.resetPassword({ token, password: password() });
      // every session ended, this browser's too
      setSession(null);
      setDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthLayout title={t('auth.resetTitle')}>
      <div class="auth-card">
        <h1>{t('auth.resetTitle')}</h1>
        <Show when={token} fallback={<div class="alert alert-warn">{t('auth.linkMissing')}</div>}>
          <Show
            when={done()}
            fallback={
              <>
                <p class="muted">{t('auth.resetText')}</p>
                <Show when={error()}>
                  <ErrorState error={error()} compact />
                </Show>
                <form onSubmit={submit} novalidate class="stack">
                  <Field
                    id="reset-password"
                    label={t('auth.newPassword')}
                    hint={t('auth.passwordHint')}
                    error={msg()}
                  >
                    <input
                      {...control('reset-password', msg())}
                      type="password"
                      autocomplete="new-password"
                      value={password()}
                      onInput={(e) => setPassword(e.currentTarget.value)}
                    />
                  </Field>
                  <button type="submit" class="btn btn-primary btn-block" disabled={busy()}>
                    {busy() ? t('state.working') : t('auth.resetSave')}
                  </button>
                </form>
              </>
            }
          >
            <div class="alert alert-info" role="status">
              {t('auth.resetDone')}
            </div>
          </Show>
        </Show>
        <p class="auth-switch">
          <A href="/login">{t('auth.backToLogin')}</A>
        </p>
      </div>
    </AuthLayout>
  );
}
