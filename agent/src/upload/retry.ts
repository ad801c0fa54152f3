// Exponential backoff with jitter for everything the agent retries (API calls, part uploads).

export type RetryPolicy = {
  /** total attempts, the first one included */
  attempts: number;
  baseMs: number;
  maxMs: number;
};

/** ~0.5 + 1 + 2 + 4 + 8 s: rides out a restarting proxy or a brief outage, gives up within ~15 s. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseMs: 500, maxMs: 15_000 };

/** The wait before attempt `attempt + 1` (attempt counts from 1): between half and all of base·2^(attempt-1). */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  // "Equal jitter": never zero (no hammering), never more than the ceiling, spread so that many
  // agents that lost the same server do not come back in lockstep.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Calls `fn` until it succeeds, `retryable(error)` says no, or the attempts are used up; the last
 * error is thrown.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  retryable: (error: unknown) => boolean,
  policy: RetryPolicy = DEFAULT_RETRY,
  signal?: AbortSignal,
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (attempt >= policy.attempts || !retryable(error)) throw error;
      const delay = backoffDelay(attempt, policy);
      onRetry?.(error, attempt, delay);
      await sleep(delay, signal);
    }
  }
}
