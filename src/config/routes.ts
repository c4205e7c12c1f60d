/**
 * The route table: every path Authly serves is named once here. Route plugins mount these paths and
 * discovery builds its URLs from the same table, so advertised and served paths cannot drift.
 */
export const ROUTES = {
  authorization: '/oauth/authorize',
  token: '/oauth/token',
  // RFC 9126 section 2: pushed authorization requests (PAR_ENABLED).
  pushedAuthorization: '/oauth/par',
  revocation: '/oauth/revoke',
  introspection: '/oauth/introspect',
  userinfo: '/oidc/userinfo',
  endSession: '/oidc/logout',
  // RFC 7591 section 3 and the RFC 7592 client configuration endpoint (registration_client_uri).
  registration: '/oauth/register',
  registrationClient: '/oauth/register/:client_id',
  jwks: '/.well-known/jwks.json',
  openidConfiguration: '/.well-known/openid-configuration',
  openidConfigurationAlias: '/.well-known/openid_configuration',
  oauthAuthorizationServer: '/.well-known/oauth-authorization-server',
  // RFC 8628: the device authorization endpoint, and the page where a person enters the device's user code.
  deviceAuthorization: '/oauth/device_authorization',
  device: '/device',
  deviceConfirm: '/device/confirm',
  interaction: '/interaction/:uid',
  interactionLogin: '/interaction/:uid/login',
  interactionConsent: '/interaction/:uid/consent',
  // Passkeys (WebAuthn) in the sign-in: the options of a ceremony bound to this interaction, and its assertion.
  interactionPasskeyOptions: '/interaction/:uid/passkey/options',
  interactionPasskey: '/interaction/:uid/passkey',
  // The user's own account (issue 12 §4): not in discovery; the README names it.
  account: '/account',
  accountSignIn: '/account/sign-in',
  accountCallback: '/account/callback',
  accountSignOut: '/account/sign-out',
  accountProfile: '/account/profile',
  accountSecurity: '/account/security',
  accountPassword: '/account/security/password',
  accountSessions: '/account/sessions',
  accountSessionEnd: '/account/sessions/end',
  accountSessionsEndOthers: '/account/sessions/end-others',
  accountApplications: '/account/applications',
  accountApplicationRevoke: '/account/applications/revoke',
  accountPasskeys: '/account/security/passkeys',
  accountPasskeyOptions: '/account/security/passkeys/options',
  accountPasskeyRename: '/account/security/passkeys/rename',
  accountPasskeyRemove: '/account/security/passkeys/remove',
  // The passkey pages' script, served by Authly (long cache; the page links it with its version and integrity).
  passkeyScript: '/assets/webauthn.js',
  // Issue 12 §2: the pages of mailed single-use links, recovery and sign-up; not in discovery either.
  forgotPassword: '/forgot-password',
  resetPassword: '/reset-password',
  verifyEmail: '/verify-email',
  resendVerification: '/verify-email/resend',
  acceptInvitation: '/invitation',
  signUp: '/sign-up',
  accountEmail: '/account/email',
  // The second step of a sign-in (one-time code, or TOTP set-up when the policy requires a factor).
  interactionMfa: '/interaction/:uid/mfa',
  interactionMfaContinue: '/interaction/:uid/mfa/continue',
  accountTotp: '/account/security/totp',
  accountTotpDisable: '/account/security/totp/disable',
  accountRecoveryCodes: '/account/security/totp/recovery-codes',
  // The pages' stylesheet and the brand logo, under content-hashed names (src/routes/assets/).
  asset: '/assets/:file',
  interactionSwitchAccount: '/interaction/:uid/switch-account',
  admin: '/admin',
  // The admin API's OpenAPI 3.1 document: public (it holds no data), outside the admin token check.
  adminOpenApi: '/admin/openapi.json',
  // The operator's web console (issue 14 §3): a browser app on the admin API; not in discovery.
  console: '/console',
  consoleDeepLink: '/console/*',
  consoleAssets: '/console/assets/',
  health: '/health',
  healthReady: '/health/ready',
  metrics: '/metrics',
} as const;

export type RouteName = keyof typeof ROUTES;

/** Absolute URL of a route under the issuer, with `:params` filled in. */
export function urlFor(issuer: string, name: RouteName, params: Record<string, string> = {}): string {
  return issuer + pathFor(name, params);
}

/** Path of a route with `:params` filled in. */
export function pathFor(name: RouteName, params: Record<string, string> = {}): string {
  return ROUTES[name].replace(/:(\w+)/g, (_, key: string) => encodeURIComponent(params[key] ?? ''));
}
