// The agent separates what a user can fix from bugs, and the classification is closed: every
// failure a user can fix is a UserError (a message and a hint; FormatError, EngineError and the
// rest extend it). A UsageError (bad arguments, bad configuration) exits 2, any other UserError
// exits 1. The control plane's answers (ApiClientError, from the contract) and the operating
// system's refusals of a path are explained here. Anything else is a bug: the CLI prints the stack
// and the chain of causes and exits 70 (EX_SOFTWARE).
import { ApiClientError } from '@resistro/contract';

export const EXIT_USER = 1;
export const EXIT_USAGE = 2;
export const EXIT_BUG = 70;

export class UserError extends Error {
  /** What the user can do about it, one sentence. */
  readonly hint: string;
  /** A stable code scripts can branch on (JSON logs), where the error has one. */
  readonly code: string | undefined;
  /** 'usage': wrong arguments or configuration (exit 2); 'user': anything else the user can fix (exit 1) */
  readonly kind: 'user' | 'usage' = 'user';
  constructor(message: string, hint: string, options?: ErrorOptions & { code?: string }) {
    super(message, options);
    this.name = 'UserError';
    this.hint = hint;
    this.code = options?.code;
  }
}

export class UsageError extends UserError {
  override readonly kind = 'usage';
  constructor(message: string, hint: string, options?: ErrorOptions & { code?: string }) {
    super(message, hint, options);
    this.name = 'UsageError';
  }
}

/** The user stopped a command (Ctrl-C, SIGTERM). */
export class Interrupted extends UserError {
  readonly signal: NodeJS.Signals;
  constructor(signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`, 'Nothing half-done was kept; run the command again.');
    this.name = 'Interrupted';
    this.signal = signal;
  }
}

export type ErrorReport = { kind: 'usage' | 'user' | 'bug'; message: string; hint?: string; code?: string };

/** How an error from anywhere in the agent is shown and which exit code it gets. */
export function classifyError(error: unknown): ErrorReport {
  if (error instanceof UserError)
    return { kind: error.kind, message: error.message, hint: error.hint, code: error.code };
  if (error instanceof ApiClientError) return { kind: 'user', ...explainApiError(error), code: error.code };
  const sys = error as NodeJS.ErrnoException | undefined;
  if (sys && typeof sys.code === 'string' && typeof sys.syscall === 'string' && sys.path) {
    const hint =
      sys.code === 'ENOENT'
        ? 'Check the path.'
        : sys.code === 'EACCES' || sys.code === 'EPERM'
          ? 'Run as a user that may access it (e.g. with sudo), or fix its permissions.'
          : sys.code === 'ENOSPC'
            ? 'Free some disk space and try again.'
            : 'Check the path and the file system.';
    return { kind: 'user', message: sys.message, hint, code: sys.code };
  }
  return { kind: 'bug', message: error instanceof Error ? error.message : String(error) };
}

/** A message and a hint for an error answer (or no answer) from the control plane. */
export function explainApiError(error: ApiClientError): { message: string; hint: string } {
  switch (error.code) {
    case 'network_error':
      return {
        message: error.message,
        hint: 'Check RESISTRO_ENDPOINT and that this server can reach it (DNS, firewall, proxy).',
      };
    case 'unauthorized':
      return {
        message: `The control plane refused the API key: ${error.message}`,
        hint: "Check RESISTRO_API_KEY (the agent's env file or environment); create a new agent key in Settings → API keys if it was revoked.",
      };
    case 'unexpected_response':
      return {
        message: error.message,
        hint: 'RESISTRO_ENDPOINT must be the API address of the service, ending in /api (e.g. https://cloud.resistro.org/api); check it and any proxy in between.',
      };
    case 'forbidden':
      return {
        message: error.message,
        hint: 'Use an API key with the "agent" scope, and check that the account is active.',
      };
    case 'quota_exceeded':
      return {
        message: error.message,
        hint: 'Delete old backups, shorten retention, or move to a larger plan.',
      };
    case 'plan_limit':
      return { message: error.message, hint: 'Move to a larger plan or remove a database.' };
    case 'not_found':
      return {
        message: error.message,
        hint: 'Check the id or name; `resistro status` lists the databases of this agent.',
      };
    default:
      if (error.status >= 500) {
        return {
          message: `The control plane failed: ${error.message}`,
          hint: 'Try again in a few minutes; if it persists, contact support.',
        };
      }
      return {
        message: error.message,
        hint: 'If this keeps happening with an up-to-date agent, contact support.',
      };
  }
}

/** The control plane or storage could not be reached, or failed on its side: worth retrying later. */
export function isTransient(error: unknown): boolean {
  if (error instanceof ApiClientError) {
    return (
      error.code === 'network_error' ||
      error.code === 'storage_error' ||
      error.code === 'rate_limited' ||
      error.status >= 500
    );
  }
  return false;
}

/** The user must act before a retry can succeed (quota, plan, revoked key): do not spin. */
export function isUserBlocked(error: unknown): boolean {
  return (
    error instanceof ApiClientError &&
    ['quota_exceeded', 'plan_limit', 'unauthorized', 'forbidden'].includes(error.code)
  );
}

/** Message, hint and the chain of causes, for a bug report. */
export function formatBug(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  let depth = 0;
  while (current !== undefined && current !== null && depth < 8) {
    const prefix = depth === 0 ? '' : 'Caused by: ';
    if (current instanceof Error)
      lines.push(prefix + (current.stack ?? `${current.name}: ${current.message}`));
    else lines.push(prefix + String(current));
    current = current instanceof Error ? current.cause : undefined;
    depth++;
  }
  return lines.join('\n');
}
