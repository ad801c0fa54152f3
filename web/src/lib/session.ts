// Who is logged in. `undefined` while the first /auth/me is on its way, `null` when nobody is.
import { type Role, roleAtLeast } from '@resistro/contract/roles';
import type { Account, MeResponse } from '@resistro/contract/schemas';
import { createSignal } from 'solid-js';
import { api, isUnauthorized } from '../api.ts';
import { applyAccountLocale, type MessageKey, t } from '../i18n/index.ts';
import { formatDate } from './format.ts';

const [me, setMeSignal] = createSignal<MeResponse | null | undefined>(undefined);

// The route table names the few writes a closed account keeps. It carries every request schema
// of the API, so it loads after the first paint (not in the first-load budget) and only for a
// read-only account; until it is there, every write of that account counts as blocked.
type RouteTable = typeof import('@resistro/contract/routes');
const [routeTable, setRouteTable] = createSignal<RouteTable>();
let routeTableAsked = false;
function loadRouteTable(): RouteTable | undefined {
  if (!routeTableAsked) {
    routeTableAsked = true;
    void import('@resistro/contract/routes').then(setRouteTable, () => {
      routeTableAsked = false;
    });
  }
  return routeTable();
}

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
 * Why changes are not possible, or undefined when they are. A read-only (cancelled or deleted on
 * request) account keeps its backups downloadable until the purge but accepts no new backups,
 * databases or settings: every write action is disabled with this reason, the same rule the
 * worker refuses them by (contract refusedWhenReadOnly).
 */
export function writeBlocked(route?: { method: string; path: string }): string | undefined {
  return closingBlocked(route) ?? roleBlocked('operator');
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

/** Why backups may not be downloaded: a viewer without the grant. */
export function downloadBlocked(): string | undefined {
  const user = me()?.user;
  if (!user || user.canDownload || roleAtLeast(user.role, 'operator')) return undefined;
  return t('role.noDownload');
}

/** Why the account is read-only (cancelled or deleted on request), or undefined. */
export function closingBlocked(route?: { method: string; path: string }): string | undefined {
  const closing = account()?.closing;
  if (!closing?.readOnly) return undefined;
  // The few writes a closed account keeps (a key for the export, reopening) are not blocked.
  const table = route && loadRouteTable();
  const spec = table && route && table.findRoute(route.method, route.path);
  if (table && spec && !table.refusedWhenReadOnly(spec)) return undefined;
  const date = formatDate(closing.purgeAt);
  return closing.reason === 'deletion_requested'
    ? t('closing.reasonDeletion', { date })
    : t('cancelled.reasonUntil', { date });
}
