/** The closed set of error codes on the wire, each with its one HTTP status. */
export const ERROR_STATUS = {
  bad_request: 400,
  validation_failed: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  /** the account is cancelled or being deleted: only reading and downloading until its purge */
  account_read_only: 409,
  plan_limit: 402,
  quota_exceeded: 402,
  /** billing: the subscription is unpaid past its grace period, or paused */
  payment_required: 402,
  payload_too_large: 413,
  rate_limited: 429,
  storage_error: 502,
  /** Paddle (billing) answered with an error or could not be reached */
  billing_unavailable: 502,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/** `{ "error": { "code": "...", "message": "...", "fields"?: {...} } }` */
export type ErrorEnvelope = {
  error: { code: ErrorCode; message: string; fields?: Record<string, string> };
};
