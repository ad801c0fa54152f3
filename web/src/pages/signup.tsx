import { PLAN_IDS, PLANS, type PlanId } from '@resistro/contract/plans';
import { A, Navigate, useSearchParams } from '@solidjs/router';
import { createSignal, For, type JSX, Show } from 'solid-js';
import { ApiClientError, api } from '../api.ts';
import { AuthLayout } from '../components/auth-layout.tsx';
import { control, Field } from '../components/field.tsx';
import { ErrorState } from '../components/states.tsx';
import { browserTimeZone, locale, type MessageKey, t } from '../i18n/index.ts';
import { formatBytes, formatPrice } from '../lib/format.ts';
import { safeNextPath } from '../lib/next-path.ts';
import { me, setSession } from '../lib/session.ts';
import { checkEmail, checkNewPassword, focusFirstInvalid, type Problem } from '../lib/validate.ts';

export default function SignupPage(): JSX.Element {
  const [params] = useSearchParams<{ next?: string; plan?: string }>();
  const initialPlan = (PLAN_IDS as readonly string[]).includes(params.plan ?? '')
    ? (params.plan as PlanId)
    : 'business';
  const [email, setEmail] = createSignal('');
  const [password, setPassword] = createSignal('');
  const [plan, setPlan] = createSignal<PlanId>(initialPlan);
  const [problems, setProblems] = createSignal<{ email?: Problem; password?: Problem }>({});
  const [serverFields, setServerFields] = createSignal<Record<string, string>>({});
  const [error, setError] = createSignal<unknown>();
  const [busy, setBusy] = createSignal(false);
  // A new account starts with connecting its first agent, unless it came for a particular page.
  const [done, setDone] = createSignal(false);
  let form: HTMLFormElement | undefined;

  const fieldError = (name: 'email' | 'password') => {
    const p = problems()[name];
    return p ? t(p.key, p.params) : serverFields()[name];
  };

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const found = { email: checkEmail(email()), password: checkNewPassword(password()) };
    setProblems(found);
    setServerFields({});
    setError(undefined);
    if (found.email || found.password) return focusFirstInvalid(form);
    setBusy(true);
    try {
      // The account speaks the language shown on this page and tells time in the browser's zone.
      const session = await api.signup({
        email: email().trim(),
        password: password(),
        plan: plan(),
        language: locale(),
        timeZone: browserTimeZone(),
      });
      setDone(true);
      setSession(session);
    } catch (err) {
      setError(err);
      if (err instanceof ApiClientError && err.fields) {
        setServerFields(err.fields);
        focusFirstInvalid(form);
      }
    } finally {
      setBusy(false);
    }
  };

  // A new account pays for its plan first (Paddle's checkout), then connects its first agent.
  const target = () =>
    params.next ? safeNextPath(params.next) : done() ? `/checkout?plan=${encodeURIComponent(plan())}` : '/';

  return (
    <Show when={!me()} fallback={<Navigate href={target()} />}>
      <AuthLayout title={t('auth.signup')}>
        <div class="auth-card auth-card-wide">
          <h1>{t('auth.signupTitle')}</h1>
          <p class="muted">{t('auth.signupSubtitle')}</p>
          <Show when={error()}>
            <ErrorState error={error()} compact />
          </Show>
          <form ref={form} onSubmit={submit} novalidate class="stack">
            <Field id="signup-email" label={t('auth.email')} error={fieldError('email')}>
              <input
                {...control('signup-email', fieldError('email'))}
                type="email"
                name="email"
                autocomplete="email"
                value={email()}
                onInput={(e) => setEmail(e.currentTarget.value)}
              />
            </Field>
            <Field
              id="signup-password"
              label={t('auth.password')}
              error={fieldError('password')}
              hint={t('auth.passwordHint')}
            >
              <input
                {...control('signup-password', fieldError('password'), true)}
                type="password"
                name="password"
                autocomplete="new-password"
                value={password()}
                onInput={(e) => setPassword(e.currentTarget.value)}
              />
            </Field>
            <fieldset class="plan-picker">
              <legend>{t('auth.choosePlan')}</legend>
              <div class="plan-options">
                <For each={PLAN_IDS}>
                  {(id) => (
                    <label class="plan-option" classList={{ selected: plan() === id }}>
                      <input
                        type="radio"
                        name="plan"
                        value={id}
                        checked={plan() === id}
                        onChange={() => setPlan(id)}
                      />
                      <span class="plan-option-name">{t(`plan.${id}` as MessageKey)}</span>
                      <span class="plan-option-price">
                        {t('plan.perMonth', { price: formatPrice(PLANS[id].priceEurMonthly) })}
                      </span>
                      <span class="plan-option-limits">
                        {PLANS[id].maxDatabases === null
                          ? t('plan.unlimitedDatabases')
                          : t(PLANS[id].maxDatabases === 1 ? 'plan.databases_one' : 'plan.databases_other', {
                              count: PLANS[id].maxDatabases ?? 0,
                            })}
                        {' · '}
                        {t('plan.retentionDays', { days: PLANS[id].maxRetentionDays })}
                        {' · '}
                        {formatBytes(PLANS[id].storageBytes)}
                      </span>
                    </label>
                  )}
                </For>
              </div>
            </fieldset>
            <button type="submit" class="btn btn-primary btn-block" disabled={busy()}>
              {busy() ? t('state.working') : t('auth.signup')}
            </button>
            <p class="fine-print">{t('auth.signupFinePrint')}</p>
          </form>
          <p class="auth-switch">
            {t('auth.haveAccount')}{' '}
            <A href={params.next ? `/login?next=${encodeURIComponent(params.next)}` : '/login'}>
              {t('auth.loginLink')}
            </A>
          </p>
        </div>
      </AuthLayout>
    </Show>
  );
}
