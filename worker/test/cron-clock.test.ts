// The scheduled handler takes controller.scheduledTime as "now", and tests set it: no backdoor in
// the worker, only Miniflare's trigger route (see runCronAt).
import { describe, expect, it } from 'vitest';
import { sql } from '../../scripts/test/api.ts';
import { minutesFrom, newAccount, openAlerts, runCronAt } from './cron-fixtures.ts';

describe('cron clock', () => {
  it('evaluates alerts at the time the test gives the scheduled handler', async () => {
    const acct = await newAccount();
    const seen = new Date(Date.now() - 4 * 60_000);
    await sql('update agents set last_seen_at = $2 where id = $1', [acct.agent.id, seen]);
    // Four minutes of silence at the real time: not offline yet.
    await runCronAt(new Date());
    expect(await openAlerts(acct.accountId)).toHaveLength(0);
    // Two minutes later by the cron's clock the agent has been silent for six.
    const later = minutesFrom(new Date(), 2);
    await runCronAt(later);
    const [alert] = await openAlerts(acct.accountId);
    expect(alert?.kind).toBe('offline');
    expect(alert?.opened_at.toISOString()).toBe(later.toISOString());
  });
});
