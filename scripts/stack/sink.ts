// The local stand-in for an e-mail provider and for every notification receiver: records what the
// worker sends so a developer (and the tests) can see it.
//   POST /email                          generic HTTP e-mail API: { from, to, subject, text }
//   POST /ses/v2/email/outbound-emails   Amazon SES v2 SendEmail (point SES_ENDPOINT at <sink>/ses)
//   POST /pagerduty/v2/enqueue           PagerDuty Events API v2 (pagerduty-standin.ts)
//   GET  /pagerduty/incidents            the incidents those events opened and resolved
//   POST /teams/<any path>               a Microsoft Teams Workflows webhook (teams-standin.ts)
//   POST /<any other path>               a webhook; `?status=500` makes it answer that status
//   GET  /syslog                         the ports of the syslog collector: { tcpPort, tlsPort }
//                                        (RFC 5424, octet counting; syslog-receiver.ts)
//   GET  /messages[?kind=&to=&path=]     what arrived, oldest first, as JSON (syslog: path tcp|tls)
//   DELETE /messages                     forget everything
//   GET  /                               the same as a small HTML page
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createPagerDutyStandIn } from './pagerduty-standin.ts';
import { type SyslogRecord, startSyslogReceiver } from './syslog-receiver.ts';
import { checkTeamsMessage } from './teams-standin.ts';

export type SinkMessage = {
  id: number;
  kind: 'email' | 'webhook' | 'pagerduty' | 'teams' | 'syslog';
  receivedAt: string;
  method: string;
  /** path and query as requested */
  path: string;
  headers: Record<string, string>;
  /** the raw body, exactly as received (webhook signatures are computed over it) */
  body: string;
  /** e-mails: normalised from either e-mail API */
  email?: { from: string; to: string[]; subject: string; text: string };
  /** syslog messages: parsed as a collector would */
  syslog?: Omit<SyslogRecord, 'raw'>;
};

export type SinkServer = {
  url: string;
  port: number;
  /** the syslog collector's ports and the CA its TLS certificate is issued by */
  syslog: { tcpPort: number; tlsPort: number; caFile: string };
  messages(): SinkMessage[];
  clear(): void;
  stop(): Promise<void>;
};

const MAX_MESSAGES = 2000;
const MAX_BODY = 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseEmail(path: string, body: string): SinkMessage['email'] {
  try {
    const j = JSON.parse(body);
    if (path.startsWith('/ses/')) {
      return {
        from: String(j.FromEmailAddress ?? ''),
        to: (j.Destination?.ToAddresses ?? []).map(String),
        subject: String(j.Content?.Simple?.Subject?.Data ?? ''),
        text: String(j.Content?.Simple?.Body?.Text?.Data ?? ''),
      };
    }
    return {
      from: String(j.from ?? ''),
      to: [j.to ?? []].flat().map(String),
      subject: String(j.subject ?? ''),
      text: String(j.text ?? ''),
    };
  } catch {
    return undefined;
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(messages: SinkMessage[]): string {
  const rows = [...messages]
    .reverse()
    .map((m) => {
      const what = m.email
        ? `<b>${escapeHtml(m.email.subject)}</b> → ${escapeHtml(m.email.to.join(', '))}<pre>${escapeHtml(m.email.text)}</pre>`
        : `<pre>${escapeHtml(m.body.slice(0, 4000))}</pre>`;
      return `<tr><td>${m.id}</td><td>${escapeHtml(m.receivedAt)}</td><td>${m.kind}</td><td>${escapeHtml(m.path)}</td><td>${what}</td></tr>`;
    })
    .join('');
  return `<!doctype html><meta charset="utf-8"><title>Resistro sink</title><style>body{font:14px system-ui;margin:2em}td{vertical-align:top;border-top:1px solid #ddd;padding:.4em}pre{white-space:pre-wrap;margin:.3em 0}</style><h1>Resistro local sink: ${messages.length} message(s)</h1><p>E-mails and webhooks the worker sent. JSON: <a href="/messages">/messages</a></p><table><tr><th>#</th><th>received</th><th>kind</th><th>path</th><th>content</th></tr>${rows}</table>`;
}

export async function startSink(opts: { port: number; host?: string; certDir: string }): Promise<SinkServer> {
  const messages: SinkMessage[] = [];
  let nextId = 1;
  const record = (m: Omit<SinkMessage, 'id' | 'receivedAt'>): SinkMessage => {
    const message = { id: nextId++, receivedAt: new Date().toISOString(), ...m };
    messages.push(message);
    if (messages.length > MAX_MESSAGES) messages.splice(0, messages.length - MAX_MESSAGES);
    return message;
  };
  const pagerDuty = createPagerDutyStandIn();
  const syslog = await startSyslogReceiver({
    certDir: opts.certDir,
    onRecord: ({ raw, ...parsed }) =>
      record({
        kind: 'syslog',
        method: 'SYSLOG',
        path: parsed.transport,
        headers: {},
        body: raw,
        syslog: parsed,
      }),
  });
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://sink');
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type }).end(body);
    };
    try {
      if (req.method === 'GET' && url.pathname === '/messages') {
        const kind = url.searchParams.get('kind');
        const to = url.searchParams.get('to')?.toLowerCase();
        const path = url.searchParams.get('path');
        const items = messages.filter(
          (m) =>
            (!kind || m.kind === kind) &&
            (!to || m.email?.to.some((t) => t.toLowerCase() === to)) &&
            (!path || m.path.startsWith(path)),
        );
        return send(200, JSON.stringify({ items }));
      }
      if (req.method === 'DELETE' && url.pathname === '/messages') {
        messages.length = 0;
        pagerDuty.clear();
        return send(204, '');
      }
      if (req.method === 'GET' && url.pathname === '/syslog')
        return send(200, JSON.stringify({ tcpPort: syslog.tcpPort, tlsPort: syslog.tlsPort }));
      if (req.method === 'GET' && url.pathname === '/pagerduty/incidents')
        return send(200, JSON.stringify({ items: pagerDuty.incidents() }));
      if (req.method === 'GET' && url.pathname === '/')
        return send(200, page(messages), 'text/html; charset=utf-8');
      if (req.method !== 'POST')
        return send(405, JSON.stringify({ error: 'POST a message, or GET /messages' }));
      const body = await readBody(req);
      const isEmail = url.pathname === '/email' || url.pathname === '/ses/v2/email/outbound-emails';
      const kind: SinkMessage['kind'] = isEmail
        ? 'email'
        : url.pathname === '/pagerduty/v2/enqueue'
          ? 'pagerduty'
          : url.pathname.startsWith('/teams/')
            ? 'teams'
            : 'webhook';
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const message = record({
        kind,
        method: req.method,
        path: url.pathname + url.search,
        headers,
        body,
        ...(isEmail && { email: parseEmail(url.pathname, body) }),
      });
      if (kind === 'pagerduty') {
        const answer = pagerDuty.enqueue(body);
        return send(answer.status, JSON.stringify(answer.body));
      }
      if (kind === 'teams') {
        const answer = checkTeamsMessage(body);
        return send(answer.status, answer.error ? JSON.stringify({ error: answer.error }) : '');
      }
      const status = Number(url.searchParams.get('status') ?? 200);
      if (url.pathname.startsWith('/ses/'))
        return send(status, JSON.stringify({ MessageId: `sink-${message.id}` }));
      return send(
        status >= 100 && status <= 599 ? status : 200,
        JSON.stringify({ ok: status < 300, id: message.id }),
      );
    } catch (e) {
      return send(400, JSON.stringify({ error: (e as Error).message }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    syslog: { tcpPort: syslog.tcpPort, tlsPort: syslog.tlsPort, caFile: syslog.caFile },
    messages: () => [...messages],
    clear: () => {
      messages.length = 0;
    },
    stop: () =>
      Promise.all([
        syslog.stop(),
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
      ]).then(() => {}),
  };
}
