// Generic JSON webhooks, signed so the receiver can tell they came from us (docs/webhooks.md):
//   Resistro-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, `${t}.${body}`)>
import type { WebhookEvent } from '@resistro/contract';
import { post } from './notifier.ts';

export const SIGNATURE_HEADER = 'Resistro-Signature';

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * SECURITY: the timestamp is inside the signed text, so a captured request cannot be replayed
 * later with a fresh timestamp; receivers reject timestamps older than a few minutes.
 */
export async function signWebhook(secret: string, timestamp: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${timestamp}.${body}`));
  return `t=${timestamp},v1=${hex(mac)}`;
}

export async function sendWebhook(url: string, secret: string, event: WebhookEvent): Promise<void> {
  const body = JSON.stringify(event);
  // Wall-clock time, not the cron's: freshness is about transport, checked against the receiver's clock.
  const timestamp = Math.floor(Date.now() / 1000);
  await post(
    url,
    body,
    {
      'content-type': 'application/json',
      'user-agent': 'Resistro-Webhooks/1',
      'resistro-event': event.type,
      'resistro-delivery': event.id,
      [SIGNATURE_HEADER.toLowerCase()]: await signWebhook(secret, timestamp, body),
    },
    'webhook',
  );
}
