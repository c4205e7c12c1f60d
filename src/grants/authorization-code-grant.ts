import { InvalidGrant, InvalidRequest } from '../errors/oauth-errors.js';
import { PKCE_VALUE, verifyS256 } from '../lib/pkce.js';
import { parseScope } from '../lib/scopes.js';
import { consumeAuthorizationCode, type AuthorizationCode } from '../repositories/authorization-codes-repository.js';
import { findGrantWithUserStatus, revokeGrant } from '../repositories/grants-repository.js';
import { finishTokens, recordTokens } from '../services/token-service.js';
import { hashOpaqueToken } from '../tokens/opaque-token.js';
import type { GrantHandler } from './grant-handler.js';

/** RFC 7636 section 4.6 and RFC 9700 section 2.1.1 (no verifier without a challenge: PKCE downgrade). */
function checkPkce(code: AuthorizationCode, verifier: string | undefined): InvalidGrant | undefined {
  if (code.codeChallenge === null) {
    return verifier === undefined ? undefined : new InvalidGrant('code_verifier sent but no code_challenge was used');
  }
  if (verifier === undefined) return new InvalidGrant('code_verifier is required');
  if (!PKCE_VALUE.test(verifier) || !verifyS256(verifier, code.codeChallenge)) {
    return new InvalidGrant('code_verifier does not match the code_challenge');
  }
  return undefined;
}

export const authorizationCodeGrant: GrantHandler = {
  grantType: 'authorization_code',
  async handle(ctx, client, params) {
    const { code, redirect_uri: redirectUri, code_verifier: verifier } = params;
    if (!code) throw new InvalidRequest('code is required');
    if (!redirectUri) throw new InvalidRequest('redirect_uri is required');

    // Failures return their error instead of throwing, so the transaction commits: a code is used up by
    // any exchange attempt, and a replay's revocation sticks.
    const outcome = await ctx.db.transaction(async (tx) => {
      const consumed = await consumeAuthorizationCode(tx, hashOpaqueToken(code), client.clientId);
      if (consumed.outcome === 'unknown') return new InvalidGrant('authorization code is invalid');
      if (consumed.outcome === 'replayed') {
        // RFC 6749 section 4.1.2: a second use fails and revokes what the first use issued.
        await revokeGrant(tx, consumed.grantId);
        ctx.audit.record('token.reuse_detected', { client_id: client.clientId, grant_id: consumed.grantId, reason: 'authorization_code_replayed' });
        return new InvalidGrant('authorization code was already used');
      }
      const authCode = consumed.code;
      if (authCode.expiresAt.getTime() <= Date.now()) return new InvalidGrant('authorization code has expired');
      if (authCode.redirectUri !== redirectUri) return new InvalidGrant('redirect_uri does not match the authorization request');
      const pkceError = checkPkce(authCode, verifier);
      if (pkceError) return pkceError;

      const grant = await findGrantWithUserStatus(tx, authCode.grantId);
      if (!grant || grant.revokedAt || !grant.userActive) return new InvalidGrant('authorization grant is no longer valid');

      const scopes = parseScope(grant.scope);
      return recordTokens(ctx, tx, {
        client,
        scopes,
        user: { userId: grant.userId, grantId: grant.id, authTime: grant.authTime, sid: grant.sid, nonce: grant.nonce },
        includeRefreshToken: scopes.includes('offline_access') && client.grantTypes.includes('refresh_token'),
        includeIdToken: scopes.includes('openid'),
      });
    });
    if (outcome instanceof InvalidGrant) throw outcome;
    // Signed after the commit: the row locks and the pooled connection are not held for the signatures.
    return finishTokens(ctx, outcome);
  },
};
