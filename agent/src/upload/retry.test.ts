import { describe, expect, test } from 'vitest';
import { backoffDelay, withRetry } from './retry.ts';

describe('retry', () => {
  const policy = { attempts: 5, baseMs: 100, maxMs: 1000 };

  test('backoff doubles per attempt, stays within [half, full] of its ceiling, and is capped', () => {
    expect(backoffDelay(1, policy, () => 0)).toBe(50);
    expect(backoffDelay(1, policy, () => 1)).toBe(100);
    expect(backoffDelay(3, policy, () => 0)).toBe(200);
    expect(backoffDelay(3, policy, () => 1)).toBe(400);
    expect(backoffDelay(10, policy, () => 1)).toBe(1000);
  });

  test('withRetry retries only retryable errors and gives up after the last attempt', async () => {
    let calls = 0;
    const fast = { attempts: 3, baseMs: 1, maxMs: 2 };
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error('transient');
        },
        () => true,
        fast,
      ),
    ).rejects.toThrow('transient');
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error('permanent');
        },
        () => false,
        fast,
      ),
    ).rejects.toThrow('permanent');
    expect(calls).toBe(1);
    calls = 0;
    expect(
      await withRetry(
        async (attempt) => {
          calls++;
          if (attempt < 2) throw new Error('once');
          return 'ok';
        },
        () => true,
        fast,
      ),
    ).toBe('ok');
    expect(calls).toBe(2);
  });
});
