// "Forgot your password?": asks for the address and always answers the same, whether or not an
// account uses it (the server does too).
import { A } from '@solidjs/router';
import { createSignal, type JSX, Show } from 'solid-js';
import { api } from '../api.ts';
import { AuthLayout } from '../components/auth-layout.tsx';
import { control, Field } from '../components/field.tsx';
import { ErrorState } from '../components/states.tsx';
import { t } from '../i18n/index.ts';
import { checkEmail, type Problem } from '../lib/validate.ts';

export default function ForgotPasswordPage(): JSX.Element {
  const [email, setEmail] = createSignal('');
  const [problem, setProblem] = createSignal<Problem>();
  const [error, setError] = createSignal<unknown>();
  const [sent, setSent] = createSignal<string>();
  const [busy, setBusy] = createSignal(false);
  const msg = () => (problem() ? t(problem()!.key, problem()!.params) : undefined);

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const p = checkEmail(email());
    setProblem(p);
    setError(undefined);
    if (p) return;
    setBusy(true);
    try {
      const address = email().trim().toLowerCase();
      await api.requestPasswordReset(address);
      setSent(address);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthLayout title={t('auth.forgotTitle')}>
      <div class="auth-card">
        <h1>{t('auth.forgotTitle')}</h1>
        <Show
          when={sent()}
          fallback={
            <>
              <p class="muted">{t('auth.forgotText')}</p>
              <Show when={error()}>
                <ErrorState error={error()} compact />
              </Show>
              <form onSubmit={submit} novalidate class="stack">
                <Field id="forgot-email" label={t('auth.email')} error={msg()}>
                  <input
                    {...control('forgot-email', msg())}
                    type="email"
                    autocomplete="username"
                    value={email()}
                    onInput={(e) => setEmail(e.currentTarget.value)}
                  />
                </Field>
                <button type="submit" class="btn btn-primary btn-block" disabled={busy()}>
                  {busy() ? t('state.working') : t('auth.forgotSend')}
                </button>
              </form>
            </>
          }
        >
          <div class="alert alert-info" role="status">
            {t('auth.forgotSent', { email: sent()! })}
          </div>
        </Show>
        <p class="auth-switch">
          <A href="/login">{t('auth.backToLogin')}</A>
        </p>
      </div>
    </AuthLayout>
  );
}
