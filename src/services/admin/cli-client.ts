import type { Queryable } from '../../db/db.js';
import type { Client } from '../../repositories/clients-repository.js';
import { ensureBuiltInClient } from './built-in-client.js';
import { CLI_CLIENT_ID, CLI_LOGIN_SCOPE } from './cli-client-names.js';

// The names live in a leaf module so the CLI can use them without loading the client machinery.
export { CLI_CLIENT_ID, CLI_LOGIN_SCOPE } from './cli-client-names.js';

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
