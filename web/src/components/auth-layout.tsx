// Split screen for the pages before login: what Resistro promises on the left, the form right.
import { createEffect, For, type JSX } from 'solid-js';
import { type MessageKey, t } from '../i18n/index.ts';
import { Icon, type IconName } from './icons.tsx';
import { LangSwitch } from './lang-switch.tsx';
import { Logo } from './logo.tsx';

const POINTS: Array<{ icon: IconName; title: MessageKey; text: MessageKey }> = [
  { icon: 'shield', title: 'auth.pitch.keyTitle', text: 'auth.pitch.keyText' },
  { icon: 'globe', title: 'auth.pitch.euTitle', text: 'auth.pitch.euText' },
  { icon: 'refresh', title: 'auth.pitch.restoreTitle', text: 'auth.pitch.restoreText' },
];

export function AuthLayout(props: { title: string; children: JSX.Element }): JSX.Element {
  createEffect(() => {
    document.title = `${props.title} · Resistro`;
  });
  return (
    <div class="auth">
      <aside class="auth-aside">
        <Logo class="logo-light" />
        <div class="auth-pitch">
          <h2>{t('auth.pitch.title')}</h2>
          <ul class="pitch-list">
            <For each={POINTS}>
              {(p) => (
                <li class="pitch-item">
                  <span class="auth-pitch-icon">
                    <Icon name={p.icon} />
                  </span>
                  <div>
                    <strong>{t(p.title)}</strong>
                    <p>{t(p.text)}</p>
                  </div>
                </li>
              )}
            </For>
          </ul>
        </div>
        <p class="auth-aside-foot">{t('auth.pitch.foot')}</p>
      </aside>
      <main class="auth-main" id="main">
        <div class="auth-topbar">
          <Logo class="auth-mobile-logo" />
          <LangSwitch />
        </div>
        <div class="auth-form-wrap">{props.children}</div>
      </main>
    </div>
  );
}
