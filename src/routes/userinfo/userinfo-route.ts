import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ROUTES, urlFor } from '../../config/routes.js';
import { InsufficientScope, InvalidToken, OAuthError } from '../../errors/oauth-errors.js';
import { accessTokenOf } from '../../http/bearer-token-request.js';
import { verifyAccessTokenWithUser } from '../../services/access-token-verifier.js';
import { dpopNonceForResponse } from '../../services/dpop/dpop-proof.js';
import { checkSenderConstraint, withDpopChallenge, type PresentedAccessToken } from '../../services/dpop/dpop-resource.js';
import { claimsForScopes } from '../../services/userinfo.js';

/**
 * OIDC Core section 5.3, GET and POST; the Bearer token in the Authorization header or a POST form body,
 * or a DPoP-bound token with `Authorization: DPoP` and a DPoP proof carrying `ath` (RFC 9449 section 7).
 * Errors about a DPoP request or a DPoP-bound token carry a DPoP challenge (section 7.1); Bearer ones keep
 * the Bearer challenge (RFC 6750 section 3).
 */
export async function userinfoRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  const url = urlFor(ctx.config.issuer, 'userinfo');
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    let presented: PresentedAccessToken | undefined;
    let bound = false;
    try {
      presented = accessTokenOf(request, { dpop: true });
      // One round trip: the live-token check and the user's row together.
      const { user, token } = await verifyAccessTokenWithUser(ctx, presented.token);
      bound = Boolean(token.dpopJkt);
      // A Bearer token that is not bound (the common case) needs no DPoP work, not even a promise.
      if (presented.scheme === 'DPoP' || bound) {
        await checkSenderConstraint(ctx, presented, token.dpopJkt, { dpopHeader: request.headers.dpop, method: request.method, url });
      }
      // client_credentials tokens carry no user, and userinfo needs an openid-scoped user token.
      if (!token.userId) throw new InvalidToken('the access token is not bound to a user');
      if (!token.scopes.includes('openid')) throw new InsufficientScope('the access token lacks the openid scope');
      if (!user) throw new InvalidToken('the access token is invalid, expired or revoked');
      const nonce = presented.scheme === 'DPoP' ? dpopNonceForResponse(ctx) : undefined;
      if (nonce) reply.header('dpop-nonce', nonce);
      return claimsForScopes(user, token.scopes);
    } catch (err) {
      if (err instanceof OAuthError && (presented?.scheme === 'DPoP' || bound)) withDpopChallenge(ctx, err);
      throw err;
    }
  };
  // The callback form: an async hook costs a promise and a tick on every request (as in src/app.ts).
  const options = {
    onSend: (_request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void) => {
      reply.header('cache-control', 'no-store');
      done(null, payload);
    },
  };
  app.get(ROUTES.userinfo, options, handler);
  app.post(ROUTES.userinfo, options, handler);
}
