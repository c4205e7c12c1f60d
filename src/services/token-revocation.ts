import { revokeGrant } from '../repositories/grants-repository.js';
import { findRefreshToken, revokeAccessTokenOfClient } from '../repositories/tokens-repository.js';
import type { Client } from '../repositories/clients-repository.js';
import { hashOpaqueToken } from '../tokens/opaque-token.js';
import { accessTokenReference } from './access-token-verifier.js';
import type { ServiceContext } from './context.js';
import { lookupOrder, type TokenKind } from './token-type-hint.js';

/**
 * RFC 7009 section 2.1. Finds the token (in the order the hint suggests) and revokes it if it was issued
 * to `client`; returns the kind revoked, or undefined when nothing was. Unknown, invalid, expired and
 * already revoked tokens, and other clients' tokens, revoke nothing, and the endpoint answers 200 for all
 * of them alike, so it is no oracle for whether a token exists or whose it is.
 *
 * - An access token is identified by its hash (opaque) or its signature and issuer (a JWT); its expiry is
 *   ignored, since a revoked-and-expired token is as dead as an expired one. Only that jti is revoked.
 * - A refresh token (opaque) is found by its SHA-256 hash in any state, and revokes its whole grant: every
 *   refresh and access token of the family (section 2.1 allows it, and a client revoking its refresh
 *   token means to end the authorization). A rotated one does the same, as its replay at the token
 *   endpoint would (RFC 9700 section 4.14.2).
 * - DPoP (RFC 9449): a proof is not required here. Section 5 binds a public client's refresh token for its
 *   use at the token endpoint, and RFC 7009 section 2.1 lets whoever holds a token revoke it, which ends the
 *   authorization and gains the holder nothing. When the request does carry a (verified) proof, though,
 *   the proof must be by the key a bound refresh token is bound to, or nothing is revoked: a proof that
 *   was sent is never ignored.
 */
export async function revokeToken(
  ctx: ServiceContext,
  client: Client,
  token: string,
  hint: string | undefined,
  dpopJkt?: string,
): Promise<TokenKind | undefined> {
  for (const kind of lookupOrder(hint)) {
    if (kind === 'refresh_token') {
      const found = await findRefreshToken(ctx.db, hashOpaqueToken(token));
      if (!found) continue;
      if (found.clientId !== client.clientId || found.revokedAt) return undefined;
      if (dpopJkt && found.dpopJkt && found.dpopJkt !== dpopJkt) return undefined;
      await ctx.db.transaction((tx) => revokeGrant(tx, found.grantId));
      return kind;
    }
    const reference = await accessTokenReference(ctx, token, { ignoreExpiry: true });
    if (!reference) continue;
    if (await revokeAccessTokenOfClient(ctx.db, reference.jti, client.clientId)) return kind;
    // A verified JWT is an access token; an opaque value may still be a refresh token.
    if (reference.claims) return undefined;
  }
  return undefined;
}
