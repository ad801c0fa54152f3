// E-mail through Amazon SES v2 (SendEmail), signed with SigV4 by aws4fetch.
import { AwsClient } from 'aws4fetch';
import type { EmailConfig } from '../env.ts';
import { DeliveryError, type EmailMessage, SEND_TIMEOUT_MS } from './notifier.ts';

type SesConfig = Extract<EmailConfig, { provider: 'ses' }>;

export function sesRequestBody(config: SesConfig, message: EmailMessage): string {
  return JSON.stringify({
    FromEmailAddress: config.from,
    Destination: { ToAddresses: [message.to] },
    Content: {
      Simple: {
        Subject: { Data: message.subject, Charset: 'UTF-8' },
        Body: { Text: { Data: message.text, Charset: 'UTF-8' } },
      },
    },
  });
}

export async function sendSesEmail(config: SesConfig, message: EmailMessage): Promise<void> {
  const aws = new AwsClient({
    accessKeyId: config.accessKeyId,
    secretAccessKey: config.secretAccessKey,
    service: 'ses',
    region: config.region,
    retries: 0,
  });
  let res: Response;
  try {
    res = await aws.fetch(`${config.endpoint}/v2/email/outbound-emails`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: sesRequestBody(config, message),
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
  } catch (e) {
    throw new DeliveryError('Amazon SES: connection failed', { cause: e });
  }
  if (res.ok) {
    await res.body?.cancel();
    return;
  }
  // SES answers errors as JSON { message } (and the error type in x-amzn-ErrorType).
  const text = await res.text().catch(() => '');
  let reason = res.headers.get('x-amzn-errortype')?.split(':')[0] ?? '';
  try {
    const m = (JSON.parse(text) as { message?: string }).message;
    if (m) reason = reason ? `${reason}: ${m}` : m;
  } catch {}
  throw new DeliveryError(`Amazon SES: HTTP ${res.status}${reason ? ` (${reason.slice(0, 200)})` : ''}`);
}
