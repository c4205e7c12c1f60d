import type { Queryable } from '../../db/db.js';
import type { Client } from '../../repositories/clients-repository.js';
import { ensureBuiltInClient } from './built-in-client.js';

/**
 * The web console at /console (issue 14 §3) signs an operator in through Authly itself with this built-in
 * public client: authorization code + PKCE S256 from the browser, so the console holds no secret and calls
 * only the admin API with the operator's own token. It registers `authly:admin`, which a user is granted
 * only with is_admin (grantableScopes in src/services/authorization-service.ts); `profile` gives the
 * username the console shows. Like `authly-account` and `authly-cli` it is created at start, its whole
 * definition restored at every start, and through the admin API only authly:admin may change it
 * (src/services/admin/privilege-rules.ts, rule 8): a redirect URI added to it would receive admin tokens.
 */
export const CONSOLE_CLIENT_ID = 'authly-console';

/** The console's paths (ROUTES.console*); services do not import the route table. */
export const CONSOLE_PATH = '/console';
export const CONSOLE_CALLBACK_PATH = '/console/callback';

/** What the console asks for: an ID token with the username, and the admin API. */
export const CONSOLE_SCOPE = 'openid profile authly:admin';

/** Public, PKCE, code flow only, redirect and post-logout URIs on the issuer, no refresh token, active. */
export function consoleClientDefinition(issuer: string) {
  return {
    // Shown on the sign-in page as "to continue to Authly console".
    clientName: 'Authly console',
    clientType: 'public',
    clientSecretHash: null,
    tokenEndpointAuthMethod: 'none',
    redirectUris: [`${issuer}${CONSOLE_CALLBACK_PATH}`],
    postLogoutRedirectUris: [`${issuer}${CONSOLE_PATH}`],
    grantTypes: ['authorization_code'],
    responseTypes: ['code'],
    scope: CONSOLE_SCOPE,
    // First party: the operator is signing in to Authly itself.
    skipConsent: true,
    requirePkce: true,
    isActive: true,
    allowedResources: [],
    registrationType: 'admin',
  } satisfies Partial<Client>;
}

/** Creates the console client or restores its definition (only what differs is written); true when something was written. */
export async function ensureConsoleClient(tx: Queryable, issuer: string): Promise<boolean> {
  return ensureBuiltInClient(tx, CONSOLE_CLIENT_ID, consoleClientDefinition(issuer));
}
