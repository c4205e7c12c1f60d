import { AccessDenied, AuthorizationPending, ExpiredToken, InvalidGrant, InvalidRequest, SlowDown } from '../errors/oauth-errors.js';
import { parseScope } from '../lib/scopes.js';
import { pollDeviceAuthorization } from '../repositories/device-authorizations-repository.js';
import { grantedResources, scopesForResources } from '../services/resource-indicators.js';
import { issueTokens } from '../services/token-service.js';
import { hashOpaqueToken } from '../tokens/opaque-token.js';
import { dpopBinding, type GrantHandler } from './grant-handler.js';

export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * RFC 8628 section 3.4/3.5: the device polls with its device_code. One statement answers the poll
 * (src/repositories/device-authorizations-repository.ts): it records the poll, raises the interval when the
 * device polls too fast, and moves an approved request to issued, so tokens are issued once however many
 * replicas are polled at the same moment. Then tokens as the code grant issues them (an ID token with
 * `openid`, a refresh token with `offline_access` for a client registered for refresh_token).
 */
export const deviceCodeGrant: GrantHandler = {
  grantType: DEVICE_CODE_GRANT_TYPE,
  parameters: ['device_code', 'resource'],
  isEnabled: (config) => config.deviceGrant.enabled,
  async handle(ctx, client, { params, resources: requested, dpopJkt }) {
    const deviceCode = params.device_code;
    if (!deviceCode) throw new InvalidRequest('device_code is required');

    const poll = await pollDeviceAuthorization(ctx.db, hashOpaqueToken(deviceCode), client.clientId);
    if (!poll) throw new InvalidGrant('device_code is invalid');
    // Section 3.5 names no error for a code that already gave its tokens: it is no longer a valid grant.
    if (poll.previousStatus === 'issued') throw new InvalidGrant('device_code was already used');
    if (poll.previousStatus === 'denied') throw new AccessDenied('the user denied the request');
    if (poll.expiresAt.getTime() <= Date.now()) throw new ExpiredToken('device_code has expired');
    if (poll.previousStatus === 'pending') {
      // Section 3.5: slow_down is "a variant of authorization_pending"; the interval is already 5 s longer.
      if (poll.slowDown) throw new SlowDown('polling too fast; the interval was increased by 5 seconds');
      throw new AuthorizationPending('the user has not yet approved the request');
    }

    const grant = poll.grant;
    if (!grant || grant.revokedAt || !grant.userActive) throw new InvalidGrant('authorization grant is no longer valid');
    const scopes = parseScope(grant.scope);
    const resources = await grantedResources(ctx, client, grant.resources, requested, scopes);
    return issueTokens(ctx, ctx.db, {
      client,
      scopes: scopesForResources(scopes, resources, false),
      resources,
      user: { userId: grant.userId, grantId: grant.id, authTime: grant.authTime, sid: grant.sid, nonce: null, amr: grant.amr, acr: grant.acr },
      includeRefreshToken: scopes.includes('offline_access') && client.grantTypes.includes('refresh_token'),
      refreshTokenScopes: scopes,
      refreshTokenResources: grant.resources,
      includeIdToken: scopes.includes('openid'),
      ...dpopBinding(client, dpopJkt),
    });
  },
};
