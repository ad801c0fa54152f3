import { describe, expect, it } from 'vitest';
import { signPaddle, verifyPaddleSignature } from './signature.ts';

const SECRET = 'pdl_ntfset_test_secret';
const BODY = '{"event_id":"evt_1","event_type":"subscription.activated"}';
const NOW = 1_790_000_000_000;
const TS = NOW / 1000;

describe('Paddle-Signature', () => {
  it('accepts a body signed with our secret at the current time', async () => {
    const header = await signPaddle([SECRET], TS, BODY);
    expect(header).toMatch(/^ts=\d+;h1=[0-9a-f]{64}$/);
    expect(await verifyPaddleSignature(SECRET, header, BODY, NOW)).toEqual({ ok: true });
  });

  it('accepts any of several h1 during a secret rotation', async () => {
    const header = await signPaddle(['the-old-secret', SECRET], TS, BODY);
    expect(header.split(';h1=')).toHaveLength(3);
    expect(await verifyPaddleSignature(SECRET, header, BODY, NOW)).toEqual({ ok: true });
  });

  it('refuses another secret, a changed body and a changed timestamp', async () => {
    const other = await signPaddle(['someone-else'], TS, BODY);
    expect(await verifyPaddleSignature(SECRET, other, BODY, NOW)).toEqual({ ok: false, reason: 'mismatch' });
    const good = await signPaddle([SECRET], TS, BODY);
    expect(await verifyPaddleSignature(SECRET, good, `${BODY} `, NOW)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    const moved = good.replace(`ts=${TS}`, `ts=${TS + 1}`);
    expect(await verifyPaddleSignature(SECRET, moved, BODY, NOW)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses a timestamp more than a few seconds away, either way', async () => {
    const old = await signPaddle([SECRET], TS - 6, BODY);
    expect(await verifyPaddleSignature(SECRET, old, BODY, NOW)).toEqual({ ok: false, reason: 'stale' });
    const future = await signPaddle([SECRET], TS + 6, BODY);
    expect(await verifyPaddleSignature(SECRET, future, BODY, NOW)).toEqual({ ok: false, reason: 'stale' });
    const edge = await signPaddle([SECRET], TS - 5, BODY);
    expect(await verifyPaddleSignature(SECRET, edge, BODY, NOW)).toEqual({ ok: true });
  });

  it('refuses a missing or malformed header', async () => {
    expect(await verifyPaddleSignature(SECRET, undefined, BODY, NOW)).toEqual({
      ok: false,
      reason: 'missing',
    });
    for (const h of [
      'ts=1',
      'h1=abc',
      `ts=x;h1=${'a'.repeat(64)}`,
      'garbage',
      `ts=${TS};h1=${'A'.repeat(64)}`,
    ]) {
      expect(await verifyPaddleSignature(SECRET, h, BODY, NOW), h).toEqual({
        ok: false,
        reason: 'malformed',
      });
    }
  });
});
