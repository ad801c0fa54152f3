// Syslog to the customer's collector over TCP or TLS, with a socket from `cloudflare:sockets`.
// UDP (the classic port 514) is impossible: Workers can open TCP connections only.
import { connect as workersConnect } from 'cloudflare:sockets';
import type { SyslogTransport, WebhookEvent } from '@resistro/contract';
import type { Locale } from '../i18n/language.ts';
import { DeliveryError, SEND_TIMEOUT_MS } from './notifier.ts';
import { frameOctetCounted, syslogMessage } from './syslog-format.ts';

export type SyslogTarget = { host: string; port: number; transport: SyslogTransport };
type Connect = typeof workersConnect;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeliveryError(`${what}: no answer within 10 s`)), SEND_TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export async function sendSyslog(
  target: SyslogTarget,
  event: WebhookEvent,
  appOrigin: string | undefined,
  locale: Locale,
  connect: Connect = workersConnect,
): Promise<void> {
  const what = target.transport === 'tls' ? 'syslog over TLS' : 'syslog over TCP';
  const hostname = appOrigin ? new URL(appOrigin).hostname : 'resistro';
  const frame = frameOctetCounted(syslogMessage(event, appOrigin, locale, hostname));
  let socket: ReturnType<Connect> | undefined;
  try {
    await withTimeout(
      (async () => {
        socket = connect(
          { hostname: target.host, port: target.port },
          { secureTransport: target.transport === 'tls' ? 'on' : 'off', allowHalfOpen: false },
        );
        await socket.opened;
        const writer = socket.writable.getWriter();
        await writer.write(frame);
        // Closing our side flushes the frame (and, over TLS, sends close_notify) before we report success.
        await writer.close();
      })(),
      what,
    );
  } catch (e) {
    if (e instanceof DeliveryError) throw e;
    throw new DeliveryError(`${what}: connection failed`, { cause: e });
  } finally {
    await socket?.close().catch(() => {});
  }
}
