import { A, Navigate, useSearchParams } from '@solidjs/router';
import { createSignal, type JSX, Show } from 'solid-js';
import { api } from '../api.ts';
import { AuthLayout } from '../components/auth-layout.tsx';
import { control, Field } from '../components/field.tsx';
import { ErrorState } from '../components/states.tsx';
import { t } from '../i18n/index.ts';
import { safeNextPath } from '../lib/next-path.ts';
import { me, setSession } from '../lib/session.ts';
import { checkEmail, checkRequired, focusFirstInvalid, type Problem } from '../lib/validate.ts';

export default function LoginPage(): JSX.Element {
  const [params] = useSearchParams<{ next?: string; expired?: string }>();
  const next = () => safeNextPath(params.next);
  const [email, setEmail] = createSignal('');
  const [password, setPassword] = createSignal('');
  const [problems, setProblems] = createSignal<{ email?: Problem; password?: Problem }>({});
  const [error, setError] = createSignal<unknown>();
  const [busy, setBusy] = createSignal(false);
  let form: HTMLFormElement | undefined;

  const msg = (p: Problem | undefined) => (p ? t(p.key, p.params) : undefined);

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const found = { email: checkEmail(email()), password: checkRequired(password()) };
    setProblems(found);
    setError(undefined);
    if (found.email || found.password) return focusFirstInvalid(form);
    setBusy(true);
    try {
      const session = await api.login({ email: email().trim(), password: password() });
      // The <Show> below turns into a redirect to where the user was going.
      setSession(session);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Show when={!me()} fallback={<Navigate href={next()} />}>
      <AuthLayout title={t('auth.login')}>
        <div class="auth-card">
          <h1>{t('auth.loginTitle')}</h1>
          <p class="muted">{t('auth.loginSubtitle')}</p>
          <Show when={params.expired === '1' && !error()}>
            <div class="alert alert-info" role="status">
              {t('auth.sessionExpired')}
            </div>
          </Show>
          <Show when={error()}>
            <ErrorState error={error()} compact />
          </Show>
          <form ref={form} onSubmit={submit} novalidate class="stack">
            <Field id="login-email" label={t('auth.email')} error={msg(problems().email)}>
              <input
                {...control('login-email', msg(problems().email))}
                type="email"
                name="email"
                autocomplete="username"
                value={email()}
                onInput={(e) => setEmail(e.currentTarget.value)}
              />
            </Field>
            <Field id="login-password" label={t('auth.password')} error={msg(problems().password)}>
              <input
                {...control('login-password', msg(problems().password))}
                type="password"
                name="password"
                autocomplete="current-password"
                value={password()}
                onInput={(e) => setPassword(e.currentTarget.value)}
              />
            </Field>
            <button type="submit" class="btn btn-primary btn-block" disabled={busy()}>
              {busy() ? t('state.working') : t('auth.login')}
            </button>
          </form>
          <p class="auth-switch">
            {t('auth.noAccount')}{' '}
            <A href={params.next ? `/signup?next=${encodeURIComponent(params.next)}` : '/signup'}>
              {t('auth.signupLink')}
            </A>
          </p>
        </div>
      </AuthLayout>
    </Show>
  );
}
