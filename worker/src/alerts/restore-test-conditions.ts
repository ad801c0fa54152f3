// The two restore test alerts as pure functions of a database's restore test state and the time.
// Failing table names stay out of alerts (they travel to e-mail, Slack, webhooks): the alert says
// how many tables differ and which of the customer's own checks failed; the dashboard names tables.
import type { AlertKind } from '@resistro/contract';
import type { DatabaseRestoreTests } from '../restore-tests/state.ts';
import { formatTime } from './conditions.ts';

type Wanted = { title: string; detail: string; facts: Record<string, unknown> };
const DAY = 86400_000;

export function restoreTestConditions(
  name: string,
  t: DatabaseRestoreTests,
  now: Date,
): Partial<Record<AlertKind, Wanted>> {
  const wanted: Partial<Record<AlertKind, Wanted>> = {};
  const latest = t.latest;
  if (latest && latest.state !== 'passed') {
    const reasons =
      latest.state === 'error'
        ? `It could not finish (${latest.errorCode ?? 'internal'}): ${latest.error ?? 'no message'}`
        : [
            latest.tablesFailed > 0 && `${latest.tablesFailed} table(s) differ from what the backup recorded`,
            latest.failedChecks.length > 0 &&
              `your check(s) ${latest.failedChecks.map((c) => `"${c}"`).join(', ')} failed`,
          ]
            .filter(Boolean)
            .join('; ');
    wanted.restore_test_failed = {
      title: `Restore test of "${name}" ${latest.state === 'error' ? 'could not finish' : 'failed'}`,
      detail: `The restore test of ${formatTime(latest.finishedAt)} ${latest.state === 'error' ? 'did not finish' : 'failed'}. ${reasons}. The restore tests of the database show the details.`,
      facts: {
        restoreTestId: latest.id,
        state: latest.state,
        finishedAt: latest.finishedAt.toISOString(),
        tablesFailed: latest.tablesFailed,
        failedChecks: latest.failedChecks,
        ...(latest.errorCode && { errorCode: latest.errorCode }),
        ...(latest.error && { error: latest.error }),
      },
    };
  }
  // "No successful test for N days": counted from the first test asked for, so a database whose
  // tests have not begun (a new one, tests off) does not alert; a test stuck waiting does.
  const since = now.getTime() - t.alertAfterDays * DAY;
  if (
    t.enabled &&
    t.firstRequestedAt &&
    t.firstRequestedAt.getTime() <= since &&
    (!t.lastPassedAt || t.lastPassedAt.getTime() <= since)
  ) {
    wanted.restore_test_stale = {
      title: `No successful restore test of "${name}" for ${t.alertAfterDays} days`,
      detail: `${t.lastPassedAt ? `The last restore test that passed ended ${formatTime(t.lastPassedAt)}.` : 'No restore test has passed yet.'} Check that the agent runs and is up to date, and look at the failed tests of the database.`,
      facts: { days: t.alertAfterDays, lastPassedAt: t.lastPassedAt?.toISOString() ?? null },
    };
  }
  return wanted;
}
