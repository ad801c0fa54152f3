// Notifications through the outbox to the local sink: signed webhooks (verified here with the
// algorithm docs/webhooks.md gives), Slack-compatible hooks, e-mail channels, "send a test", and
// retries with backoff until a delivery is failed for good and shown in the delivery log.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, stackInfo } from '../../scripts/test/api.ts';
import { startIsolatedControlPlane } from '../../scripts/test/isolated.ts';
import { minutesFrom, newAccount, runCronAt, sinkMessages } from './cron-fixtures.ts';

type Account = Awaited<ReturnType<typeof newAccount>>;

/** What a receiver does, following docs/webhooks.md. */
function verifySignature(secret: string, header: string, rawBody: string, toleranceSeconds = 300): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=') as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function makeAgentOffline(acct: Account) {
  await sql("update agents set last_seen_at = now() - interval '10 minutes' where id = $1", [acct.agent.id]);
}

async function createChannel(acct: Account, body: object) {
  const r = await acct.session.json('/channels', { method: 'POST', json: body });
  expect(r.status).toBe(201);
  return r.body as { channel: { id: string; urlHint: string | null }; secret: string | null };
}

describe('notifications', () => {
  // These tests check exact backoff times against the cron's clock, which other files' cron runs
  // on the shared stack would move: they get a control plane (and database) of their own.
  let isolated: Awaited<ReturnType<typeof startIsolatedControlPlane>>;
  beforeAll(async () => {
    isolated = await startIsolatedControlPlane('notifications');
  }, 90_000);
  afterAll(() => isolated?.stop());

  it('delivers alerts to a webhook with a signature the receiver can verify', async () => {
    const acct = await newAccount();
    const path = `/hooks/${crypto.randomUUID()}`;
    const { channel, secret } = await createChannel(acct, {
      type: 'webhook',
      name: 'Ops hook',
      url: `${stackInfo().sinkUrl}${path}?token=abc`,
    });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(channel.urlHint).toBe(`${stackInfo().sinkUrl}/…`);
    await makeAgentOffline(acct);
    const t = new Date();
    await runCronAt(t);
    const [opened] = await sinkMessages({ kind: 'webhook', path });
    expect(opened).toBeDefined();
    expect(verifySignature(secret!, opened!.headers['resistro-signature']!, opened!.body)).toBe(true);
    expect(verifySignature('whsec_wrong', opened!.headers['resistro-signature']!, opened!.body)).toBe(false);
    expect(
      verifySignature(
        secret!,
        opened!.headers['resistro-signature']!,
        opened!.body.replace('offline', 'online'),
      ),
    ).toBe(false);
    const event = JSON.parse(opened!.body);
    expect(event).toMatchObject({
      type: 'alert.opened',
      accountId: acct.accountId,
      alert: { kind: 'offline', severity: 'critical', subject: { type: 'agent', id: acct.agent.id } },
    });
    expect(opened!.headers['resistro-delivery']).toBe(event.id);
    expect(opened!.headers['resistro-event']).toBe('alert.opened');

    await acct.heartbeat();
    await runCronAt(minutesFrom(t, 1));
    const messages = await sinkMessages({ kind: 'webhook', path });
    expect(messages.map((m) => JSON.parse(m.body).type)).toEqual(['alert.opened', 'alert.resolved']);
    expect(verifySignature(secret!, messages[1]!.headers['resistro-signature']!, messages[1]!.body)).toBe(
      true,
    );
    expect(JSON.parse(messages[1]!.body).alert.resolvedAt).not.toBeNull();
  });

  it('posts Slack-compatible messages and sends e-mail channels to each address', async () => {
    const acct = await newAccount();
    const path = `/hooks/slack-${crypto.randomUUID()}`;
    await createChannel(acct, { type: 'slack', name: '#ops', url: `${stackInfo().sinkUrl}${path}` });
    const extra = [
      `oncall-${crypto.randomUUID().slice(0, 8)}@example.test`,
      `cto-${crypto.randomUUID().slice(0, 8)}@example.test`,
    ];
    await createChannel(acct, { type: 'email', name: 'On call', addresses: extra });
    await makeAgentOffline(acct);
    await runCronAt(new Date());
    const [slack] = await sinkMessages({ kind: 'webhook', path });
    expect(JSON.parse(slack!.body).text).toMatch(/^:red_circle: \*CRITICAL\* Agent "host-.*" is offline\n/);
    for (const to of [acct.email, ...extra]) {
      const mails = await sinkMessages({ kind: 'email', to });
      expect(mails).toHaveLength(1);
      expect(mails[0]!.email!.from).toBe('Resistro <alerts@resistro.local>');
      expect(mails[0]!.email!.subject).toContain('is offline');
    }
  });

  it('sends a test message on request and reports a receiver that refuses it', async () => {
    const acct = await newAccount();
    const path = `/hooks/${crypto.randomUUID()}`;
    const good = await createChannel(acct, {
      type: 'webhook',
      name: 'good',
      url: `${stackInfo().sinkUrl}${path}`,
    });
    const r = await acct.session.json(`/channels/${good.channel.id}/test`, { method: 'POST' });
    expect(r.status).toBe(200);
    expect(r.body.deliveries).toMatchObject([
      { status: 'delivered', event: 'test', attempts: 1, channelId: good.channel.id },
    ]);
    const [msg] = await sinkMessages({ kind: 'webhook', path });
    expect(JSON.parse(msg!.body)).toMatchObject({ type: 'test', alert: null });
    expect(verifySignature(good.secret!, msg!.headers['resistro-signature']!, msg!.body)).toBe(true);

    const bad = await createChannel(acct, {
      type: 'slack',
      name: 'bad',
      url: `${stackInfo().sinkUrl}/hooks/x?status=404`,
    });
    const r2 = await acct.session.json(`/channels/${bad.channel.id}/test`, { method: 'POST' });
    expect(r2.body.deliveries).toMatchObject([
      { status: 'failed', lastError: expect.stringContaining('HTTP 404') },
    ]);

    const mail = await createChannel(acct, {
      type: 'email',
      name: 'mail',
      addresses: [`t-${crypto.randomUUID().slice(0, 8)}@example.test`],
    });
    const r3 = await acct.session.json(`/channels/${mail.channel.id}/test`, { method: 'POST' });
    expect(r3.body.deliveries).toMatchObject([{ status: 'delivered', channelType: 'email' }]);
    const log = await acct.session.json('/notifications?limit=10');
    expect(log.body.items.map((d: { event: string }) => d.event)).toEqual(['test', 'test', 'test']);
  });

  it('retries a failing delivery with backoff and shows it failed after the last attempt', async () => {
    const acct = await newAccount();
    await acct.session.json('/account', { method: 'PATCH', json: { alertEmails: [] } });
    const path = `/hooks/${crypto.randomUUID()}`;
    const { channel } = await createChannel(acct, {
      type: 'webhook',
      name: 'flaky',
      url: `${stackInfo().sinkUrl}${path}?status=503`,
    });
    await makeAgentOffline(acct);
    const backoffMinutes = [1, 2, 4, 8, 16, 32, 60];
    type Row = {
      id: string;
      status: string;
      attempts: number;
      next_attempt_at: Date | null;
      last_error: string;
    };
    let row: Row | undefined;
    for (let i = 0; i < 12 && row?.status !== 'failed'; i++) {
      const before = row?.attempts ?? 0;
      const t = new Date();
      await runCronAt(t);
      [row] = await sql<Row>(
        'select id, status, attempts, next_attempt_at, last_error from notification_deliveries where channel_id = $1',
        [channel.id],
      );
      expect(row!.attempts).toBe(before + 1);
      expect(row!.last_error).toMatch(/^webhook: HTTP 503\b/);
      if (row!.status === 'pending') {
        const waited = row!.next_attempt_at!.getTime() - t.getTime();
        expect(Math.abs(waited - backoffMinutes[row!.attempts - 1]! * 60_000)).toBeLessThan(5_000);
        // Not due yet: a run a moment later leaves it alone.
        await runCronAt(new Date(t.getTime() + 1000));
        const [same] = await sql('select attempts from notification_deliveries where id = $1', [row!.id]);
        expect(same.attempts).toBe(row!.attempts);
        await sql(
          "update notification_deliveries set next_attempt_at = now() - interval '1 second' where id = $1",
          [row!.id],
        );
      }
    }
    expect(row).toMatchObject({ status: 'failed', attempts: 8, next_attempt_at: null });
    expect(await sinkMessages({ path })).toHaveLength(8);
    const failed = await acct.session.json('/notifications?status=failed');
    expect(failed.body.items).toMatchObject([
      {
        channelId: channel.id,
        channelType: 'webhook',
        target: 'flaky',
        event: 'alert.opened',
        status: 'failed',
        attempts: 8,
        lastError: expect.stringContaining('HTTP 503'),
        nextAttemptAt: null,
      },
    ]);
  });

  it('fails the pending messages of a deleted channel instead of sending them', async () => {
    const acct = await newAccount();
    const { channel } = await createChannel(acct, {
      type: 'webhook',
      name: 'gone',
      url: `${stackInfo().sinkUrl}/hooks/gone?status=500`,
    });
    await makeAgentOffline(acct);
    await runCronAt(new Date());
    expect((await acct.session.fetch(`/channels/${channel.id}`, { method: 'DELETE' })).status).toBe(204);
    const log = await acct.session.json('/notifications?status=failed');
    expect(log.body.items).toMatchObject([
      { channelId: null, lastError: 'The channel was deleted before this message was delivered' },
    ]);
  });

  it('does not notify a disabled channel', async () => {
    const acct = await newAccount();
    const path = `/hooks/${crypto.randomUUID()}`;
    const { channel } = await createChannel(acct, {
      type: 'webhook',
      name: 'off',
      url: `${stackInfo().sinkUrl}${path}`,
      enabled: false,
    });
    await makeAgentOffline(acct);
    await runCronAt(new Date());
    expect(await sinkMessages({ path })).toHaveLength(0);
    const r = await acct.session.json(`/channels/${channel.id}`, {
      method: 'PATCH',
      json: { enabled: true },
    });
    expect(r.body.channel.enabled).toBe(true);
  });
});
