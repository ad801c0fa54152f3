// Identity: e-mail verification, password reset and change, two-factor authentication (TOTP),
// sessions, and OIDC single sign-on (issue 16).
import * as v from 'valibot';
import { Email, Id, MeResponse, Password } from './schemas.ts';
import { Text, Timestamp } from './text.ts';

/** A single-use secret from an e-mail link (base64url, 256 bits). */
export const LinkToken = v.pipe(Text, v.regex(/^[A-Za-z0-9_-]{20,100}$/, 'is not a valid link'));
/** A 6-digit code from an authenticator app, or a recovery code (xxxxx-xxxxx). */
export const TwoFactorCode = v.pipe(
  Text,
  v.trim(),
  v.regex(/^(\d{6}|[a-z0-9]{5}-?[a-z0-9]{5})$/i, 'must be the 6-digit code or a recovery code'),
);

export const LoginResponse = v.union([
  MeResponse,
  v.object({
    /** the password was right; send a code to /auth/login/2fa with this challenge */
    twoFactorRequired: v.literal(true),
    challenge: v.string(),
    expiresAt: Timestamp,
  }),
]);
export const Login2faBody = v.strictObject({
  challenge: LinkToken,
  code: TwoFactorCode,
});

export const VerifyEmailBody = v.strictObject({ token: LinkToken });
export const VerifyEmailResponse = v.object({
  /** what the link confirmed */
  kind: v.picklist(['verify_email', 'change_email', 'verify_alert_email']),
  email: v.string(),
});
export const PasswordResetRequestBody = v.strictObject({ email: Email });
export const PasswordResetBody = v.strictObject({ token: LinkToken, password: Password });
export const ChangePasswordBody = v.strictObject({
  currentPassword: v.pipe(Text, v.maxLength(200)),
  newPassword: Password,
});
export const ChangeEmailBody = v.strictObject({
  email: Email,
  password: v.pipe(Text, v.maxLength(200)),
});

export const TwoFactorSetupBody = v.strictObject({ password: v.pipe(Text, v.maxLength(200)) });
export const TwoFactorSetup = v.object({
  /** base32, for typing into an authenticator app */
  secret: v.string(),
  /** the otpauth:// URI the QR code holds */
  uri: v.string(),
});
export const TwoFactorEnableBody = v.strictObject({ code: TwoFactorCode });
export const RecoveryCodes = v.object({
  /** shown once; only their hashes are stored */
  recoveryCodes: v.array(v.string()),
});
export const TwoFactorDisableBody = v.strictObject({
  password: v.pipe(Text, v.maxLength(200)),
  code: TwoFactorCode,
});
export const RecoveryCodesBody = v.strictObject({ code: TwoFactorCode });

export const SecuritySettingsBody = v.strictObject({ require2fa: v.boolean() });

export const SessionInfo = v.object({
  id: Id,
  current: v.boolean(),
  /** parsed from the User-Agent, e.g. Chrome / Linux; null when unknown */
  browser: v.nullable(v.string()),
  os: v.nullable(v.string()),
  /** the client's network (a.b.c.0/24 or an IPv6 /48), never the full address */
  ipPrefix: v.nullable(v.string()),
  country: v.nullable(v.string()),
  method: v.picklist(['password', 'sso']),
  createdAt: Timestamp,
  lastSeenAt: Timestamp,
  expiresAt: Timestamp,
});
export const SessionList = v.object({ items: v.array(SessionInfo) });
export const RevokedSessions = v.object({ revoked: v.number() });

// ---------- OIDC single sign-on (Enterprise) ----------
const Https = v.pipe(Text, v.maxLength(500), v.url('must be a URL'));
export const SsoConfigBody = v.strictObject({
  /** the provider's issuer; its /.well-known/openid-configuration is read */
  issuer: Https,
  clientId: v.pipe(Text, v.minLength(1, 'is required'), v.maxLength(300, 'is too long')),
  /** write-only; omit to keep the stored one */
  clientSecret: v.optional(v.pipe(Text, v.minLength(1, 'is required'), v.maxLength(500, 'is too long'))),
  /** people with an address in these domains become members on their first log-in */
  domains: v.pipe(
    v.array(
      v.pipe(
        Text,
        v.trim(),
        v.toLowerCase(),
        v.regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'must be a domain like example.com'),
      ),
    ),
    v.minLength(1, 'name at least one domain'),
    v.maxLength(20, 'at most 20 domains'),
  ),
  enabled: v.boolean(),
});
export const SsoConfig = v.object({
  issuer: v.string(),
  clientId: v.string(),
  hasClientSecret: v.boolean(),
  domains: v.array(v.string()),
  enabled: v.boolean(),
  /** register this as the redirect URI at the provider */
  redirectUri: v.string(),
});
export const SsoConfigResponse = v.object({ sso: v.nullable(SsoConfig) });
export const SsoStartQuery = v.strictObject({ email: Email });
export const SsoStartResponse = v.object({ url: v.string() });

export type LoginResponse = v.InferOutput<typeof LoginResponse>;
export type SessionInfo = v.InferOutput<typeof SessionInfo>;
export type TwoFactorSetup = v.InferOutput<typeof TwoFactorSetup>;
export type SsoConfig = v.InferOutput<typeof SsoConfig>;
export const SsoCallbackQuery = v.object({
  code: v.optional(v.pipe(Text, v.maxLength(2000, 'is too long'))),
  state: v.pipe(Text, v.maxLength(200, 'is too long')),
  error: v.optional(v.pipe(Text, v.maxLength(200, 'is too long'))),
  error_description: v.optional(v.pipe(Text, v.maxLength(1000, 'is too long'))),
  iss: v.optional(v.pipe(Text, v.maxLength(500, 'is too long'))),
});
