import { InvalidGrant, InvalidRequest, InvalidScope } from '../errors/oauth-errors.js';
import { isSubset, parseScope } from '../lib/scopes.js';
import { findGrant, revokeGrant } from '../repositories/grants-repository.js';
import { findRefreshTokenForUpdate, markRefreshTokenRotated } from '../repositories/tokens-repository.js';
import { findUserById } from '../repositories/users-repository.js';
import { issueTokens } from '../services/token-service.js';
import { hashOpaqueToken } from '../tokens/opaque-token.js';
import type { GrantHandler } from './grant-handler.js';

/**
 * Every refresh rotates the refresh token. The row is locked FOR UPDATE, so concurrent uses of one token
 * serialize: the first rotates, the rest see a rotated token, which is a replay and revokes the family
 * (RFC 9700 section 4.14.2).
 */
export const refreshTokenGrant: GrantHandler = {
  grantType: 'refresh_token',
  async handle(ctx, client, params) {
    const { refresh_token: refreshToken, scope } = params;
    if (!refreshToken) throw new InvalidRequest('refresh_token is required');
    const tokenHash = hashOpaqueToken(refreshToken);

    const outcome = await ctx.db.transaction(async (tx) => {
      const token = await findRefreshTokenForUpdate(tx, tokenHash);
      if (!token || token.clientId !== client.clientId) return new InvalidGrant('refresh token is invalid');
      if (token.revokedAt) return new InvalidGrant('refresh token has been revoked');
      if (token.rotatedAt) {
        await revokeGrant(tx, token.grantId);
        return new InvalidGrant('refresh token was already used; its token family has been revoked');
      }
      if (token.expiresAt.getTime() <= Date.now()) return new InvalidGrant('refresh token has expired');

      const grant = await findGrant(tx, token.grantId);
      const user = await findUserById(tx, token.userId);
      if (!grant || grant.revokedAt || !user?.isActive) return new InvalidGrant('authorization grant is no longer valid');

      const original = parseScope(token.scope);
      const requested = scope === undefined ? original : parseScope(scope);
      // RFC 6749 section 6: a refresh may narrow the scope, never widen it.
      if (!isSubset(requested, original)) return new InvalidScope('requested scope exceeds the original grant');

      await markRefreshTokenRotated(tx, tokenHash);
      return issueTokens(ctx, tx, {
        client,
        scopes: requested,
        user: { userId: token.userId, grantId: token.grantId, authTime: grant.authTime, sid: grant.sid, nonce: null },
        includeRefreshToken: true,
        refreshTokenScopes: original,
        includeIdToken: requested.includes('openid'),
      });
    });
    if (outcome instanceof InvalidGrant || outcome instanceof InvalidScope) throw outcome;
    return outcome;
  },
};
