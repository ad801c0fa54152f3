// Settings → Security: password and e-mail address, two-factor authentication (QR code drawn
// here, recovery codes shown once), the team-wide 2FA requirement, and the user's sessions.
import type { SessionInfo } from '@resistro/contract/identity';
import { useNavigate } from '@solidjs/router';
import { generate } from 'lean-qr';
import { toSvgDataURL } from 'lean-qr/extras/svg';
import { createResource, createSignal, For, type JSX, Show } from 'solid-js';
import { api } from '../api.ts';
import { t } from '../i18n/index.ts';
import { ACTIONS } from '../lib/actions.ts';
import { formatDateTime } from '../lib/format.ts';
import { loadSession, me, setSession, updateAccount } from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';
import { checkEmail, checkNewPassword, checkRequired, type Problem } from '../lib/validate.ts';
import { ConfirmDialog } from './confirm-dialog.tsx';
import { CopyButton } from './copy-button.tsx';
import { control, Field } from './field.tsx';
import { ErrorState } from './states.tsx';
import { Guarded } from './write-guard.tsx';

const msg = (p: Problem | string | undefined) =>
  typeof p === 'string' ? p : p ? t(p.key, p.params) : undefined;

/** A form's state: busy, the server's error, and its field problems (the server's names). */
function useForm() {
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<unknown>();
  const [fields, setFields] = createSignal<Record<string, Problem | string | undefined>>({});
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
    } catch (e) {
      setError(e);
      const f = (e as { fields?: Record<string, string> }).fields;
      if (f) setFields(f);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, fields, setFields, run };
}

function PasswordForm(): JSX.Element {
  const f = useForm();
  const [current, setCurrent] = createSignal('');
  const [next, setNext] = createSignal('');
  const submit = (e: SubmitEvent) => {
    e.preventDefault();
    const found = { currentPassword: checkRequired(current()), newPassword: checkNewPassword(next()) };
    f.setFields(found);
    if (found.currentPassword || found.newPassword) return;
    void f.run(async () => {
      await api.changePassword({ currentPassword: current(), newPassword: next() });
      setCurrent('');
      setNext('');
      showToast(t('security.passwordChanged'));
    });
  };
  return (
    <form class="stack" onSubmit={submit} novalidate aria-labelledby="security-password-title">
      <h3 id="security-password-title">{t('security.passwordTitle')}</h3>
      <Show when={f.error()}>
        <ErrorState error={f.error()} compact />
      </Show>
      <Field
        id="current-password"
        label={t('security.currentPassword')}
        error={msg(f.fields().currentPassword)}
      >
        <input
          {...control('current-password', msg(f.fields().currentPassword))}
          type="password"
          autocomplete="current-password"
          value={current()}
          onInput={(e) => setCurrent(e.currentTarget.value)}
        />
      </Field>
      <Field
        id="new-password"
        label={t('auth.newPassword')}
        hint={t('auth.passwordHint')}
        error={msg(f.fields().newPassword)}
      >
        <input
          {...control('new-password', msg(f.fields().newPassword))}
          type="password"
          autocomplete="new-password"
          value={next()}
          onInput={(e) => setNext(e.currentTarget.value)}
        />
      </Field>
      <div>
        <button type="submit" class="btn btn-secondary" disabled={f.busy()}>
          {t('security.changePassword')}
        </button>
      </div>
    </form>
  );
}

function EmailForm(): JSX.Element {
  const f = useForm();
  const [email, setEmail] = createSignal('');
  const [password, setPassword] = createSignal('');
  const submit = (e: SubmitEvent) => {
    e.preventDefault();
    const found = { email: checkEmail(email()), password: checkRequired(password()) };
    f.setFields(found);
    if (found.email || found.password) return;
    void f.run(async () => {
      const address = email().trim().toLowerCase();
      await api.changeEmail({ email: address, password: password() });
      setEmail('');
      setPassword('');
      showToast(t('security.emailLinkSent', { email: address }));
    });
  };
  return (
    <form class="stack" onSubmit={submit} novalidate aria-labelledby="security-email-title">
      <h3 id="security-email-title">{t('security.emailTitle')}</h3>
      <p>
        {me()?.user.email}{' '}
        <span class={me()?.user.emailVerified ? 'badge badge-ok' : 'badge badge-warn'}>
          {me()?.user.emailVerified ? t('security.emailVerified') : t('security.emailUnverified')}
        </span>
      </p>
      <Show when={f.error()}>
        <ErrorState error={f.error()} compact />
      </Show>
      <Field id="new-email" label={t('security.newEmail')} error={msg(f.fields().email)}>
        <input
          {...control('new-email', msg(f.fields().email))}
          type="email"
          autocomplete="email"
          value={email()}
          onInput={(e) => setEmail(e.currentTarget.value)}
        />
      </Field>
      <Field id="new-email-password" label={t('security.currentPassword')} error={msg(f.fields().password)}>
        <input
          {...control('new-email-password', msg(f.fields().password))}
          type="password"
          autocomplete="current-password"
          value={password()}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </Field>
      <div>
        <button type="submit" class="btn btn-secondary" disabled={f.busy()}>
          {t('security.changeEmail')}
        </button>
      </div>
    </form>
  );
}

function RecoveryCodesBox(props: { codes: string[]; onDone: () => void }): JSX.Element {
  return (
    <div class="secret-box" role="status" data-testid="recovery-codes">
      <strong>{t('security.recoveryTitle')}</strong>
      <p class="secret-warning">{t('security.recoveryText')}</p>
      <ul class="recovery-codes">
        <For each={props.codes}>
          {(c) => (
            <li>
              <code>{c}</code>
            </li>
          )}
        </For>
      </ul>
      <div class="secret-row">
        <CopyButton text={props.codes.join('\n')} />
        <button type="button" class="btn btn-ghost btn-sm" onClick={() => props.onDone()}>
          {t('security.recoverySaved')}
        </button>
      </div>
    </div>
  );
}

function TwoFactor(): JSX.Element {
  const f = useForm();
  const [password, setPassword] = createSignal('');
  const [code, setCode] = createSignal('');
  const [setup, setSetup] = createSignal<{ secret: string; uri: string; qr: string }>();
  const [codes, setCodes] = createSignal<string[]>();
  const [mode, setMode] = createSignal<'idle' | 'password' | 'disable' | 'regenerate'>('idle');
  const on = () => Boolean(me()?.user.twoFactorEnabled);

  const start = (e: SubmitEvent) => {
    e.preventDefault();
    if (!password()) return f.setFields({ password: { key: 'validation.required' } });
    void f.run(async () => {
      const s = await api.twoFactorSetup(password());
      setSetup({ ...s, qr: toSvgDataURL(generate(s.uri), { on: 'black', off: 'white' }) });
      setPassword('');
      setMode('idle');
    });
  };
  const enable = (e: SubmitEvent) => {
    e.preventDefault();
    if (!code().trim()) return f.setFields({ code: { key: 'validation.required' } });
    void f.run(async () => {
      const { recoveryCodes } = await api.twoFactorEnable(code().trim());
      setCodes(recoveryCodes);
      setSetup(undefined);
      setCode('');
      await loadSession();
      showToast(t('security.twoFactorEnabled'));
    });
  };
  const disable = (e: SubmitEvent) => {
    e.preventDefault();
    void f.run(async () => {
      await api.twoFactorDisable({ password: password(), code: code().trim() });
      setPassword('');
      setCode('');
      setMode('idle');
      await loadSession();
      showToast(t('security.twoFactorDisabled'));
    });
  };
  const regenerate = (e: SubmitEvent) => {
    e.preventDefault();
    void f.run(async () => {
      const { recoveryCodes } = await api.newRecoveryCodes(code().trim());
      setCodes(recoveryCodes);
      setCode('');
      setMode('idle');
    });
  };

  const codeField = (id: string) => (
    <Field id={id} label={t('auth.code')} error={msg(f.fields().code)}>
      <input
        {...control(id, msg(f.fields().code))}
        type="text"
        inputmode="numeric"
        autocomplete="one-time-code"
        value={code()}
        onInput={(e) => setCode(e.currentTarget.value)}
      />
    </Field>
  );
  const passwordField = (id: string) => (
    <Field id={id} label={t('security.currentPassword')} error={msg(f.fields().password)}>
      <input
        {...control(id, msg(f.fields().password))}
        type="password"
        autocomplete="current-password"
        value={password()}
        onInput={(e) => setPassword(e.currentTarget.value)}
      />
    </Field>
  );

  return (
    <section class="stack" aria-labelledby="security-2fa-title">
      <h3 id="security-2fa-title">{t('security.twoFactorTitle')}</h3>
      <p class="muted" data-testid="2fa-state">
        {on() ? t('security.twoFactorOn') : t('security.twoFactorOff')}
      </p>
      <Show when={f.error()}>
        <ErrorState error={f.error()} compact />
      </Show>
      <Show when={codes()}>{(c) => <RecoveryCodesBox codes={c()} onDone={() => setCodes(undefined)} />}</Show>
      <Show when={!on() && !setup()}>
        <Show
          when={mode() === 'password'}
          fallback={
            <div>
              <button type="button" class="btn btn-primary" onClick={() => setMode('password')}>
                {t('security.setUp2fa')}
              </button>
            </div>
          }
        >
          <form class="stack" onSubmit={start} novalidate>
            {passwordField('twofa-password')}
            <div>
              <button type="submit" class="btn btn-primary" disabled={f.busy()}>
                {t('security.setUp2fa')}
              </button>
            </div>
          </form>
        </Show>
      </Show>
      <Show when={setup()}>
        {(s) => (
          <form class="stack" onSubmit={enable} novalidate>
            <p>{t('security.scan')}</p>
            <img class="qr-code" src={s().qr} alt={t('security.qrAlt')} width="200" height="200" />
            <p>
              {t('security.secret')}: <code data-testid="totp-secret">{s().secret}</code>{' '}
              <CopyButton text={s().secret} />
            </p>
            {codeField('twofa-code')}
            <div>
              <button type="submit" class="btn btn-primary" disabled={f.busy()}>
                {t('security.enable2fa')}
              </button>
            </div>
          </form>
        )}
      </Show>
      <Show when={on()}>
        <Show when={mode() === 'idle'}>
          <div class="button-row">
            <button type="button" class="btn btn-secondary" onClick={() => setMode('regenerate')}>
              {t('security.newRecovery')}
            </button>
            <button type="button" class="btn btn-danger-outline" onClick={() => setMode('disable')}>
              {t('security.disable2fa')}
            </button>
          </div>
        </Show>
        <Show when={mode() === 'regenerate'}>
          <form class="stack" onSubmit={regenerate} novalidate>
            {codeField('recovery-code')}
            <div>
              <button type="submit" class="btn btn-secondary" disabled={f.busy()}>
                {t('security.newRecovery')}
              </button>
            </div>
          </form>
        </Show>
        <Show when={mode() === 'disable'}>
          <form class="stack" onSubmit={disable} novalidate>
            {passwordField('disable-password')}
            {codeField('disable-code')}
            <div>
              <button type="submit" class="btn btn-danger-outline" disabled={f.busy()}>
                {t('security.disable2fa')}
              </button>
            </div>
          </form>
        </Show>
      </Show>
      <TeamRequirement />
    </section>
  );
}

function TeamRequirement(): JSX.Element {
  const f = useForm();
  const toggle = (on: boolean) =>
    f.run(async () => {
      const { account } = await api.updateSecurity({ require2fa: on });
      updateAccount(account);
    });
  return (
    <Guarded action={ACTIONS.requireTwoFactor}>
      <div class="stack">
        <Show when={f.error()}>
          <ErrorState error={f.error()} compact />
        </Show>
        <label class="checkbox">
          <input
            id="require-2fa"
            type="checkbox"
            checked={Boolean(me()?.account.require2fa)}
            disabled={f.busy() || (!me()?.user.twoFactorEnabled && !me()?.account.require2fa)}
            onChange={(e) => void toggle(e.currentTarget.checked)}
          />{' '}
          {t('security.requireTeam')}
        </label>
        <p class="muted">{t('security.requireTeamHint')}</p>
      </div>
    </Guarded>
  );
}

function deviceName(s: SessionInfo): string {
  if (s.browser && s.os) return t('security.deviceOn', { browser: s.browser, os: s.os });
  return s.browser ?? s.os ?? t('security.unknownDevice');
}

function Sessions(): JSX.Element {
  const navigate = useNavigate();
  const [list, { refetch }] = createResource(() => api.listSessions());
  const [error, setError] = createSignal<unknown>();
  const [confirmAll, setConfirmAll] = createSignal(false);
  const revoke = async (s: SessionInfo) => {
    setError(undefined);
    try {
      await api.revokeSession(s.id);
      showToast(t('security.revoked'));
      await refetch();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section class="stack" aria-labelledby="security-sessions-title">
      <h3 id="security-sessions-title">{t('security.sessionsTitle')}</h3>
      <p class="muted">{t('security.sessionsHint')}</p>
      <Show when={error() ?? list.error}>
        <ErrorState error={error() ?? list.error} compact retry={refetch} />
      </Show>
      <div class="table-wrap">
        <table class="table sessions-table">
          <thead>
            <tr>
              <th>{t('security.device')}</th>
              <th>{t('security.place')}</th>
              <th>{t('security.lastSeen')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            <For each={list()?.items ?? []}>
              {(s) => (
                <tr data-session-id={s.id}>
                  <td>
                    {deviceName(s)}
                    <Show when={s.method === 'sso'}> ({t('security.sso')})</Show>
                    <Show when={s.current}>
                      {' '}
                      <span class="badge badge-ok">{t('security.thisSession')}</span>
                    </Show>
                  </td>
                  <td>{[s.ipPrefix, s.country].filter(Boolean).join(' · ') || '–'}</td>
                  <td>{formatDateTime(s.lastSeenAt)}</td>
                  <td>
                    <Show when={!s.current}>
                      <button
                        type="button"
                        class="btn btn-ghost btn-sm"
                        aria-label={t('security.revokeLabel', { device: deviceName(s) })}
                        onClick={() => void revoke(s)}
                      >
                        {t('security.revoke')}
                      </button>
                    </Show>
                  </td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </div>
      <div>
        <button type="button" class="btn btn-danger-outline" onClick={() => setConfirmAll(true)}>
          {t('security.revokeAll')}
        </button>
      </div>
      <ConfirmDialog
        open={confirmAll()}
        title={t('security.revokeAll')}
        confirmLabel={t('security.revokeAll')}
        danger
        onClose={() => setConfirmAll(false)}
        onConfirm={async () => {
          await api.revokeAllSessions();
          setSession(null);
          navigate('/login', { replace: true });
        }}
      >
        <p>{t('security.revokeAllText')}</p>
      </ConfirmDialog>
    </section>
  );
}

export function SecuritySection(): JSX.Element {
  return (
    <section class="card settings-section" id="security" aria-labelledby="security-title">
      <div class="card-head">
        <h2 id="security-title">{t('security.title')}</h2>
      </div>
      <div class="stack security-grid">
        <TwoFactor />
        <Sessions />
        <PasswordForm />
        <EmailForm />
      </div>
    </section>
  );
}
