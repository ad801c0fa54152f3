// Cron: the reminder e-mails before a closed account is purged, 7 days and 1 day before, in the
// account's language and time zone, to its owners and admins. Each is sent once: the run claims
// it (sets reminded_*_at where it is still null) before sending and gives the claim back when the
// send fails, so the next run tries again and two overlapping runs never both send.
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { accounts, users } from '../accounts/accounts.sql.ts';
import type { Db } from '../db.ts';
import type { Config } from '../env.ts';
import { formatDateTime } from '../i18n/format.ts';
import type { Locale } from '../i18n/language.ts';
import { sendEmail } from '../notifications/send.ts';
import { accountClosings, type ClosingReason } from './closing.sql.ts';

export const REMINDERS = [
  { days: 7, column: 'reminded7dAt' },
  { days: 1, column: 'reminded1dAt' },
] as const;
export const REMINDERS_PER_RUN = 50;

type Reminder = (typeof REMINDERS)[number];

export function reminderText(
  r: { days: number; reason: ClosingReason; purgeAt: Date; appOrigin: string | undefined },
  locale: Locale,
): { subject: string; text: string } {
  const when = formatDateTime(r.purgeAt, locale);
  const settings = `${r.appOrigin ?? ''}/settings#account`;
  if (locale.language === 'de') {
    const left = r.days === 1 ? 'morgen' : `in ${r.days} Tagen`;
    return {
      subject: `Resistro: Ihre Backups werden ${left} gelöscht`,
      text: [
        r.reason === 'deletion_requested'
          ? 'Ihr Resistro-Konto wird auf Ihren Wunsch gelöscht.'
          : 'Ihr Resistro-Konto ist gekündigt.',
        `Am ${when} werden alle Backups und alle Daten des Kontos endgültig gelöscht.`,
        '',
        'Bis dahin können Sie alles herunterladen:',
        '  resistro export --all --to /pfad/zum/ordner   (mit Ihrem API-Schlüssel)',
        `oder im Dashboard unter ${settings} (Manifest mit allen Download-Links).`,
        '',
        `Möchten Sie Resistro weiter nutzen, reaktivieren Sie das Konto vor diesem Datum: ${settings}`,
      ].join('\n'),
    };
  }
  const left = r.days === 1 ? 'tomorrow' : `in ${r.days} days`;
  return {
    subject: `Resistro: your backups will be deleted ${left}`,
    text: [
      r.reason === 'deletion_requested'
        ? 'Your Resistro account is being deleted as you asked.'
        : 'Your Resistro account is cancelled.',
      `On ${when} every backup and all data of the account will be deleted for good.`,
      '',
      'Until then you can download everything:',
      '  resistro export --all --to /path/to/folder   (with your API key)',
      `or in the dashboard at ${settings} (a manifest with every download link).`,
      '',
      `To keep using Resistro, reopen the account before that date: ${settings}`,
    ].join('\n'),
  };
}

const COLUMN_NAME: Record<Reminder['column'], string> = {
  reminded7dAt: 'reminded_7d_at',
  reminded1dAt: 'reminded_1d_at',
};

/** Marks up to REMINDERS_PER_RUN due reminders as sent and returns them (skipping rows another run holds). */
async function claim(db: Db, r: Reminder, now: Date) {
  const column = sql.raw(COLUMN_NAME[r.column]);
  const due = new Date(now.getTime() + r.days * 86400_000).toISOString();
  const { rows } = await db.execute<{
    account_id: string;
    reason: ClosingReason;
    purge_at: string | Date;
  }>(sql`
    update account_closings set ${column} = ${now.toISOString()}::timestamptz
    where account_id in (
      select account_id from account_closings
      where ${column} is null and purge_at <= ${due}::timestamptz and purge_at > ${now.toISOString()}::timestamptz
      order by purge_at
      limit ${REMINDERS_PER_RUN}
      for update skip locked)
    returning account_id, reason, purge_at`);
  return rows.map((row) => ({
    accountId: row.account_id,
    reason: row.reason,
    purgeAt: new Date(row.purge_at),
  }));
}

export async function sendClosingReminders(
  db: Db,
  config: Config,
  now: Date,
): Promise<{ reminders: number; failed: number }> {
  let sent = 0;
  let failed = 0;
  // The 1-day reminder first: an account closed late in its 30 days gets it, and not the 7-day one after it.
  for (const r of [...REMINDERS].reverse()) {
    const claimed = await claim(db, r, now);
    for (const c of claimed) {
      if (r.days === 1) {
        // The 7-day reminder is no longer news once the 1-day one goes out.
        await db
          .update(accountClosings)
          .set({ reminded7dAt: now })
          .where(and(eq(accountClosings.accountId, c.accountId), isNull(accountClosings.reminded7dAt)));
      }
      try {
        const [account] = await db
          .select({ language: accounts.language, timeZone: accounts.timeZone })
          .from(accounts)
          .where(eq(accounts.id, c.accountId));
        const to = await db
          .select({ email: users.email })
          .from(users)
          .where(and(eq(users.accountId, c.accountId), inArray(users.role, ['owner', 'admin'])));
        const message = reminderText(
          { days: r.days, reason: c.reason, purgeAt: c.purgeAt, appOrigin: config.appOrigin },
          account ?? { language: 'en', timeZone: 'UTC' },
        );
        for (const { email } of to) await sendEmail(config, { to: email, ...message });
        sent++;
      } catch (e) {
        failed++;
        console.error(
          `closing reminder (${r.days} d) for account ${c.accountId} failed; retried next run`,
          e,
        );
        await db
          .update(accountClosings)
          .set({ [r.column]: null })
          .where(eq(accountClosings.accountId, c.accountId));
      }
    }
  }
  return { reminders: sent, failed };
}
