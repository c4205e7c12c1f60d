/**
 * The route table: every path Authly serves is named once here. Route plugins mount these paths and
 * discovery builds its URLs from the same table, so advertised and served paths cannot drift.
 */
export const ROUTES = {
  authorization: '/oauth/authorize',
  token: '/oauth/token',
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
  interaction: '/interaction/:uid',
  interactionLogin: '/interaction/:uid/login',
  interactionConsent: '/interaction/:uid/consent',
  // The user's own account (issue 12 §4): not in discovery; the README names it.
  account: '/account',
  accountSignIn: '/account/sign-in',
  // The pages' stylesheet and the brand logo, under content-hashed names (src/routes/assets/).
  asset: '/assets/:file',
  interactionSwitchAccount: '/interaction/:uid/switch-account',
  admin: '/admin',
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
