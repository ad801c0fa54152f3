// One contract every notifier meets, run against a real local HTTP receiver (a path starting
// /s503 makes it answer 503): it delivers on a
// 2xx, reports a non-2xx as a DeliveryError naming the status, and reports an unreachable
// receiver the same way. Plus what each adds: the webhook signature, the SES request signature.
import type { WebhookEvent } from '@resistro/contract';
import { AwsClient } from 'aws4fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmailConfig } from '../env.ts';
import { sendHttpEmail } from './email-http.ts';
import { sendSesEmail } from './email-ses.ts';
import { emailSubject, emailText, slackText } from './messages.ts';
import { DeliveryError } from './notifier.ts';
import { pagerDutyEvents, sendPagerDuty } from './pagerduty.ts';
import { sendSlack } from './slack.ts';
import { sendTeams, teamsMessage } from './teams.ts';
import { sendWebhook, signWebhook } from './webhook.ts';

const EN = { language: 'en' as const, timeZone: 'UTC' };

// The worker is typed for workerd, not Node: the Node-only parts of this test are loaded untyped.
const { createServer } = await import('node:http' as string);
type Received = { path: string; headers: Record<string, string | string[] | undefined>; body: string };
let server: any;
let base = '';
const received: Received[] = [];

beforeAll(async () => {
  server = createServer((req: any, res: any) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      received.push({ path: url.pathname, headers: req.headers, body });
      res
        .writeHead(Number(url.pathname.match(/^\/s(\d{3})\b/)?.[1] ?? 200), {
          'content-type': 'application/json',
        })
        .end('{"message":"nope"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** HMAC-SHA256 in hex, computed here independently of webhook.ts, as docs/webhooks.md describes. */
async function hmacHex(key: string, text: string): Promise<string> {
  const k = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(key),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', k, new TextEncoder().encode(text)));
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join('');
}

const event: WebhookEvent = {
  id: '6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f',
  type: 'alert.opened',
  createdAt: '2026-07-01T12:00:00.000Z',
  accountId: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  alert: {
    id: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
    kind: 'offline',
    severity: 'critical',
    subject: { type: 'agent', id: '2a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d', name: 'db1 <prod>' },
    title: 'Agent "db1 <prod>" is offline',
    detail: 'No heartbeat since 2026-07-01 11:50 UTC.',
    openedAt: '2026-07-01T12:00:00.000Z',
    resolvedAt: null,
    acknowledgedAt: null,
  },
};
const httpEmail = (url: string): Extract<EmailConfig, { provider: 'http' }> => ({
  provider: 'http',
  from: 'a@b.test',
  url,
  token: 'tok',
});
const ses = (endpoint: string): Extract<EmailConfig, { provider: 'ses' }> => ({
  provider: 'ses',
  from: 'alerts@b.test',
  region: 'eu-central-1',
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  endpoint,
});
const message = { to: 'ops@b.test', subject: 'Subject', text: 'Body' };
const ROUTING_KEY = 'R0ut1ngKeyR0ut1ngKeyR0ut1ngKey12';
// The stand-ins of the local stack judge what we send as PagerDuty and Teams document it.
const { createPagerDutyStandIn } = await import('../../../scripts/stack/pagerduty-standin.ts' as string);
const { checkTeamsMessage } = await import('../../../scripts/stack/teams-standin.ts' as string);

const NOTIFIERS: Array<{ name: string; send: (url: string) => Promise<void> }> = [
  { name: 'http e-mail', send: (url) => sendHttpEmail(httpEmail(url), message) },
  { name: 'Amazon SES', send: (url) => sendSesEmail(ses(url), message) },
  { name: 'Slack', send: (url) => sendSlack(url, event, 'https://app.test', EN) },
  { name: 'webhook', send: (url) => sendWebhook(url, 'whsec_test', event) },
  { name: 'PagerDuty', send: (url) => sendPagerDuty(url, ROUTING_KEY, event, 'https://app.test', EN) },
  { name: 'Teams', send: (url) => sendTeams(url, event, 'https://app.test', EN) },
];

describe.each(NOTIFIERS)('$name notifier', ({ send }) => {
  it('delivers to a receiver that answers 2xx', async () => {
    const before = received.length;
    await send(`${base}/ok`);
    expect(received.length).toBe(before + 1);
  });

  it('reports a non-2xx answer with its status', async () => {
    const err = await send(`${base}/s503`).catch((e) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect((err as Error).message).toContain('503');
    expect((err as DeliveryError).permanent).toBe(false);
  });

  it('reports an unreachable receiver', async () => {
    const err = await send('http://127.0.0.1:1/x').catch((e) => e);
    expect(err).toBeInstanceOf(DeliveryError);
  });
});

describe('what each notifier sends', () => {
  it('signs webhooks with HMAC-SHA256 over "timestamp.body" as docs/webhooks.md says', async () => {
    await sendWebhook(`${base}/hook`, 'whsec_test', event);
    const r = received.at(-1)!;
    const header = String(r.headers['resistro-signature']);
    const m = header.match(/^t=(\d+),v1=([0-9a-f]{64})$/);
    expect(m).not.toBeNull();
    const expected = await hmacHex('whsec_test', `${m![1]}.${r.body}`);
    expect(m![2]).toBe(expected);
    expect(Math.abs(Date.now() / 1000 - Number(m![1]))).toBeLessThan(60);
    expect(JSON.parse(r.body)).toEqual(event);
    expect(r.headers['resistro-event']).toBe('alert.opened');
    expect(r.headers['resistro-delivery']).toBe(event.id);
    expect(await signWebhook('k', 1, '{}')).toBe(`t=1,v1=${await hmacHex('k', '1.{}')}`);
    // the test vectors of docs/webhooks.md
    expect(await signWebhook('k', 1, '{}')).toBe(
      't=1,v1=3dd49b2593d0f9a349e9e71c4bde3e2b862c2be4003fe9b4ba81332029310158',
    );
    expect(await signWebhook('whsec_test', 1782907200, '{"id":"x"}')).toBe(
      't=1782907200,v1=f10934fa33b37e6f4be8907ac860e454fa196bda17d09f0aa7f5e410f76a0ed7',
    );
  });

  it('signs SES SendEmail requests with SigV4 for the ses service', async () => {
    await sendSesEmail(ses(base), message);
    const r = received.at(-1)!;
    expect(r.path).toBe('/v2/email/outbound-emails');
    const auth = String(r.headers.authorization);
    expect(auth).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-central-1\/ses\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/,
    );
    // Re-sign the received request at its own time: the signature must be the same.
    const again = await new AwsClient({
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: ses(base).secretAccessKey,
      service: 'ses',
      region: 'eu-central-1',
    }).sign(`${base}/v2/email/outbound-emails`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: r.body,
      aws: { datetime: String(r.headers['x-amz-date']) },
    });
    expect(again.headers.get('authorization')).toBe(auth);
    const body = JSON.parse(r.body);
    expect(body.Destination.ToAddresses).toEqual(['ops@b.test']);
    expect(body.Content.Simple.Subject.Data).toBe('Subject');
  });

  it('sends the http e-mail API its bearer token and a JSON message', async () => {
    await sendHttpEmail(httpEmail(`${base}/email`), message);
    const r = received.at(-1)!;
    expect(r.headers.authorization).toBe('Bearer tok');
    expect(JSON.parse(r.body)).toEqual({
      from: 'a@b.test',
      to: ['ops@b.test'],
      subject: 'Subject',
      text: 'Body',
    });
  });

  it('escapes Slack markup in alert text', () => {
    expect(slackText(event, undefined, EN)).toContain('db1 &lt;prod&gt;');
  });

  it('words opened and resolved e-mails differently', () => {
    expect(emailSubject(event, EN)).toBe('[Resistro] CRITICAL: Agent "db1 <prod>" is offline');
    const resolved = {
      ...event,
      type: 'alert.resolved' as const,
      alert: { ...event.alert!, resolvedAt: '2026-07-01T12:10:00.000Z' },
    };
    expect(emailSubject(resolved, EN)).toBe('[Resistro] Resolved: Agent "db1 <prod>" is offline');
    // the link opens this alert's own page in the dashboard (its e-mail's whole point)
    expect(emailText(resolved, 'https://app.test', EN)).toContain(
      `https://app.test/alerts/${event.alert!.id}`,
    );
    expect(slackText(resolved, 'https://app.test', EN)).toContain(
      `https://app.test/alerts/${event.alert!.id}|`,
    );
  });

  it('writes the frame of e-mails and Slack messages in German, times in the account time zone', () => {
    const resolved = {
      ...event,
      type: 'alert.resolved' as const,
      alert: { ...event.alert!, resolvedAt: '2026-07-01T12:10:00.000Z' },
    };
    const de = { language: 'de' as const, timeZone: 'Europe/Berlin' };
    expect(emailSubject(resolved, de)).toMatch(/^\[Resistro\] Behoben: /);
    const text = emailText(resolved, 'https://app.test', de);
    expect(text).toContain('Die Ursache besteht nicht mehr');
    expect(text).toContain('Behoben:   01.07.2026, 14:10 MESZ');
    expect(text).toContain('Betrifft:   Agent „db1 <prod>“');
    expect(text).toContain('Schwere:    kritisch');
    expect(text).not.toMatch(/\b(Opened|Resolved|Severity|You receive)\b/);
    expect(slackText({ ...event, type: 'test', alert: null }, undefined, de)).toBe(
      ':wave: Testbenachrichtigung von Resistro: Dieser Kanal funktioniert.',
    );
    expect(emailText(event, undefined, EN)).toContain('Opened:   01/07/2026, 12:00 UTC');
  });
});

describe('PagerDuty and Teams', () => {
  const resolved = {
    ...event,
    id: '7f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f',
    type: 'alert.resolved' as const,
    alert: { ...event.alert!, resolvedAt: '2026-07-01T12:10:00.000Z' },
  };

  it('opens one PagerDuty incident per alert and resolves that same one', () => {
    const pd = createPagerDutyStandIn();
    // a retried trigger (same alert) must not open a second incident
    for (const e of [event, event, resolved])
      for (const body of pagerDutyEvents(ROUTING_KEY, e, 'https://app.test', EN))
        expect(pd.enqueue(JSON.stringify(body)).status).toBe(202);
    const incidents = pd.incidents();
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({
      dedupKey: `resistro-alert-${event.alert!.id}`,
      status: 'resolved',
      severity: 'critical',
      source: 'db1 <prod>',
      summary: 'CRITICAL: Agent "db1 <prod>" is offline',
      actions: ['trigger', 'trigger', 'resolve'],
    });
  });

  it('sends a PagerDuty test as an info incident that resolves itself', () => {
    const pd = createPagerDutyStandIn();
    const test = { ...event, type: 'test' as const, alert: null };
    const bodies = pagerDutyEvents(ROUTING_KEY, test, undefined, EN);
    expect(bodies.map((b) => b.event_action)).toEqual(['trigger', 'resolve']);
    for (const b of bodies) expect(pd.enqueue(JSON.stringify(b)).status).toBe(202);
    expect(pd.incidents()).toMatchObject([{ status: 'resolved', severity: 'info' }]);
  });

  it('refuses what PagerDuty refuses: a malformed routing key', () => {
    const pd = createPagerDutyStandIn();
    const [body] = pagerDutyEvents('short', event, undefined, EN);
    expect(pd.enqueue(JSON.stringify(body)).status).toBe(400);
  });

  it('sends Teams an Adaptive Card with the alert facts and the dashboard link', () => {
    const card = teamsMessage(event, 'https://app.test', EN);
    expect(checkTeamsMessage(JSON.stringify(card)).status).toBe(202);
    const content = card.attachments[0]!.content;
    expect(JSON.stringify(content.body)).toContain('No heartbeat since 2026-07-01 11:50 UTC.');
    expect(content.actions).toEqual([
      {
        type: 'Action.OpenUrl',
        title: 'Open the alert in Resistro',
        url: `https://app.test/alerts/${event.alert!.id}`,
      },
    ]);
    const de = teamsMessage(resolved, undefined, { language: 'de', timeZone: 'Europe/Berlin' });
    expect(JSON.stringify(de)).toContain('Behoben: Agent');
    expect(JSON.stringify(de)).toContain('"title":"Behoben","value":"01.07.2026, 14:10 MESZ"');
    expect(checkTeamsMessage(JSON.stringify({ text: 'legacy' })).status).toBe(400);
  });
});
