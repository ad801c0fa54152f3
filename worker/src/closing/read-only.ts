// The one place a closed account's writes are refused: every route the route table marks as
// refused while read-only (contract refusedWhenReadOnly: the non-GET 'write' routes and the
// agent's start of a backup), with the reason and the purge date in the error. Reading and
// downloading go on until the purge; the dashboard disables the same actions from the same rule.
import { findRoute, refusedWhenReadOnly } from '@resistro/contract';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-types.ts';
import { ApiError } from '../errors.ts';
import { type ClosingRow, getClosing, isReadOnly } from './closing.ts';

const API_PREFIX = '/api/v1';

export function isRefusedWhenReadOnly(method: string, path: string): boolean {
  const route = findRoute(method, path);
  return route !== undefined && refusedWhenReadOnly(route);
}

export function readOnlyError(closing: Pick<ClosingRow, 'reason' | 'purgeAt'>): ApiError {
  const date = closing.purgeAt.toISOString().slice(0, 10);
  return new ApiError(
    'account_read_only',
    closing.reason === 'deletion_requested'
      ? `This account is being deleted as requested and is read-only; its backups can be downloaded until ${date}, then everything is deleted`
      : `This account is cancelled and read-only; its backups can be downloaded until ${date}, then everything is deleted`,
  );
}

/** After authenticate: refuses a write of a read-only account before any handler runs. */
export const refuseWritesWhenReadOnly = createMiddleware<AppEnv>(async (c, next) => {
  const principal = c.get('principal');
  if (!principal || c.req.method === 'GET' || c.req.method === 'HEAD') return next();
  const path = c.req.path.startsWith(API_PREFIX) ? c.req.path.slice(API_PREFIX.length) : c.req.path;
  if (!isRefusedWhenReadOnly(c.req.method, path)) return next();
  const closing = await getClosing(c.get('db'), principal.accountId);
  if (closing && isReadOnly(closing, c.get('now'))) throw readOnlyError(closing);
  return next();
});
