// One language per account: the API answers errors in the account's language (or, before anyone
// logged in, in the request's), with the same codes and field names in every language.
import { generateAgentKeyPair } from '@resistro/contract';
import { describe, expect, it } from 'vitest';
import { createKey, keyClient, Session, uniqueEmail } from '../../scripts/test/api.ts';

async function signupIn(acceptLanguage: string, body: Record<string, unknown> = {}) {
  const session = new Session();
  const r = await session.json('/auth/signup', {
    method: 'POST',
    headers: { 'accept-language': acceptLanguage },
    json: { email: uniqueEmail('i18n'), password: 'correct horse battery staple', ...body },
  });
  expect(r.status).toBe(201);
  return { session, account: r.body.account };
}

async function addDatabase(session: Session, agentId: string, name: string) {
  return session.json('/databases', {
    method: 'POST',
    json: {
      name,
      engine: 'postgres',
      host: '127.0.0.1',
      database: name,
      user: 'backup',
      credentials: { mode: 'local' },
      schedule: { kind: 'daily', time: '02:00', timezone: 'UTC' },
      agentId,
    },
  });
}

async function agentOf(session: Session) {
  const client = keyClient(await createKey(session, 'agent'));
  const { publicKey } = await generateAgentKeyPair();
  const hb = await client.heartbeat({ hostname: 'db1', os: 'linux', version: '0.1.0', tools: [], publicKey });
  return hb.agent.id as string;
}

describe('account language', () => {
  it('comes from the browser at sign-up, or from the sign-up form, and is returned everywhere', async () => {
    const german = await signupIn('de-DE,de;q=0.9,en;q=0.8', { timeZone: 'Europe/Berlin' });
    expect(german.account).toMatchObject({ language: 'de', timeZone: 'Europe/Berlin' });
    const english = await signupIn('fr-FR,fr;q=0.9');
    expect(english.account).toMatchObject({ language: 'en', timeZone: 'UTC' });
    const chosen = await signupIn('en-US', { language: 'de' });
    expect(chosen.account.language).toBe('de');
    const me = await german.session.json('/auth/me');
    expect(me.body.account).toMatchObject({ language: 'de', timeZone: 'Europe/Berlin' });
    const acct = await german.session.json('/account');
    expect(acct.body.account.language).toBe('de');
  });

  it('is changed in the settings, and the errors follow at once', async () => {
    const { session } = await signupIn('de');
    const bad = await session.json('/account', { method: 'PATCH', json: { timeZone: 'Mars/Olympus' } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('validation_failed');
    expect(bad.body.error.fields).toEqual({ timeZone: 'ist keine bekannte Zeitzone' });
    expect(bad.body.error.message).toBe('Ungültige Eingabe: timeZone ist keine bekannte Zeitzone');

    const r = await session.json('/account', {
      method: 'PATCH',
      json: { language: 'en', timeZone: 'America/New_York' },
    });
    expect(r.status).toBe(200);
    expect(r.body.account).toMatchObject({ language: 'en', timeZone: 'America/New_York' });
    const again = await session.json('/account', { method: 'PATCH', json: { timeZone: 'Mars/Olympus' } });
    expect(again.body.error.fields).toEqual({ timeZone: 'is not a known time zone' });
    const wrong = await session.json('/account', { method: 'PATCH', json: { language: 'fr' } });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.fields).toEqual({ language: 'must be en or de' });
  });
});

describe('API errors in the account language', () => {
  it('says the plan limit in German with the right plural, and in English for an English account', async () => {
    const de = await signupIn('de-DE', { plan: 'starter' });
    const deAgent = await agentOf(de.session);
    expect((await addDatabase(de.session, deAgent, 'eins')).status).toBe(201);
    const deLimit = await addDatabase(de.session, deAgent, 'zwei');
    expect(deLimit.status).toBe(402);
    expect(deLimit.body.error.code).toBe('plan_limit');
    expect(deLimit.body.error.message).toBe(
      'Der Plan Starter erlaubt 1 Datenbank; wechseln Sie in einen größeren Plan, um weitere hinzuzufügen',
    );

    const en = await signupIn('en-GB', { plan: 'starter' });
    const enAgent = await agentOf(en.session);
    expect((await addDatabase(en.session, enAgent, 'one')).status).toBe(201);
    const enLimit = await addDatabase(en.session, enAgent, 'two');
    expect(enLimit.body.error).toEqual({
      code: 'plan_limit',
      message: 'The Starter plan allows 1 database; upgrade to add more',
    });
  });

  it('says a cancelled account in German, whatever language the browser asks for', async () => {
    const { session } = await signupIn('de');
    const agentId = await agentOf(session);
    expect((await session.json('/account', { method: 'DELETE' })).status).toBe(202);
    const r = await addDatabase(session, agentId, 'spaet');
    expect(r.status).toBe(409);
    const purge = new Date(Date.now() + 30 * 86400_000)
      .toISOString()
      .slice(0, 10)
      .split('-')
      .reverse()
      .join('.');
    expect(r.body.error).toEqual({
      code: 'account_read_only',
      message: `Dieses Konto ist gekündigt und nur noch lesbar; seine Backups können bis ${purge} heruntergeladen werden, danach wird alles gelöscht`,
    });
    const withEnglishBrowser = await session.json('/databases', {
      method: 'POST',
      headers: { 'accept-language': 'en' },
      json: { name: 'x' },
    });
    expect(withEnglishBrowser.status).toBe(409);
    expect(withEnglishBrowser.body.error.message).toBe(r.body.error.message);
  });

  it('answers validation errors before log-in in the request language, with stable codes and fields', async () => {
    const body = { email: 'not-an-address', password: 'short' };
    const de = await new Session().json('/auth/signup', {
      method: 'POST',
      headers: { 'accept-language': 'de-CH, en;q=0.5' },
      json: body,
    });
    const en = await new Session().json('/auth/signup', {
      method: 'POST',
      headers: { 'accept-language': 'en-US' },
      json: body,
    });
    expect(de.status).toBe(422);
    expect(en.status).toBe(422);
    expect(Object.keys(de.body.error.fields)).toEqual(Object.keys(en.body.error.fields));
    expect(de.body.error.fields).toEqual({
      email: 'muss eine gültige E-Mail-Adresse sein',
      password: 'muss mindestens 10 Zeichen haben',
    });
    expect(en.body.error.fields).toEqual({
      email: 'must be a valid e-mail address',
      password: 'must have at least 10 characters',
    });
    expect(de.body.error.message).toMatch(/^Ungültige Eingabe: /);
    const login = await new Session().json('/auth/login', {
      method: 'POST',
      headers: { 'accept-language': 'de' },
      json: { email: uniqueEmail('nobody'), password: 'whatever it is' },
    });
    expect(login.body.error).toEqual({
      code: 'unauthorized',
      message: 'E-Mail-Adresse oder Passwort ist falsch',
    });
    const route = await fetch(`${new Session().url}/api/v1/no-such-route`, {
      headers: { 'accept-language': 'de' },
    });
    expect(await route.json()).toEqual({
      error: { code: 'not_found', message: 'Diese Adresse gibt es nicht' },
    });
  });
});
