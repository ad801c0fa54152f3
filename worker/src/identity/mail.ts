// The account e-mails of issue 16, in the account's language: verification links, the notice to an
// old address after a change, and password reset. Links carry the token in the fragment (#), so
// it never reaches a server log or a Referer header.
import type { Language } from '@resistro/contract';
import type { Config } from '../env.ts';
import { sendEmail } from '../notifications/send.ts';

export type AccountMail =
  | { kind: 'verify_email'; to: string; token: string }
  | { kind: 'change_email'; to: string; token: string }
  | { kind: 'verify_alert_email'; to: string; token: string }
  | { kind: 'email_changed_notice'; to: string; newEmail: string }
  | { kind: 'reset_password'; to: string; token: string }
  | { kind: 'password_changed_notice'; to: string };

const HOURS = { verify_email: 48, change_email: 24, verify_alert_email: 168, reset_password: 1 } as const;

function text(mail: AccountMail, origin: string, lang: Language): { subject: string; text: string } {
  const de = lang === 'de';
  switch (mail.kind) {
    case 'verify_email':
    case 'change_email': {
      const link = `${origin}/verify-email#token=${mail.token}`;
      return de
        ? {
            subject: 'Resistro: Bitte bestätigen Sie Ihre E-Mail-Adresse',
            text: `Bitte bestätigen Sie, dass ${mail.to} Ihre Adresse für Resistro ist:\n\n${link}\n\nDer Link gilt ${HOURS[mail.kind]} Stunden und nur einmal. Erst nach der Bestätigung schickt Resistro Alarme an diese Adresse.\nWenn Sie das nicht veranlasst haben, ignorieren Sie diese E-Mail.`,
          }
        : {
            subject: 'Resistro: please confirm your e-mail address',
            text: `Please confirm that ${mail.to} is your address for Resistro:\n\n${link}\n\nThe link works once, for ${HOURS[mail.kind]} hours. Resistro sends alerts to this address only after it is confirmed.\nIf you did not ask for this, ignore this e-mail.`,
          };
    }
    case 'verify_alert_email': {
      const link = `${origin}/verify-email#token=${mail.token}`;
      return de
        ? {
            subject: 'Resistro: Alarme an diese Adresse bestätigen',
            text: `Ein Resistro-Konto möchte Backup-Alarme an ${mail.to} senden. Bestätigen Sie das mit diesem Link:\n\n${link}\n\nOhne Bestätigung erhält diese Adresse keine Alarme. Der Link gilt 7 Tage.`,
          }
        : {
            subject: 'Resistro: confirm alerts to this address',
            text: `A Resistro account wants to send backup alerts to ${mail.to}. Confirm with this link:\n\n${link}\n\nWithout confirmation this address receives no alerts. The link works for 7 days.`,
          };
    }
    case 'email_changed_notice':
      return de
        ? {
            subject: 'Resistro: Ihre E-Mail-Adresse wurde geändert',
            text: `Die Anmeldeadresse Ihres Resistro-Kontos ist jetzt ${mail.newEmail} (bisher ${mail.to}).\nWenn Sie das nicht waren, setzen Sie sofort Ihr Passwort zurück und schreiben Sie an den Support.`,
          }
        : {
            subject: 'Resistro: your e-mail address was changed',
            text: `Your Resistro account now logs in with ${mail.newEmail} (was ${mail.to}).\nIf this was not you, reset your password at once and contact support.`,
          };
    case 'reset_password': {
      const link = `${origin}/reset-password#token=${mail.token}`;
      return de
        ? {
            subject: 'Resistro: Passwort zurücksetzen',
            text: `Mit diesem Link setzen Sie ein neues Passwort für ${mail.to}:\n\n${link}\n\nDer Link gilt eine Stunde und nur einmal. Danach sind alle Sitzungen abgemeldet.\nWenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail; Ihr Passwort bleibt unverändert.`,
          }
        : {
            subject: 'Resistro: reset your password',
            text: `Use this link to set a new password for ${mail.to}:\n\n${link}\n\nThe link works once, for one hour. Every session is logged out afterwards.\nIf you did not ask for this, ignore this e-mail; your password stays as it is.`,
          };
    }
    case 'password_changed_notice':
      return de
        ? {
            subject: 'Resistro: Ihr Passwort wurde geändert',
            text: `Das Passwort von ${mail.to} wurde geändert, alle anderen Sitzungen sind abgemeldet.\nWenn Sie das nicht waren, setzen Sie Ihr Passwort sofort zurück.`,
          }
        : {
            subject: 'Resistro: your password was changed',
            text: `The password of ${mail.to} was changed and every other session was logged out.\nIf this was not you, reset your password at once.`,
          };
  }
}

/** The origin links point at: the configured one, else the request's. */
export function linkOrigin(config: Config, requestUrl: string): string {
  return config.appOrigin ?? new URL(requestUrl).origin;
}

/**
 * Sends one account e-mail. Failures are logged without the link (it is a secret), never thrown:
 * the caller's answer must not depend on the mail provider (a reset answers the same either way).
 */
export async function sendAccountMail(
  config: Config,
  origin: string,
  language: Language,
  mail: AccountMail,
): Promise<void> {
  try {
    await sendEmail(config, { to: mail.to, ...text(mail, origin, language) });
  } catch (e) {
    console.error('account e-mail not sent', mail.kind, (e as Error).message);
  }
}
