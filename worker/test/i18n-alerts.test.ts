// Alerts in the account's language end to end: the cron opens an alert, the API lists it, and
// the outbox sends the e-mail, the signed webhook and the Slack message, all in German for a
// German account (times in its time zone) and in English for an English one. Switching the
// language changes the text of alerts that are already open.
import { describe, expect, it } from 'vitest';
import { sql, stackInfo } from '../../scripts/test/api.ts';
import { newAccount, runCronAt, sinkMessages } from './cron-fixtures.ts';

type Account = Awaited<ReturnType<typeof newAccount>>;

async function offlineAccount(language: 'de' | 'en', timeZone: string) {
  const acct = await newAccount();
  const set = await acct.session.json('/account', { method: 'PATCH', json: { language, timeZone } });
  expect(set.body.account).toMatchObject({ language, timeZone });
  const hook = `/hooks/i18n-${crypto.randomUUID()}`;
  const slack = `/hooks/i18n-slack-${crypto.randomUUID()}`;
  for (const [type, path] of [
    ['webhook', hook],
    ['slack', slack],
  ] as const) {
    const r = await acct.session.json('/channels', {
      method: 'POST',
      json: { type, name: type, url: `${stackInfo().sinkUrl}${path}` },
    });
    expect(r.status).toBe(201);
  }
  // Ten minutes of silence at a known time, so the e-mail's time can be checked.
  await sql("update agents set last_seen_at = '2026-07-01T10:00:00Z' where id = $1", [acct.agent.id]);
  await runCronAt(new Date());
  return { acct, hook, slack };
}

async function mailTo(acct: Account) {
  const mails = await sinkMessages({ kind: 'email', to: acct.email });
  expect(mails).toHaveLength(1);
  return mails[0]!.email!;
}

describe('alerts in the account language', () => {
  it('sends a German account German e-mails, webhooks and Slack messages with times in its zone', async () => {
    const { acct, hook, slack } = await offlineAccount('de', 'Europe/Berlin');
    const mail = await mailTo(acct);
    expect(mail.subject).toBe(`[Resistro] KRITISCH: Agent „${acct.hostname}“ ist offline`);
    expect(mail.text).toContain('Kein Lebenszeichen seit 01.07.2026, 12:00 MESZ (mehr als 5 Minuten).');
    expect(mail.text).toContain(`Die Backups von „${acct.databases[0]!.name}“ können erst wieder laufen`);
    expect(mail.text).toContain('Schwere:    kritisch');
    expect(mail.text).not.toMatch(/\b(is offline|heartbeat|Opened|Severity|You receive)\b/);

    const [webhook] = await sinkMessages({ kind: 'webhook', path: hook });
    const event = JSON.parse(webhook!.body);
    expect(event).toMatchObject({
      type: 'alert.opened',
      alert: { kind: 'offline', title: `Agent „${acct.hostname}“ ist offline` },
    });
    expect(event.alert.detail).toMatch(/^Kein Lebenszeichen seit /);
    const [chat] = await sinkMessages({ kind: 'webhook', path: slack });
    expect(JSON.parse(chat!.body).text).toMatch(
      /^:red_circle: \*KRITISCH\* Agent „host-.*“ ist offline\nKein Lebenszeichen/,
    );

    // The delivery log says in German why a test message failed.
    const bad = await acct.session.json('/channels', {
      method: 'POST',
      json: { type: 'slack', name: 'kaputt', url: `${stackInfo().sinkUrl}/hooks/x?status=404` },
    });
    const test = await acct.session.json(`/channels/${bad.body.channel.id}/test`, { method: 'POST' });
    expect(test.body.deliveries[0].lastError).toMatch(/^Slack-Webhook: HTTP 404\b/);
    const log = await acct.session.json(`/notifications?channelId=${bad.body.channel.id}`);
    expect(log.body.items[0].lastError).toMatch(/^Slack-Webhook: HTTP 404\b/);

    const list = await acct.session.json('/alerts');
    expect(list.body.items).toMatchObject([
      { kind: 'offline', title: `Agent „${acct.hostname}“ ist offline` },
    ]);
    // The same open alert reads in English once the account switches.
    await acct.session.json('/account', { method: 'PATCH', json: { language: 'en' } });
    const after = await acct.session.json(`/alerts/${list.body.items[0].id}`);
    expect(after.body.alert.title).toBe(`Agent "${acct.hostname}" is offline`);
  });

  it('sends an English account English messages', async () => {
    const { acct, hook } = await offlineAccount('en', 'UTC');
    const mail = await mailTo(acct);
    expect(mail.subject).toBe(`[Resistro] CRITICAL: Agent "${acct.hostname}" is offline`);
    expect(mail.text).toContain('No heartbeat since 01/07/2026, 10:00 UTC (more than 5 minutes).');
    expect(mail.text).toContain('Severity: critical');
    const [webhook] = await sinkMessages({ kind: 'webhook', path: hook });
    expect(JSON.parse(webhook!.body).alert.title).toBe(`Agent "${acct.hostname}" is offline`);
    const list = await acct.session.json('/alerts');
    expect(list.body.items[0].detail).toMatch(/^No heartbeat since 01\/07\/2026, 10:00 UTC/);
  });
});
