// Which language a request is answered in: the account's once someone is logged in (or sends an
// API key), else the request's Accept-Language (sign-up, log-in, a wrong key). It lives with the
// accounts, which own the language column; i18n/ depends on no feature folder.
import { eq } from 'drizzle-orm';
import type { Context } from 'hono';
import type { AppEnv } from '../app-types.ts';
import { DEFAULT_LOCALE, type Language, type Locale, languageFromHeader } from '../i18n/language.ts';
import { accounts } from './accounts.sql.ts';

export async function accountLocale(
  db: AppEnv['Variables']['db'],
  accountId: string,
): Promise<Locale | undefined> {
  const [row] = await db
    .select({ language: accounts.language, timeZone: accounts.timeZone })
    .from(accounts)
    .where(eq(accounts.id, accountId));
  return row;
}

/** The principal's account language; the header's when there is none or the lookup fails. */
export async function requestLanguage(c: Context<AppEnv>): Promise<Language> {
  const fallback = languageFromHeader(c.req.header('accept-language'));
  const principal = c.get('principal');
  const db = c.get('db');
  if (!principal || !db) return fallback;
  try {
    return (await accountLocale(db, principal.accountId))?.language ?? fallback;
  } catch {
    // An error page must not fail on its own lookup (the database may be what failed).
    return fallback;
  }
}

/** The caller's account locale, for texts rendered in a route (alerts). */
export async function principalLocale(c: Context<AppEnv>, accountId: string): Promise<Locale> {
  return (await accountLocale(c.get('db'), accountId)) ?? DEFAULT_LOCALE;
}
