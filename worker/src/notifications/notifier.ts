// What every notifier shares: the message it sends and how it reports a failure.
import type { WebhookEvent } from '@resistro/contract';

export type EmailMessage = { to: string; subject: string; text: string };

/**
 * A failed send. `permanent` failures (a missing provider, a refused URL) are not retried: the
 * delivery is failed at once and the user sees why.
 */
export class DeliveryError extends Error {
  readonly permanent: boolean;
  constructor(message: string, opts: { permanent?: boolean; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'DeliveryError';
    this.permanent = opts.permanent ?? false;
  }
}

export const SEND_TIMEOUT_MS = 10_000;

/** POST a body; anything but a 2xx (or no answer within 10 s) is a DeliveryError. */
export async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  what: string,
): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      body,
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
  } catch (e) {
    const reason = (e as Error).name === 'TimeoutError' ? 'no answer within 10 s' : 'connection failed';
    throw new DeliveryError(`${what}: ${reason}`, { cause: e });
  }
  // The receiver's answer is kept short: it lands in the user's delivery log.
  const text = (await res.text().catch(() => '')).replace(/\s+/g, ' ').trim().slice(0, 200);
  if (res.status < 200 || res.status > 299) {
    throw new DeliveryError(`${what}: HTTP ${res.status}${text ? ` (${text})` : ''}`);
  }
}

export type { WebhookEvent };
