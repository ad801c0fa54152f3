// A small OpenID Connect provider for the local stack: the stand-in for a customer's identity
// provider (Entra ID, Okta, Google, Keycloak…) when testing single sign-on. It speaks the real
// protocol: discovery, the authorization code flow with PKCE (S256), client_secret_post/basic,
// RS256-signed ID tokens with nonce, and a JWKS. Log-in is a form that asks only for an e-mail
// address (any address in the allowed domains "exists").
//   GET  /.well-known/openid-configuration
//   GET  /authorize?…        the log-in form;  POST /authorize  issues the code and redirects back
//   POST /token              code + code_verifier + client credentials → id_token
//   GET  /jwks               the signing key
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export type OidcProvider = {
  issuer: string;
  clientId: string;
  clientSecret: string;
  port: number;
  /** e.g. to check that a log-in went through the provider */
  issuedCodes(): number;
  stop(): Promise<void>;
};

type Pending = {
  clientId: string;
  redirectUri: string;
  nonce: string | undefined;
  challenge: string;
  email: string;
  expiresAt: number;
};

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
      if (body.length > 100_000) req.destroy();
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

export async function startOidcProvider(opts: {
  port: number;
  host?: string;
  clientId?: string;
  clientSecret?: string;
}): Promise<OidcProvider> {
  const host = opts.host ?? '127.0.0.1';
  const issuer = `http://${host}:${opts.port}`;
  const clientId = opts.clientId ?? 'resistro-local';
  const clientSecret = opts.clientSecret ?? randomBytes(24).toString('base64url');
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = randomBytes(8).toString('hex');
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const codes = new Map<string, Pending>();
  let issued = 0;

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const json = (status: number, body: unknown) =>
      res
        .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify(body));
    try {
      if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') {
        return json(200, {
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          scopes_supported: ['openid', 'email', 'profile'],
          token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
          code_challenge_methods_supported: ['S256'],
          claims_supported: ['sub', 'email', 'email_verified', 'nonce'],
        });
      }
      if (req.method === 'GET' && url.pathname === '/jwks') return json(200, { keys: [jwk] });
      if (url.pathname === '/authorize') {
        const params = req.method === 'POST' ? new URLSearchParams(await readBody(req)) : url.searchParams;
        const p = (k: string) => params.get(k) ?? '';
        if (p('client_id') !== clientId) return json(400, { error: 'unauthorized_client' });
        if (p('response_type') !== 'code' || !p('scope').split(' ').includes('openid'))
          return json(400, {
            error: 'invalid_request',
            error_description: 'response_type=code and scope openid',
          });
        if (p('code_challenge_method') !== 'S256' || !p('code_challenge'))
          return json(400, { error: 'invalid_request', error_description: 'PKCE S256 is required' });
        let redirect: URL;
        try {
          redirect = new URL(p('redirect_uri'));
        } catch {
          return json(400, { error: 'invalid_request', error_description: 'redirect_uri' });
        }
        if (req.method === 'GET') {
          const hidden = [...params.entries()]
            .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
            .join('');
          const page = `<!doctype html><meta charset="utf-8"><title>Local OIDC provider</title>
<h1>Local OIDC provider</h1><p>Log in as (any address):</p>
<form method="post" action="/authorize">${hidden}<label>E-mail <input id="oidc-email" name="login_email" type="email" value="${esc(p('login_hint'))}"></label> <button type="submit">Sign in</button></form>`;
          return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
        }
        const email = p('login_email').trim().toLowerCase();
        if (!/^[^\s@]+@[^\s@]+$/.test(email)) return json(400, { error: 'access_denied' });
        const code = randomBytes(24).toString('base64url');
        codes.set(code, {
          clientId,
          redirectUri: redirect.href,
          nonce: p('nonce') || undefined,
          challenge: p('code_challenge'),
          email,
          expiresAt: Date.now() + 60_000,
        });
        issued++;
        redirect.searchParams.set('code', code);
        if (p('state')) redirect.searchParams.set('state', p('state'));
        redirect.searchParams.set('iss', issuer);
        return res.writeHead(302, { location: redirect.href }).end();
      }
      if (req.method === 'POST' && url.pathname === '/token') {
        const body = new URLSearchParams(await readBody(req));
        let id = body.get('client_id') ?? '';
        let secret = body.get('client_secret') ?? '';
        const basic = req.headers.authorization?.match(/^Basic (.+)$/);
        if (basic?.[1]) {
          const [u = '', pw = ''] = Buffer.from(basic[1], 'base64').toString().split(':');
          id = decodeURIComponent(u);
          secret = decodeURIComponent(pw);
        }
        if (id !== clientId || secret !== clientSecret) return json(401, { error: 'invalid_client' });
        const code = body.get('code') ?? '';
        const pending = codes.get(code);
        codes.delete(code); // single use
        if (body.get('grant_type') !== 'authorization_code' || !pending || pending.expiresAt < Date.now())
          return json(400, { error: 'invalid_grant' });
        if (body.get('redirect_uri') !== pending.redirectUri) return json(400, { error: 'invalid_grant' });
        const verifier = body.get('code_verifier') ?? '';
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        if (challenge !== pending.challenge)
          return json(400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
        const sub = createHash('sha256').update(`${issuer}|${pending.email}`).digest('hex').slice(0, 24);
        const idToken = await new SignJWT({
          email: pending.email,
          email_verified: true,
          ...(pending.nonce && { nonce: pending.nonce }),
        })
          .setProtectedHeader({ alg: 'RS256', kid })
          .setIssuer(issuer)
          .setSubject(sub)
          .setAudience(clientId)
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(privateKey);
        return json(200, {
          access_token: randomBytes(24).toString('base64url'),
          token_type: 'Bearer',
          expires_in: 300,
          id_token: idToken,
        });
      }
      return json(404, { error: 'not_found' });
    } catch (e) {
      return json(500, { error: 'server_error', error_description: (e as Error).message });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  return {
    issuer,
    clientId,
    clientSecret,
    port: opts.port,
    issuedCodes: () => issued,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
