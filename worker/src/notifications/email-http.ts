// E-mail through a generic HTTP API: a JSON POST of { from, to, subject, text }, with an optional
// bearer token. Locally it reaches the sink (scripts/stack/sink.ts); in production any relay that
// accepts this shape.
import type { EmailConfig } from '../env.ts';
import { type EmailMessage, post } from './notifier.ts';

export async function sendHttpEmail(
  config: Extract<EmailConfig, { provider: 'http' }>,
  message: EmailMessage,
): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  // SECURITY: the provider token goes only in the Authorization header.
  if (config.token) headers.authorization = `Bearer ${config.token}`;
  const body = JSON.stringify({
    from: config.from,
    to: [message.to],
    subject: message.subject,
    text: message.text,
  });
  await post(config.url, body, headers, 'e-mail provider');
}
