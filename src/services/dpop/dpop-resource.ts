import { InvalidToken, type OAuthError } from '../../errors/oauth-errors.js';
import type { ServiceContext } from '../context.js';
import { verifyDpopProof } from './dpop-proof.js';

/** An access token as presented to a protected resource: its scheme (RFC 6750 or RFC 9449 section 7.1). */
export interface PresentedAccessToken {
  scheme: 'Bearer' | 'DPoP';
  token: string;
}

/** The request around it, for the proof's htm, htu and the proof itself. */
export interface ResourceRequest {
  dpopHeader: string | string[] | undefined;
  method: string;
  url: string;
}

/** RFC 9449 section 7.1: errors about a DPoP request (or a DPoP-bound token) carry a DPoP challenge. */
export function withDpopChallenge<E extends OAuthError>(ctx: Pick<ServiceContext, 'config'>, err: E): E {
  err.dpopChallengeAlgs ??= ctx.config.dpop.signingAlgs;
  return err;
}

/**
 * RFC 9449 section 7: the sender constraint of an access token at a protected resource, after the token
 * itself was found live. A DPoP-bound token must come with the DPoP scheme and a proof by its key, carrying
 * `ath` (section 7.2: a resource "MUST" refuse a DPoP-bound token presented as Bearer, or it is a bearer
 * token after all); a Bearer token must not be presented with the DPoP scheme. `boundJkt` is the token's
 * recorded thumbprint (null: Bearer). Bearer requests for Bearer tokens cost nothing here.
 */
export async function checkSenderConstraint(
  ctx: ServiceContext,
  presented: PresentedAccessToken,
  boundJkt: string | null | undefined,
  request: ResourceRequest,
): Promise<void> {
  if (presented.scheme === 'Bearer') {
    if (boundJkt) throw withDpopChallenge(ctx, new InvalidToken('the access token is DPoP-bound: present it with the DPoP scheme and a DPoP proof'));
    return;
  }
  if (!boundJkt) throw withDpopChallenge(ctx, new InvalidToken('the access token is not DPoP-bound: present it with the Bearer scheme'));
  const proof = await verifyDpopProof(ctx, {
    header: request.dpopHeader,
    method: request.method,
    url: request.url,
    accessToken: presented.token,
    at: 'resource',
  });
  if (proof.jkt !== boundJkt) throw withDpopChallenge(ctx, new InvalidToken('the DPoP proof is not signed by the key the access token is bound to'));
}
