// The syslog line as a strict RFC 5424 collector (the local stand-in's parser) reads it, and the
// octet-counting frame around it.
import type { WebhookEvent } from '@resistro/contract';
import { describe, expect, it } from 'vitest';
import { frameOctetCounted, syslogMessage, syslogSeverity } from './syslog-format.ts';

const { parseRfc5424 } = await import('../../../scripts/stack/syslog-receiver.ts' as string);

const event: WebhookEvent = {
  id: '6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f',
  type: 'alert.opened',
  createdAt: '2026-07-01T12:00:00.000Z',
  accountId: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  alert: {
    id: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
    kind: 'failing',
    severity: 'warning',
    subject: { type: 'database', id: '2a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d', name: 'shop "main" [eu]\\x' },
    title: 'Backups of "shop" are failing',
    detail: 'Line one\nline two — ü',
    openedAt: '2026-07-01T12:00:00.000Z',
    resolvedAt: null,
    acknowledgedAt: null,
  },
};
const EN = { language: 'en' as const, timeZone: 'UTC' };

describe('syslog messages', () => {
  it('writes RFC 5424 with escaped structured data a collector parses back', () => {
    const line = syslogMessage(event, 'https://app.test', EN, 'app.test');
    const parsed = parseRfc5424(line);
    expect(parsed).toMatchObject({
      facility: 16,
      severity: 4,
      timestamp: '2026-07-01T12:00:00.000Z',
      hostname: 'app.test',
      appName: 'resistro',
      msgId: 'alert.opened',
    });
    expect(parsed.structuredData['resistro@32473']).toMatchObject({
      event: 'alert.opened',
      alertId: event.alert!.id,
      kind: 'failing',
      subject: 'shop "main" [eu]\\x',
    });
    expect(parsed.msg).toBe(
      `Warning: Backups of "shop" are failing — Line one\nline two — ü — https://app.test/alerts/${event.alert!.id}`,
    );
  });

  it('maps critical, warning, resolved and test to syslog severities', () => {
    expect(syslogSeverity({ ...event, alert: { ...event.alert!, severity: 'critical' } })).toBe(2);
    expect(syslogSeverity(event)).toBe(4);
    expect(syslogSeverity({ ...event, type: 'alert.resolved' })).toBe(5);
    expect(syslogSeverity({ ...event, type: 'test', alert: null })).toBe(6);
  });

  it('frames by the UTF-8 byte count, not the character count', () => {
    const frame = new TextDecoder().decode(frameOctetCounted('ü'));
    expect(frame).toBe('2 ü');
  });
});
