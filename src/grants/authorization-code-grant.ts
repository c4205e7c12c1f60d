import { InvalidGrant, InvalidRequest } from '../errors/oauth-errors.js';
import { PKCE_VALUE, s256, verifyS256 } from '../lib/pkce.js';
import { parseScope } from '../lib/scopes.js';
import { consumeAuthorizationCode, exchangeLiveAuthorizationCode, type AuthorizationCode } from '../repositories/authorization-codes-repository.js';
import { revokeGrant } from '../repositories/grants-repository.js';
import type { Client } from '../repositories/clients-repository.js';
import type { ServiceContext } from '../services/context.js';
import { grantedResources, mayIssueForIssuer, scopesForResources } from '../services/resource-indicators.js';
import { finishTokens, freshTokens, issueTokens, recordedFrom, type RecordedTokens } from '../services/token-service.js';
import { hashOpaqueToken } from '../tokens/opaque-token.js';
import { dpopBinding, type GrantHandler } from './grant-handler.js';

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

/**
 * RFC 6749 section 4.1.3. RFC 8707 section 2.2: `resource` may name some of the resources the authorization
 * was for; the access token is for those (or all of the grant's), with the scopes they accept, while the
 * refresh token keeps the whole grant.
 */
export const authorizationCodeGrant: GrantHandler = {
  grantType: 'authorization_code',
  parameters: ['code', 'redirect_uri', 'code_verifier', 'resource'],
  async handle(ctx, client, { params, resources: requested, dpopJkt }) {
    const { code, redirect_uri: redirectUri, code_verifier: verifier } = params;
    if (!code) throw new InvalidRequest('code is required');
    if (!redirectUri) throw new InvalidRequest('redirect_uri is required');

    const codeHash = hashOpaqueToken(code);
    if (verifier !== undefined && PKCE_VALUE.test(verifier) && mayIssueForIssuer(ctx, requested)) {
      const exchanged = await exchangeInOneStatement(ctx, client, codeHash, redirectUri, verifier, dpopJkt);
      if (exchanged) return finishTokens(ctx, exchanged);
    }

    // No transaction: the one atomic UPDATE that uses the code up (and reads its grant) is what makes it
    // single-use, whatever happens next; tokens issued under a grant revoked meanwhile are dead on arrival,
    // since every later use of a token checks its grant.
    const consumed = await consumeAuthorizationCode(ctx.db, codeHash, client.clientId);
    if (consumed.outcome === 'unknown') throw new InvalidGrant('authorization code is invalid');
    if (consumed.outcome === 'replayed') {
      // RFC 6749 section 4.1.2: a second use fails and revokes what the first use issued.
      await ctx.db.transaction((tx) => revokeGrant(tx, consumed.grantId));
      ctx.audit.record('token.reuse_detected', { client_id: client.clientId, grant_id: consumed.grantId, reason: 'authorization_code_replayed' });
      throw new InvalidGrant('authorization code was already used');
    }
    const { code: authCode, grant } = consumed;
    if (authCode.expiresAt.getTime() <= Date.now()) throw new InvalidGrant('authorization code has expired');
    if (authCode.redirectUri !== redirectUri) throw new InvalidGrant('redirect_uri does not match the authorization request');
    const pkceError = checkPkce(authCode, verifier);
    if (pkceError) throw pkceError;
    // RFC 9449 section 10: a code requested with dpop_jkt is exchanged only with a proof by that key.
    if (authCode.dpopJkt && authCode.dpopJkt !== dpopJkt) {
      throw new InvalidGrant(dpopJkt ? 'the DPoP proof key does not match the dpop_jkt of the authorization request' : 'a DPoP proof is required: the authorization request was bound with dpop_jkt');
    }
    if (grant.revokedAt || !grant.userActive) throw new InvalidGrant('authorization grant is no longer valid');

    const scopes = parseScope(grant.scope);
    const resources = await grantedResources(ctx, client, grant.resources, requested, scopes);
    return issueTokens(ctx, ctx.db, {
      client,
      scopes: scopesForResources(scopes, resources, false),
      resources,
      user: { userId: grant.userId, grantId: grant.id, authTime: grant.authTime, sid: grant.sid, nonce: grant.nonce, amr: grant.amr, acr: grant.acr },
      includeRefreshToken: scopes.includes('offline_access') && mayRefresh(client),
      refreshTokenScopes: scopes,
      refreshTokenResources: grant.resources,
      includeIdToken: scopes.includes('openid'),
      ...dpopBinding(client, dpopJkt),
    });
  },
};


const mayRefresh = (client: Client) => client.grantTypes.includes('refresh_token');

/**
 * The common case, a valid code exchanged once with its verifier, in one statement
 * (exchangeLiveAuthorizationCode); undefined when anything is off, and the path above decides and reports.
 */
async function exchangeInOneStatement(
  ctx: ServiceContext,
  client: Client,
  codeHash: string,
  redirectUri: string,
  verifier: string,
  dpopJkt: string | undefined,
): Promise<RecordedTokens | undefined> {
  const fresh = freshTokens(ctx, client, mayRefresh(client));
  const binding = dpopBinding(client, dpopJkt);
  const exchanged = await exchangeLiveAuthorizationCode(ctx.db, {
    codeHash,
    clientId: client.clientId,
    redirectUri,
    challenge: s256(verifier),
    access: { jti: fresh.jti, issuedAt: fresh.issuedAt, expiresAt: fresh.accessExpiresAt },
    refresh: fresh.refreshToken ? { hash: fresh.refreshToken.hash, expiresAt: fresh.refreshExpiresAt, dpopJkt: binding.refreshTokenDpopJkt ?? null } : null,
    dpopJkt: binding.dpopJkt ?? null,
  });
  if (!exchanged) return undefined;
  const scopes = parseScope(exchanged.scope);
  return recordedFrom(fresh, {
    client,
    scopes,
    user: {
      userId: exchanged.userId,
      grantId: exchanged.grantId,
      authTime: exchanged.authTime,
      sid: exchanged.sid,
      nonce: exchanged.nonce,
      amr: exchanged.amr,
      acr: exchanged.acr,
    },
    includeRefreshToken: exchanged.refreshTokenIssued,
    includeIdToken: scopes.includes('openid'),
    ...binding,
  });
}
