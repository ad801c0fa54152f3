// Who may do what: the scopes each kind of access needs. Routes ask for the caller here; the
// middleware (middleware/auth.ts) is what finds the caller.
import type { Principal } from '../app-types.ts';
import { ApiError } from '../errors.ts';

export type Access = 'read' | 'write' | 'agent' | 'download';

const ALLOWED: Record<Access, ReadonlyArray<Principal['scope']>> = {
  read: ['session', 'full', 'read'],
  write: ['session', 'full'],
  agent: ['agent', 'full'],
  download: ['session', 'full', 'read', 'agent'],
};

/** The caller, who must hold one of the scopes the access needs. */
export function requirePrincipal(principal: Principal | null, access: Access): Principal {
  if (!principal) throw new ApiError('unauthorized', 'Log in or send an API key');
  if (!ALLOWED[access].includes(principal.scope)) {
    throw new ApiError('forbidden', `This API key's scope (${principal.scope}) does not allow this`);
  }
  return principal;
}
