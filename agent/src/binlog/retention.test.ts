import { expect, test } from 'vitest';
import { retentionWarning } from './retention.ts';

test('the binlog retention against the agent lag', () => {
  expect(retentionWarning(0, 10_000, 60)).toBeUndefined(); // never expires
  expect(retentionWarning(7 * 86_400, 5, 60)).toBeUndefined();
  expect(retentionWarning(7 * 86_400, 4 * 86_400, 60)?.message).toMatch(/4.0 days behind .* after 7.0 days/);
  expect(retentionWarning(3600, 5, 60)?.message).toMatch(/keeps binlogs for only 1.0 h/);
  expect(retentionWarning(3600, 5, 60)?.hint).toMatch(/binlog_expire_logs_seconds/);
});
