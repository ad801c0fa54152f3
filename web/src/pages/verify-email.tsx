// The page verification e-mails link to: confirms the token in the link's fragment at once.
import { A } from '@solidjs/router';
import { createResource, type JSX, Match, Switch } from 'solid-js';
import { api } from '../api.ts';
import { AuthLayout } from '../components/auth-layout.tsx';
import { ErrorState, Loading } from '../components/states.tsx';
import { t } from '../i18n/index.ts';
import { takeLinkToken } from '../lib/link-token.ts';
import { loadSession, me } from '../lib/session.ts';

export default function VerifyEmailPage(): JSX.Element {
  const token = takeLinkToken();
  const [result] = createResource(async () => {
    if (!token) return undefined;
    const r = await api.verifyEmail(token);
    // a logged-in browser shows the confirmed address at once
    if (me()) await loadSession();
    return r;
  });
  return (
    <AuthLayout title={t('auth.verifyTitle')}>
      <div class="auth-card">
        <h1>{t('auth.verifyTitle')}</h1>
        <Switch>
          <Match when={!token}>
            <div class="alert alert-warn">{t('auth.linkMissing')}</div>
          </Match>
          <Match when={result.error}>
            <ErrorState error={result.error} compact />
          </Match>
          <Match when={result.loading}>
            <Loading />
          </Match>
          <Match when={result()}>
            {(r) => (
              <div class="alert alert-info" role="status">
                {r().kind === 'verify_alert_email'
                  ? t('auth.verifyAlertDone', { email: r().email })
                  : r().kind === 'change_email'
                    ? t('auth.verifyChangeDone', { email: r().email })
                    : t('auth.verifyDone', { email: r().email })}
              </div>
            )}
          </Match>
        </Switch>
        <p class="auth-switch">
          <A href="/">{t('auth.toDashboard')}</A>
        </p>
      </div>
    </AuthLayout>
  );
}
