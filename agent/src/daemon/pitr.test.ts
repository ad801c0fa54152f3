import { expect, test } from 'vitest';
import { cutInterval, replicaServerId } from './pitr.ts';

test('segments are cut at a quarter of the RPO, between 1 and 60 s', () => {
  expect(cutInterval(10)).toBe(2500);
  expect(cutInterval(300)).toBe(60_000);
  expect(cutInterval(2)).toBe(1000);
});

test('the replica server id is stable per agent and database, and outside the usual small ids', () => {
  const a = replicaServerId('agent-1', 'db-1');
  expect(replicaServerId('agent-1', 'db-1')).toBe(a);
  expect(replicaServerId('agent-1', 'db-2')).not.toBe(a);
  expect(a).toBeGreaterThanOrEqual(1_000_000_000);
  expect(a).toBeLessThan(2 ** 32);
});
