import { InvalidScope, UnauthorizedClient } from '../errors/oauth-errors.js';
import { defaultResources, requestedResources, scopesForResources } from '../services/resource-indicators.js';
import { resolveRequestedScopes, USER_ONLY_SCOPES } from '../services/scope-policy.js';
import { issueTokens } from '../services/token-service.js';
import type { GrantHandler } from './grant-handler.js';

/**
 * RFC 6749 section 4.4: confidential clients only; the token carries no user. RFC 8707 section 2.2: each
 * `resource` must be registered and allowed for the client; none means DEFAULT_RESOURCE (or the issuer).
 */
export const clientCredentialsGrant: GrantHandler = {
  grantType: 'client_credentials',
  parameters: ['scope', 'resource'],
  async handle(ctx, client, { params, resources: requested, dpopJkt }) {
    if (client.clientType !== 'confidential') {
      throw new UnauthorizedClient('client_credentials requires a confidential client');
    }
    const scopes = await resolveRequestedScopes(ctx, client, params.scope, (allowed) =>
      allowed.filter((s) => !USER_ONLY_SCOPES.has(s)),
    );
    const userScope = scopes.find((s) => USER_ONLY_SCOPES.has(s));
    if (userScope) throw new InvalidScope(`${userScope} needs a user and is not available with client_credentials`);
    const resources = requested.length > 0 ? await requestedResources(ctx, client, requested) : await defaultResources(ctx, client, scopes);
    const tokenScopes = scopesForResources(scopes, resources, params.scope !== undefined);
    // One write (the access token's jti row), so no transaction: BEGIN and COMMIT would triple the round trips.
    return issueTokens(ctx, ctx.db, { client, scopes: tokenScopes, resources, includeRefreshToken: false, includeIdToken: false, ...(dpopJkt ? { dpopJkt } : {}) });
  },
};
