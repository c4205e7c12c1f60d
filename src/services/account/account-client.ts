import type { Queryable } from '../../db/db.js';
import type { Client } from '../../repositories/clients-repository.js';
import { ensureBuiltInClient } from '../admin/built-in-client.js';

/**
 * The account page signs in like any application: an authorization request through Authly itself by this
 * built-in first-party public client, so every factor, throttle, lockout and MFA rule of the sign-in
 * applies unchanged (issue 12 §4). It is created at start, and its whole definition is restored at every
 * start like the bootstrap admin client's; through the admin API only authly:admin may change it
 * (src/services/admin/privilege-rules.ts, rule 8), since a redirect URI added to it would receive codes
 * for any signed-in user without a consent screen.
 */
export const ACCOUNT_CLIENT_ID = 'authly-account';

/** The callback path of the account sign-in (ROUTES.accountCallback); services do not import the route table. */
export const ACCOUNT_CALLBACK_PATH = '/account/callback';

export function accountCallbackUri(issuer: string): string {
  return `${issuer}${ACCOUNT_CALLBACK_PATH}`;
}

/** Everything that makes the client safe: public, PKCE, one redirect URI on the issuer, openid only, active. */
export function accountClientDefinition(issuer: string) {
  return {
    // Shown on the sign-in page as "to continue to Your account".
    clientName: 'Your account',
    clientType: 'public',
    clientSecretHash: null,
    tokenEndpointAuthMethod: 'none',
    redirectUris: [accountCallbackUri(issuer)],
    postLogoutRedirectUris: [],
    grantTypes: ['authorization_code'],
    responseTypes: ['code'],
    scope: 'openid',
    // First party: the user is signing in to Authly itself, there is nothing to consent to.
    skipConsent: true,
    requirePkce: true,
    isActive: true,
    allowedResources: [],
    registrationType: 'admin',
  } satisfies Partial<Client>;
}

/**
 * Creates the account client or restores its definition (only what differs is written, so a restart with
 * the same issuer writes nothing). Runs inside bootstrap's transaction; true when something was written.
 */
export async function ensureAccountClient(tx: Queryable, issuer: string): Promise<boolean> {
  return ensureBuiltInClient(tx, ACCOUNT_CLIENT_ID, accountClientDefinition(issuer));
}
