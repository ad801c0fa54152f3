// Cron: the e-mails a failed payment sends to the account's owner, each once: when the
// subscription goes past due (with the link to update the payment method; backups keep running
// until the grace period ends), and when that grace period has ended and new backups stopped.
import { asc, eq } from 'drizzle-orm';
import { accounts, users } from '../accounts/accounts.sql.ts';
import type { Db } from '../db.ts';
import type { BillingConfig } from '../env.ts';
import { formatDateTime } from '../i18n/format.ts';
import type { Locale } from '../i18n/language.ts';
import { billingSubscriptions } from './billing.sql.ts';
import { paddleFor } from './billing.ts';
import type { PaddleApi } from './paddle.ts';

export type BillingEmail = { to: string; subject: string; text: string };
const PER_RUN = 50;

export function pastDueEmail(
  kind: 'past_due' | 'stopped',
  locale: Locale,
  o: { graceEndsAt: Date; payUrl: string; dashboardUrl: string },
): { subject: string; text: string } {
  const when = formatDateTime(o.graceEndsAt, locale);
  if (locale.language === 'de') {
    return kind === 'past_due'
      ? {
          subject: 'Resistro: Zahlung fehlgeschlagen – bitte Zahlungsmethode aktualisieren',
          text: `Die letzte Zahlung für Ihr Resistro-Abonnement ist fehlgeschlagen.\n\nIhre Backups laufen weiter bis ${when}. Danach werden keine neuen Backups mehr angenommen, bis die Zahlung eingegangen ist; vorhandene Backups bleiben erhalten.\n\nZahlungsmethode aktualisieren: ${o.payUrl}\nAbonnement: ${o.dashboardUrl}\n`,
        }
      : {
          subject: 'Resistro: Neue Backups angehalten – Zahlung ausstehend',
          text: `Die Zahlung für Ihr Resistro-Abonnement ist seit der Kulanzfrist (bis ${when}) offen. Neue Backups sind angehalten; vorhandene Backups bleiben erhalten und herunterladbar.\n\nSobald die Zahlung eingeht, laufen die Backups wieder.\n\nZahlungsmethode aktualisieren: ${o.payUrl}\nAbonnement: ${o.dashboardUrl}\n`,
        };
  }
  return kind === 'past_due'
    ? {
        subject: 'Resistro: payment failed – please update your payment method',
        text: `The last payment for your Resistro subscription failed.\n\nYour backups keep running until ${when}. After that no new backups are taken until the payment arrives; existing backups are kept.\n\nUpdate the payment method: ${o.payUrl}\nSubscription: ${o.dashboardUrl}\n`,
      }
    : {
        subject: 'Resistro: new backups stopped – payment outstanding',
        text: `The payment for your Resistro subscription is still open after the grace period (until ${when}). New backups are stopped; existing backups are kept and can be downloaded.\n\nOnce the payment arrives, backups run again.\n\nUpdate the payment method: ${o.payUrl}\nSubscription: ${o.dashboardUrl}\n`,
      };
}

export async function sendBillingNotices(
  db: Db,
  config: BillingConfig,
  appOrigin: string | undefined,
  now: Date,
  send: (m: BillingEmail) => Promise<void>,
  paddle: PaddleApi | undefined = config.enabled ? paddleFor(config) : undefined,
): Promise<{ sent: number }> {
  if (!config.enabled || !paddle) return { sent: 0 };
  const rows = await db
    .select({
      accountId: billingSubscriptions.accountId,
      subscriptionId: billingSubscriptions.subscriptionId,
      pastDueSince: billingSubscriptions.pastDueSince,
      pastDueNotifiedAt: billingSubscriptions.pastDueNotifiedAt,
      stopNotifiedAt: billingSubscriptions.stopNotifiedAt,
      language: accounts.language,
      timeZone: accounts.timeZone,
    })
    .from(billingSubscriptions)
    .innerJoin(accounts, eq(accounts.id, billingSubscriptions.accountId))
    .where(eq(billingSubscriptions.status, 'past_due'))
    .limit(PER_RUN * 4);
  let sent = 0;
  for (const row of rows) {
    if (!row.pastDueSince || !row.subscriptionId || sent >= PER_RUN) continue;
    const graceEndsAt = new Date(row.pastDueSince.getTime() + config.graceMs);
    const kind = !row.pastDueNotifiedAt
      ? 'past_due'
      : !row.stopNotifiedAt && now >= graceEndsAt
        ? 'stopped'
        : null;
    if (!kind) continue;
    const [owner] = await db
      .select({ email: users.email })
      .from(users)
      .where(eq(users.accountId, row.accountId))
      .orderBy(asc(users.createdAt))
      .limit(1);
    if (!owner) continue;
    const dashboardUrl = `${appOrigin ?? ''}/settings/subscription`;
    // Paddle's own page for the new payment method (works without logging in); else the dashboard.
    const payUrl = await paddle
      .updatePaymentMethodTransaction(row.subscriptionId)
      .then((t) => t.checkout?.url ?? dashboardUrl)
      .catch(() => dashboardUrl);
    const mail = pastDueEmail(
      kind,
      { language: row.language, timeZone: row.timeZone },
      { graceEndsAt, payUrl, dashboardUrl },
    );
    await send({ to: owner.email, ...mail });
    // Marked only after the provider took it: a failed send is tried again at the next run.
    await db
      .update(billingSubscriptions)
      .set(kind === 'past_due' ? { pastDueNotifiedAt: now } : { stopNotifiedAt: now })
      .where(eq(billingSubscriptions.accountId, row.accountId));
    sent++;
  }
  return { sent };
}
