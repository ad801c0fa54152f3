import { ERROR_STATUS, type ErrorCode } from '@resistro/contract';
import { type ErrorBody, localizeError } from './i18n/api-messages.ts';
import type { Language } from './i18n/language.ts';

/**
 * The one user-visible error: a code from the closed set, a message that never echoes input.
 * Messages are written in English; the error handler answers in the caller's language by looking
 * the English text up in i18n/api-messages.ts.
 */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly fields: Record<string, string> | undefined;
  constructor(code: ErrorCode, message: string, fields?: Record<string, string>, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ApiError';
    this.code = code;
    this.fields = fields;
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const notFound = (what: string) => new ApiError('not_found', `${what} not found`);

/** The wire envelope of an error in `language`; the code and the field names never change. */
export function errorEnvelope(
  error: { code: ErrorCode; message: string; fields?: Record<string, string> | undefined },
  language: Language,
): { error: ErrorBody } {
  const body: ErrorBody = { code: error.code, message: error.message };
  if (error.fields) body.fields = error.fields;
  return { error: localizeError(body, language) };
}
