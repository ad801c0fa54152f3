// OIDC single sign-on for Enterprise accounts: the authorization code flow with PKCE (S256),
// state and nonce kept hashed in auth_tokens, the provider's discovery document, and the ID
// token's signature checked against the provider's JWKS (jose). A person whose verified address
// is in one of the account's domains becomes a member (viewer) at the first log-in.
import type { SsoConfig as SsoConfigView } from '@resistro/contract';
import { and, eq, gt, isNull } from 'drizzle-orm';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { Db } from '../db.ts';
import type { Config } from '../env.ts';
import { ApiError } from '../errors.ts';
import { hashPassword, randomToken, sha256Hex } from '../lib/crypto.ts';
import { accounts, authTokens, type SsoConfig, users } from './accounts.sql.ts';
import { type ClientInfo, createSession, toUser } from './accounts.ts';
import { openSsoSecret, sealSsoSecret } from './sso-secret.ts';

export const SSO_STATE_TTL_MS = 10 * 60_000;
export const SSO_CALLBACK_PATH = '/api/v1/auth/sso/callback';

type Discovery = { issuer: string; authorization_endpoint: string; token_endpoint: string; jwks_uri: string };

function checkUrl(config: Config, url: string, what: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ApiError('validation_failed', 'The identity provider answered with an unusable address', {
      issuer: `has no valid ${what}`,
    });
  }
  // SECURITY: https in production; http only where the service allows it locally
  if (u.protocol !== 'https:' && !(config.webhookAllowHttp && u.protocol === 'http:'))
    throw new ApiError('validation_failed', 'The identity provider must use https', {
      issuer: 'must use https',
    });
  return u;
}

async function discover(config: Config, issuer: string): Promise<Discovery> {
  checkUrl(config, issuer, 'issuer');
  let doc: Partial<Discovery>;
  try {
    const res = await fetch(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, {
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(String(res.status));
    doc = (await res.json()) as Partial<Discovery>;
  } catch {
    throw new ApiError(
      'validation_failed',
      'The identity provider cannot be reached or has no OpenID configuration',
      {
        issuer: 'has no /.well-known/openid-configuration',
      },
    );
  }
  if (
    doc.issuer !== issuer.replace(/\/+$/, '') ||
    !doc.authorization_endpoint ||
    !doc.token_endpoint ||
    !doc.jwks_uri
  )
    throw new ApiError(
      'validation_failed',
      'The identity provider cannot be reached or has no OpenID configuration',
      {
        issuer: 'has no /.well-known/openid-configuration',
      },
    );
  for (const [k, v] of Object.entries(doc))
    if (k.endsWith('_endpoint') || k === 'jwks_uri') checkUrl(config, v as string, k);
  return doc as Discovery;
}

// SECURITY: the client secret never leaves the Worker; the settings say only that one is stored.
function view(
  sso: SsoConfig | null | undefined,
  hasClientSecret: boolean,
  origin: string,
): SsoConfigView | null {
  if (!sso) return null;
  return {
    issuer: sso.issuer,
    clientId: sso.clientId,
    hasClientSecret,
    domains: sso.domains,
    enabled: sso.enabled,
    redirectUri: origin + SSO_CALLBACK_PATH,
  };
}

export async function getSso(db: Db, accountId: string, origin: string) {
  const [row] = await db
    .select({ sso: accounts.sso, secret: accounts.ssoClientSecret })
    .from(accounts)
    .where(eq(accounts.id, accountId));
  return view(row?.sso, Boolean(row?.secret), origin);
}

/** Saves the settings after the provider's discovery document was read (Enterprise only). */
export async function setSso(
  db: Db,
  config: Config,
  accountId: string,
  input: {
    issuer: string;
    clientId: string;
    clientSecret?: string | undefined;
    domains: string[];
    enabled: boolean;
  },
  origin: string,
) {
  const [row] = await db
    .select({ plan: accounts.plan, secret: accounts.ssoClientSecret })
    .from(accounts)
    .where(eq(accounts.id, accountId));
  if (!row) throw new ApiError('not_found', 'account not found');
  if (row.plan !== 'enterprise')
    throw new ApiError('plan_limit', 'Single sign-on is part of the Enterprise plan');
  const issuer = input.issuer.replace(/\/+$/, '');
  await discover(config, issuer);
  // a new secret is sealed before it is stored; without one the stored one stays as it is
  const ssoClientSecret = input.clientSecret
    ? await sealSsoSecret(config, accountId, input.clientSecret)
    : row.secret;
  if (!ssoClientSecret)
    throw new ApiError('validation_failed', 'The client secret is required', { clientSecret: 'is required' });
  const sso: SsoConfig = {
    issuer,
    clientId: input.clientId,
    domains: [...new Set(input.domains)],
    enabled: input.enabled,
  };
  await db.update(accounts).set({ sso, ssoClientSecret }).where(eq(accounts.id, accountId));
  return view(sso, true, origin);
}

export async function removeSso(db: Db, accountId: string) {
  await db.update(accounts).set({ sso: null, ssoClientSecret: null }).where(eq(accounts.id, accountId));
}

function base64url(bytes: ArrayBuffer): string {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The Enterprise account whose SSO covers the address's domain. */
async function accountForEmail(db: Db, email: string) {
  const domain = email.split('@')[1] ?? '';
  const rows = await db
    .select({ id: accounts.id, plan: accounts.plan, sso: accounts.sso })
    .from(accounts)
    .where(eq(accounts.plan, 'enterprise'));
  return rows.find((r) => r.sso?.enabled && r.sso.domains.includes(domain));
}

/** Where to send the browser: the provider's authorization URL with state, nonce and PKCE. */
export async function startSso(db: Db, config: Config, email: string, origin: string, now: Date) {
  const account = await accountForEmail(db, email);
  if (!account?.sso) throw new ApiError('not_found', 'No single sign-on is set up for this e-mail domain');
  const d = await discover(config, account.sso.issuer);
  const state = randomToken();
  const nonce = randomToken();
  const verifier = randomToken(48);
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  await db.insert(authTokens).values({
    tokenHash: await sha256Hex(state),
    kind: 'oidc',
    accountId: account.id,
    email,
    data: { nonce, verifier },
    createdAt: now,
    expiresAt: new Date(now.getTime() + SSO_STATE_TTL_MS),
  });
  const url = new URL(d.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: account.sso.clientId,
    redirect_uri: origin + SSO_CALLBACK_PATH,
    scope: 'openid email',
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    login_hint: email,
  }).toString();
  return url.href;
}

const SSO_FAILED = 'The single sign-on did not succeed; start it again from the log-in page';

/** The provider's redirect back: the code is exchanged, the ID token checked, the member found or made. */
export async function finishSso(
  db: Db,
  config: Config,
  input: { code: string | undefined; state: string; error: string | undefined },
  origin: string,
  client: ClientInfo,
  now: Date,
) {
  const [row] = await db
    .update(authTokens)
    .set({ usedAt: now })
    .where(
      and(
        eq(authTokens.tokenHash, await sha256Hex(input.state)),
        eq(authTokens.kind, 'oidc'),
        isNull(authTokens.usedAt),
        gt(authTokens.expiresAt, now),
      ),
    )
    .returning();
  if (!row?.accountId || !row.data?.verifier || !row.data.nonce)
    throw new ApiError('unauthorized', SSO_FAILED);
  if (input.error || !input.code) throw new ApiError('unauthorized', SSO_FAILED);
  const [account] = await db.select().from(accounts).where(eq(accounts.id, row.accountId));
  const sso = account?.sso;
  if (!account?.ssoClientSecret || !sso?.enabled || account.plan !== 'enterprise')
    throw new ApiError('unauthorized', SSO_FAILED);
  const d = await discover(config, sso.issuer);
  let idToken: string;
  try {
    const clientSecret = await openSsoSecret(db, config, account.id, account.ssoClientSecret);
    const res = await fetch(d.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: input.code,
        redirect_uri: origin + SSO_CALLBACK_PATH,
        code_verifier: row.data.verifier,
        client_id: sso.clientId,
        client_secret: clientSecret,
      }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as { id_token?: string };
    if (!res.ok || typeof body.id_token !== 'string') throw new Error(`token endpoint ${res.status}`);
    idToken = body.id_token;
  } catch (e) {
    throw new ApiError('unauthorized', SSO_FAILED, undefined, { cause: e });
  }
  let claims: { sub?: string; email?: unknown; email_verified?: unknown; nonce?: unknown };
  try {
    // SECURITY: signature by the provider's published key, issuer, audience, expiry, and our nonce
    const verified = await jwtVerify(idToken, createRemoteJWKSet(new URL(d.jwks_uri)), {
      issuer: sso.issuer,
      audience: sso.clientId,
      algorithms: ['RS256', 'ES256', 'PS256', 'EdDSA'],
    });
    claims = verified.payload;
  } catch (e) {
    throw new ApiError('unauthorized', SSO_FAILED, undefined, { cause: e });
  }
  if (claims.nonce !== row.data.nonce || !claims.sub) throw new ApiError('unauthorized', SSO_FAILED);
  const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
  const domain = email.split('@')[1] ?? '';
  if (claims.email_verified !== true || !sso.domains.includes(domain))
    throw new ApiError(
      'forbidden',
      'Your identity provider did not confirm an address in a domain of this account',
    );
  // the member by provider subject, else by address in this account, else a new member (viewer)
  let [user] = await db
    .select()
    .from(users)
    .where(and(eq(users.accountId, account.id), eq(users.ssoSubject, claims.sub)));
  let created = false;
  if (!user) {
    const [byEmail] = await db.select().from(users).where(eq(users.email, email));
    if (byEmail && byEmail.accountId !== account.id)
      throw new ApiError('conflict', 'This e-mail address belongs to another Resistro account');
    if (byEmail) {
      [user] = await db
        .update(users)
        .set({ ssoSubject: claims.sub, emailVerifiedAt: byEmail.emailVerifiedAt ?? now })
        .where(eq(users.id, byEmail.id))
        .returning();
    } else {
      // no password anyone knows: the member logs in through the provider (or resets one later)
      const passwordHash = await hashPassword(randomToken(), config.pbkdf2Iterations);
      [user] = await db
        .insert(users)
        .values({
          accountId: account.id,
          email,
          passwordHash,
          role: 'viewer',
          canDownload: false,
          emailVerifiedAt: now,
          ssoSubject: claims.sub,
          createdAt: now,
        })
        .returning();
      created = true;
    }
  }
  if (!user) throw new ApiError('unauthorized', SSO_FAILED);
  const session = await createSession(db, config, user, now, client, 'sso');
  return { user: toUser(user), accountId: account.id, created, ...session };
}
