// Banners about the logged-in user's identity on every page: an address that is not confirmed
// yet (with "send again"), and a team that requires 2FA the user has not set up.
import { A } from '@solidjs/router';
import { createSignal, type JSX, Show } from 'solid-js';
import { api, errorMessage } from '../api.ts';
import { t } from '../i18n/index.ts';
import { me } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';
import { Icon } from './icons.tsx';

export function IdentityBanner(): JSX.Element {
  const [busy, setBusy] = createSignal(false);
  const resend = async () => {
    setBusy(true);
    try {
      await api.resendVerification();
      showToast(t('identity.resent', { email: me()!.user.email }));
    } catch (e) {
      showToast(errorMessage(e), 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Show when={me()?.account.require2fa && !me()?.user.twoFactorEnabled}>
        <div class="alert alert-warn" role="status" data-testid="require-2fa-banner">
          <Icon name="shield" />
          <p>
            {t('identity.require2fa')} <A href="/settings#security">{t('identity.setUpNow')}</A>
          </p>
        </div>
      </Show>
      <Show when={me() && !me()!.user.emailVerified}>
        <div class="alert alert-info" role="status" data-testid="verify-banner">
          <Icon name="alert" />
          <p>{t('identity.unverified', { email: me()!.user.email })}</p>
          <button type="button" class="btn btn-secondary btn-sm" disabled={busy()} onClick={resend}>
            {t('identity.resend')}
          </button>
        </div>
      </Show>
    </>
  );
}
