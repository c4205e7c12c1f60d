import type { Queryable } from '../../db/db.js';
import type { Client } from '../../repositories/clients-repository.js';
import { ensureBuiltInClient } from './built-in-client.js';

/**
 * `authly admin login` signs an operator in as a person through the device authorization grant (RFC 8628)
 * with this built-in public client, instead of sharing the admin client's secret. It can be granted
 * `authly:admin`, but only to a user with is_admin: a user grants only what they may
 * (grantableScopes in src/services/authorization-service.ts), and every factor, lockout and MFA rule of the
 * sign-in applies. Like `authly-account` it is created at start, its whole definition restored at every
 * start, and through the admin API only authly:admin may change it (src/services/admin/privilege-rules.ts).
 */
export const CLI_CLIENT_ID = 'authly-cli';

/** The scope `authly admin login` asks for: the admin API, an ID token naming who signed in, and a refresh token. */
export const CLI_LOGIN_SCOPE = 'openid offline_access authly:admin';

/** Public (a CLI keeps no secret), device grant and refresh (rotated at every use), no redirect URI at all. */
export function cliClientDefinition() {
  return {
    // Shown on the /device confirmation ("Authly CLI on a device asks for access to your account").
    clientName: 'Authly CLI',
    clientType: 'public',
    clientSecretHash: null,
    tokenEndpointAuthMethod: 'none',
    redirectUris: [],
    postLogoutRedirectUris: [],
    grantTypes: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    responseTypes: [],
    scope: CLI_LOGIN_SCOPE,
    // First party; the /device confirmation page (client, scopes, the code to compare) is the person's yes.
    skipConsent: true,
    requirePkce: true,
    isActive: true,
    allowedResources: [],
    registrationType: 'admin',
  } satisfies Partial<Client>;
}

/** Creates the CLI client or restores its definition (only what differs is written); true when something was written. */
export async function ensureCliClient(tx: Queryable): Promise<boolean> {
  return ensureBuiltInClient(tx, CLI_CLIENT_ID, cliClientDefinition());
}
