// The on-call channels through the real worker (workerd) to the stack's stand-ins: PagerDuty's
// Events API v2 (one incident per alert, opened and resolved by its dedup key), a Microsoft Teams
// Workflows webhook, and a syslog collector over TCP and TLS (cloudflare:sockets, octet counting).
import { describe, expect, it } from 'vitest';
import { stackInfo } from '../../scripts/test/api.ts';
import { failedBackup, newAccount, runCronAt, sinkMessages, uploadBackup } from './cron-fixtures.ts';

type Account = Awaited<ReturnType<typeof newAccount>>;
const ROUTING_KEY = () => crypto.randomUUID().replaceAll('-', '');

async function createChannel(acct: Account, body: object) {
  const r = await acct.session.json('/channels', { method: 'POST', json: body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as {
    channel: { id: string; urlHint: string | null; routingKeyHint: string | null; syslog: unknown };
    secret: string | null;
  };
}
async function syslogPorts(): Promise<{ tcpPort: number; tlsPort: number }> {
  return (await fetch(`${stackInfo().sinkUrl}/syslog`)).json() as Promise<{
    tcpPort: number;
    tlsPort: number;
  }>;
}
async function incidents(routingKey: string) {
  const r = await fetch(`${stackInfo().sinkUrl}/pagerduty/incidents`);
  const { items } = (await r.json()) as { items: Array<{ routingKey: string; [k: string]: unknown }> };
  return items.filter((i) => i.routingKey === routingKey);
}
async function syslogFor(accountId: string) {
  return (await sinkMessages({ kind: 'syslog' })).filter(
    (m) => m.syslog?.structuredData['resistro@32473']?.account === accountId,
  );
}
async function testSend(acct: Account, id: string) {
  const r = await acct.session.json(`/channels/${id}/test`, { method: 'POST' });
  expect(r.status).toBe(200);
  return r.body.deliveries as Array<{ status: string; lastError: string | null }>;
}

describe('on-call channels', () => {
  it('sends a test through PagerDuty, Teams and syslog over TCP and TLS, and logs each', async () => {
    const acct = await newAccount();
    const { tcpPort, tlsPort } = await syslogPorts();
    const key = ROUTING_KEY();
    const pd = await createChannel(acct, {
      type: 'pagerduty',
      name: 'On call',
      routingKey: key,
      url: `${stackInfo().sinkUrl}/pagerduty/v2/enqueue`,
    });
    // SECURITY: the key is never shown again, only its last characters
    expect(pd.channel.routingKeyHint).toBe(`…${key.slice(-4)}`);
    expect(JSON.stringify(pd)).not.toContain(key);
    const teamsPath = `/teams/${crypto.randomUUID()}`;
    const teams = await createChannel(acct, {
      type: 'teams',
      name: 'Ops',
      url: `${stackInfo().sinkUrl}${teamsPath}`,
    });
    const tcp = await createChannel(acct, {
      type: 'syslog',
      name: 'Collector',
      host: '127.0.0.1',
      port: tcpPort,
      transport: 'tcp',
    });
    expect(tcp.channel.syslog).toEqual({ host: '127.0.0.1', port: tcpPort, transport: 'tcp' });
    const tls = await createChannel(acct, {
      type: 'syslog',
      name: 'Collector TLS',
      host: 'localhost',
      port: tlsPort,
      transport: 'tls',
    });
    for (const c of [pd, teams, tcp, tls])
      expect(await testSend(acct, c.channel.id)).toMatchObject([{ status: 'delivered', lastError: null }]);
    expect(await incidents(key)).toMatchObject([
      { status: 'resolved', severity: 'info', actions: ['trigger', 'resolve'] },
    ]);
    const [card] = await sinkMessages({ kind: 'teams', path: teamsPath });
    expect(JSON.parse(card!.body).attachments[0].content.type).toBe('AdaptiveCard');
    const lines = await syslogFor(acct.accountId);
    expect(lines.map((l) => [l.path, l.syslog!.severity, l.syslog!.msgId])).toEqual([
      ['tcp', 6, 'test'],
      ['tls', 6, 'test'],
    ]);
    expect(lines[0]!.syslog!.msg).toBe(
      `Test notification from Resistro: this channel works. — ${stackInfo().url}/alerts`,
    );
    const log = await acct.session.json('/notifications?limit=10');
    expect(log.body.items.map((d: { channelType: string }) => d.channelType).sort()).toEqual([
      'pagerduty',
      'syslog',
      'syslog',
      'teams',
    ]);
  });

  it('reports a collector that is not listening, or that does not speak TLS, in the delivery log', async () => {
    const acct = await newAccount();
    const { tcpPort } = await syslogPorts();
    const closed = await createChannel(acct, {
      type: 'syslog',
      name: 'down',
      host: '127.0.0.1',
      port: 1,
      transport: 'tcp',
    });
    expect(await testSend(acct, closed.channel.id)).toMatchObject([
      { status: 'failed', lastError: 'syslog over TCP: connection failed' },
    ]);
    // TLS to a plain TCP listener: the handshake never completes, so it is not reported as sent
    const plain = await createChannel(acct, {
      type: 'syslog',
      name: 'plain',
      host: '127.0.0.1',
      port: tcpPort,
      transport: 'tls',
    });
    const [d] = await testSend(acct, plain.channel.id);
    expect(d!.status).toBe('failed');
    expect(d!.lastError).toMatch(/^syslog over TLS: /);
    // the log reads in the account's language
    await acct.session.json('/account', { method: 'PATCH', json: { language: 'de' } });
    const de = await acct.session.json('/notifications?status=failed');
    expect(de.body.items.map((i: { lastError: string }) => i.lastError)).toContain(
      'Syslog über TCP: Verbindung fehlgeschlagen',
    );
    const pdBad = await createChannel(acct, {
      type: 'pagerduty',
      name: 'bad',
      routingKey: ROUTING_KEY(),
      url: `${stackInfo().sinkUrl}/teams/not-pagerduty`,
    });
    expect((await testSend(acct, pdBad.channel.id))[0]!.status).toBe('failed');
  });

  it('refuses UDP and fields of other channel types with a reason', async () => {
    const acct = await newAccount();
    const udp = await acct.session.json('/channels', {
      method: 'POST',
      json: { type: 'syslog', name: 'udp', host: 'logs.example.com', port: 514, transport: 'udp' },
    });
    expect(udp.status).toBe(422);
    expect(udp.body.error.fields.transport).toBe('must be tcp or tls (Cloudflare Workers cannot send UDP)');
    const badKey = await acct.session.json('/channels', {
      method: 'POST',
      json: { type: 'pagerduty', name: 'pd', routingKey: 'x' },
    });
    expect(badKey.status).toBe(422);
    expect(badKey.body.error.fields.routingKey).toMatch(/32-character/);
    const { tcpPort } = await syslogPorts();
    const c = await createChannel(acct, {
      type: 'syslog',
      name: 's',
      host: '127.0.0.1',
      port: tcpPort,
      transport: 'tcp',
    });
    const wrong = await acct.session.json(`/channels/${c.channel.id}`, {
      method: 'PATCH',
      json: { url: 'https://x.test/' },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.fields).toEqual({ url: 'only for Slack, webhook, Teams and PagerDuty channels' });
    const moved = await acct.session.json(`/channels/${c.channel.id}`, {
      method: 'PATCH',
      json: { port: 6514, transport: 'tls' },
    });
    expect(moved.body.channel.syslog).toEqual({ host: '127.0.0.1', port: 6514, transport: 'tls' });
  });

  it('opens one PagerDuty incident for a failing source and resolves it; syslog gets both events', async () => {
    const acct = await newAccount();
    const key = ROUTING_KEY();
    const { tcpPort } = await syslogPorts();
    await createChannel(acct, {
      type: 'pagerduty',
      name: 'On call',
      routingKey: key,
      url: `${stackInfo().sinkUrl}/pagerduty/v2/enqueue`,
    });
    await createChannel(acct, {
      type: 'syslog',
      name: 'Collector',
      host: '127.0.0.1',
      port: tcpPort,
      transport: 'tcp',
    });
    const dbId = acct.databases[0]!.id;
    for (let i = 0; i < 3; i++) await failedBackup(acct.client, dbId, 'connection refused');
    await runCronAt(new Date());
    expect(await incidents(key)).toMatchObject([{ status: 'triggered', actions: ['trigger'] }]);
    const [opened] = await syslogFor(acct.accountId);
    expect(opened!.syslog).toMatchObject({ severity: 2, msgId: 'alert.opened' });
    expect(opened!.syslog!.structuredData['resistro@32473']).toMatchObject({
      kind: 'failing',
      subjectId: dbId,
    });
    await uploadBackup(acct.client, dbId, 1000);
    await runCronAt(new Date());
    const [incident] = await incidents(key);
    expect(incident).toMatchObject({ status: 'resolved', actions: ['trigger', 'resolve'] });
    expect(incident!.dedupKey).toBe(
      `resistro-alert-${opened!.syslog!.structuredData['resistro@32473']!.alertId}`,
    );
    expect((await syslogFor(acct.accountId)).map((m) => m.syslog!.msgId)).toEqual([
      'alert.opened',
      'alert.resolved',
    ]);
  });
});
