// The logged-in frame: sidebar navigation, top bar (language, account, log out) and the guard
// that sends a visitor without a session to the login page, remembering where they were.
import { A, Navigate, type RouteSectionProps, useLocation, useNavigate } from '@solidjs/router';
import { createEffect, createSignal, For, type JSX, Match, on, Show, Suspense, Switch } from 'solid-js';
import { api, errorMessage, setUnauthorizedHandler } from '../api.ts';
import { type MessageKey, t } from '../i18n/index.ts';
import { ACTIONS, type Action } from '../lib/actions.ts';
import {
  actionBlocked,
  loadSession,
  me,
  routeRoleBlocked,
  sessionError,
  setSession,
} from '../lib/session.ts';
import { showToast } from '../lib/toast.ts';
import { BillingBanner } from './billing-banner.tsx';
import { Icon, type IconName } from './icons.tsx';
import { IdentityBanner } from './identity-banner.tsx';
import { LangSwitch } from './lang-switch.tsx';
import { Logo } from './logo.tsx';
import { Loading } from './states.tsx';
import { Toaster } from './toaster.tsx';
import { CancelledBanner } from './write-guard.tsx';

const NAV: Array<{ href: string; label: MessageKey; icon: IconName; end?: boolean; needs?: Action }> = [
  { href: '/', label: 'nav.start', icon: 'home', end: true },
  { href: '/databases', label: 'nav.databases', icon: 'database' },
  { href: '/backups', label: 'nav.backups', icon: 'archive' },
  { href: '/alerts', label: 'nav.alerts', icon: 'bell' },
  { href: '/agents', label: 'nav.agents', icon: 'server' },
  { href: '/reports', label: 'nav.reports', icon: 'check' },
  { href: '/settings', label: 'nav.settings', icon: 'settings' },
  { href: '/audit', label: 'nav.audit', icon: 'shield', needs: ACTIONS.readAudit },
];

const [expired, setExpired] = createSignal(false);

export function loginHref(path: string, sessionExpired: boolean): string {
  const params = new URLSearchParams();
  if (path && path !== '/' && !path.startsWith('/login')) params.set('next', path);
  if (sessionExpired) params.set('expired', '1');
  const q = params.toString();
  return q ? `/login?${q}` : '/login';
}

export function AppShell(props: RouteSectionProps): JSX.Element {
  const navigate = useNavigate();
  const location = useLocation();
  const [navOpen, setNavOpen] = createSignal(false);
  const here = () => `${location.pathname}${location.search}${location.hash}`;

  // SECURITY: a 401 on any request ends the client-side session; the cookie is already invalid.
  setUnauthorizedHandler(() => {
    if (!me()) return;
    setExpired(true);
    setSession(null);
  });

  // Move focus to the new page's heading so keyboard and screen reader users land on it.
  createEffect(
    on(
      () => location.pathname,
      () => {
        setNavOpen(false);
        queueMicrotask(() =>
          setTimeout(
            () => document.querySelector<HTMLElement>('main h1')?.focus({ preventScroll: true }),
            50,
          ),
        );
      },
      { defer: true },
    ),
  );

  const logout = async () => {
    try {
      await api.logout();
    } catch (e) {
      showToast(errorMessage(e), 'error');
      return;
    }
    setExpired(false);
    setSession(null);
    navigate('/login', { replace: true });
  };

  return (
    <Switch>
      <Match when={sessionError()}>
        <div class="center-page">
          <div class="card auth-card" role="alert">
            <h1>{t('state.errorTitle')}</h1>
            <p>{errorMessage(sessionError())}</p>
            <button type="button" class="btn btn-primary" onClick={() => loadSession()}>
              {t('action.retry')}
            </button>
          </div>
        </div>
      </Match>
      <Match when={me() === undefined}>
        <div class="center-page">
          <Loading />
        </div>
      </Match>
      <Match when={me() === null}>
        <Navigate href={loginHref(here(), expired())} />
      </Match>
      <Match when={me()}>
        {(session) => (
          <div class="app" classList={{ 'nav-open': navOpen() }}>
            {/* biome-ignore lint/a11y/useValidAnchor: a skip link is a link to #main by convention; the handler only adds the focus move */}
            <a
              class="skip-link"
              href="#main"
              onClick={(e) => {
                // Move focus itself (the router handles the click and would only scroll).
                e.preventDefault();
                document.getElementById('main')?.focus();
              }}
            >
              {t('nav.skip')}
            </a>
            <aside class="sidebar" id="sidebar">
              <A href="/" class="sidebar-brand" aria-label={t('nav.home')}>
                <Logo />
              </A>
              <nav aria-label={t('nav.label')}>
                <ul class="nav-list">
                  <For each={NAV.filter((item) => !item.needs || !routeRoleBlocked(item.needs))}>
                    {(item) => (
                      <li>
                        <A href={item.href} end={item.end} class="nav-link" activeClass="active">
                          <Icon name={item.icon} />
                          <span>{t(item.label)}</span>
                        </A>
                      </li>
                    )}
                  </For>
                </ul>
              </nav>
              <div class="sidebar-footer">
                <A href="/settings#plan" class="plan-chip">
                  <Icon name="shield" size={16} />
                  <span>{t(`plan.${session().account.plan}` as MessageKey)}</span>
                </A>
              </div>
            </aside>
            <button
              type="button"
              class="nav-backdrop"
              aria-label={t('nav.close')}
              tabindex="-1"
              onClick={() => setNavOpen(false)}
            />
            <div class="main-col">
              <header class="topbar">
                <button
                  type="button"
                  class="icon-btn menu-btn"
                  aria-label={t('nav.menu')}
                  aria-expanded={navOpen()}
                  aria-controls="sidebar"
                  onClick={() => setNavOpen(!navOpen())}
                >
                  <Icon name="menu" size={22} />
                </button>
                <A href="/" class="topbar-brand" aria-label={t('nav.home')}>
                  <Logo />
                </A>
                <div class="topbar-spacer" />
                {/* the account's language: changed by those the route table lets change the account */}
                <Show when={!actionBlocked(ACTIONS.updateAccount)}>
                  <LangSwitch />
                </Show>
                <span class="topbar-user" title={session().user.email}>
                  {session().user.email}
                </span>
                <button type="button" class="btn btn-ghost btn-sm" onClick={logout}>
                  <Icon name="logout" size={16} />
                  <span class="collapse-sm">{t('auth.logout')}</span>
                </button>
              </header>
              <main id="main" tabindex="-1">
                <CancelledBanner />
                <IdentityBanner />
                <BillingBanner />
                <Suspense fallback={<Loading />}>{props.children}</Suspense>
              </main>
            </div>
            <Toaster />
          </div>
        )}
      </Match>
    </Switch>
  );
}
