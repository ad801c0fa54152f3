import { A, Navigate, useSearchParams } from '@solidjs/router';
import { createSignal, type JSX, Show } from 'solid-js';
import { ApiClientError, api } from '../api.ts';
import { AuthLayout } from '../components/auth-layout.tsx';
import { control, Field } from '../components/field.tsx';
import { ErrorState } from '../components/states.tsx';
import { t } from '../i18n/index.ts';
import { safeNextPath } from '../lib/next-path.ts';
import { me, setSession } from '../lib/session.ts';
import { checkEmail, checkRequired, focusFirstInvalid, type Problem } from '../lib/validate.ts';

export default function LoginPage(): JSX.Element {
  const [params] = useSearchParams<{ next?: string; expired?: string; sso?: string }>();
  const next = () => safeNextPath(params.next);
  const [email, setEmail] = createSignal('');
  const [password, setPassword] = createSignal('');
  const [problems, setProblems] = createSignal<{ email?: Problem; password?: Problem }>({});
  const [error, setError] = createSignal<unknown>();
  const [busy, setBusy] = createSignal(false);
  // the second step: the password was right, the account has two-factor authentication on
  const [challenge, setChallenge] = createSignal<string>();
  const [code, setCode] = createSignal('');
  const [codeProblem, setCodeProblem] = createSignal<string>();
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
      const answer = await api.login({ email: email().trim(), password: password() });
      if ('twoFactorRequired' in answer) {
        setChallenge(answer.challenge);
        setTimeout(() => document.getElementById('login-code')?.focus(), 0);
        return;
      }
      // The <Show> below turns into a redirect to where the user was going.
      setSession(answer);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  // Single sign-on: the address picks the account whose identity provider to go to.
  const sso = async () => {
    const found = { email: checkEmail(email()) };
    setProblems(found);
    setError(undefined);
    if (found.email) return focusFirstInvalid(form);
    setBusy(true);
    try {
      const { url } = await api.ssoStart(email().trim().toLowerCase());
      window.location.assign(url);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const submitCode = async (e: SubmitEvent) => {
    e.preventDefault();
    const value = code().trim();
    if (!/^(\d{6}|[a-z0-9]{5}-?[a-z0-9]{5})$/i.test(value)) {
      setCodeProblem(t('auth.codeInvalid'));
      return;
    }
    setCodeProblem(undefined);
    setError(undefined);
    setBusy(true);
    try {
      setSession(await api.login2fa({ challenge: challenge()!, code: value }));
    } catch (err) {
      // an expired challenge starts over with the password
      if (err instanceof ApiClientError && err.code === 'unauthorized') setChallenge(undefined);
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
          <Show when={params.sso && !error()}>
            <div class="alert alert-warn" role="alert">
              {params.sso === 'forbidden' ? t('auth.ssoForbidden') : t('auth.ssoFailed')}
            </div>
          </Show>
          <Show when={error()}>
            <ErrorState error={error()} compact />
          </Show>
          <Show when={challenge()}>
            <form onSubmit={submitCode} novalidate class="stack" aria-labelledby="login-code-title">
              <h2 id="login-code-title">{t('auth.codeTitle')}</h2>
              <p class="muted">{t('auth.codeText')}</p>
              <Field id="login-code" label={t('auth.code')} error={codeProblem()}>
                <input
                  {...control('login-code', codeProblem())}
                  type="text"
                  name="code"
                  inputmode="numeric"
                  autocomplete="one-time-code"
                  value={code()}
                  onInput={(e) => setCode(e.currentTarget.value)}
                />
              </Field>
              <button type="submit" class="btn btn-primary btn-block" disabled={busy()}>
                {busy() ? t('state.working') : t('auth.verifyCode')}
              </button>
            </form>
          </Show>
          <form ref={form} onSubmit={submit} novalidate class="stack" hidden={Boolean(challenge())}>
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
            <button type="button" class="btn btn-secondary btn-block" disabled={busy()} onClick={sso}>
              {t('auth.ssoLogin')}
            </button>
          </form>
          <p class="auth-switch">
            <A href="/forgot-password">{t('auth.forgot')}</A>
          </p>
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
