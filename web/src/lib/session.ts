// Who is logged in. `undefined` while the first /auth/me is on its way, `null` when nobody is.
import { type Role, roleAtLeast } from '@resistro/contract/roles';
import type { Account, MeResponse } from '@resistro/contract/schemas';
import { createSignal } from 'solid-js';
import { api, isUnauthorized } from '../api.ts';
import { applyAccountLocale, type MessageKey, t } from '../i18n/index.ts';
import type { Action } from './actions.ts';
import { formatDate } from './format.ts';

const [me, setMeSignal] = createSignal<MeResponse | null | undefined>(undefined);

/** Every new account state also sets the UI's language and time zone to the account's. */
function setMe(value: MeResponse | null | undefined): void {
  setMeSignal(value);
  if (value?.account) applyAccountLocale(value.account);
}
const [sessionError, setSessionError] = createSignal<unknown>();

export { me, sessionError };

export async function loadSession(): Promise<void> {
  setSessionError(undefined);
  try {
    setMe(await api.me());
  } catch (e) {
    if (isUnauthorized(e)) setMe(null);
    else setSessionError(e);
  }
}

export function setSession(value: MeResponse | null): void {
  setSessionError(undefined);
  setMe(value);
}

export function updateAccount(account: Account): void {
  const current = me();
  if (current) setMe({ ...current, account });
}

/** Fresh plan, limits and usage (after a backup or a plan change). */
export async function refreshAccount(): Promise<Account | undefined> {
  const { account } = await api.account();
  updateAccount(account);
  return account;
}

export function account(): Account | undefined {
  return me()?.account ?? undefined;
}

/**
 * Why the logged-in member may not use `action` (lib/actions.ts), or undefined when they may: the
 * worker's own rules, which each action carries from the contract's route table (actions.test.tsx
 * holds them equal). A read-only (cancelled or deleted on request) account keeps its backups
 * downloadable until the purge but accepts no new backups, databases or settings; and each route
 * needs a role.
 */
export function actionBlocked(action: Action): string | undefined {
  return (action.readOnly === 'refused' ? closingBlocked() : undefined) ?? routeRoleBlocked(action);
}

/** Why the member's role may not call the action's route, or undefined (also before log-in). */
export function routeRoleBlocked(action: Action): string | undefined {
  const user = me()?.user;
  if (!user) return undefined;
  if (action.role === 'download') {
    if (user.canDownload || roleAtLeast(user.role, 'operator')) return undefined;
    return t('role.noDownload');
  }
  return roleBlocked(action.role);
}

/** The member's role and download grant (docs/teams.md). */
export function role(): Role | undefined {
  return me()?.user?.role;
}

/**
 * Why the logged-in member's role may not do something that needs `min`, or undefined when it
 * may: the same rule the worker checks every route by (contract requiredRole).
 */
export function roleBlocked(min: Role): string | undefined {
  const r = role();
  if (!r || roleAtLeast(r, min)) return undefined;
  return t('role.blocked', { role: t(`role.${r}` as MessageKey), needed: t(`role.${min}` as MessageKey) });
}

/** Why the account is read-only (cancelled or deleted on request), or undefined. */
export function closingBlocked(): string | undefined {
  const closing = account()?.closing;
  if (!closing?.readOnly) return undefined;
  // (the few writes a closed account keeps, such as a key for the export, pass actionBlocked)
  const date = formatDate(closing.purgeAt);
  return closing.reason === 'deletion_requested'
    ? t('closing.reasonDeletion', { date })
    : t('cancelled.reasonUntil', { date });
}
