import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ROUTES } from '../../config/routes.js';
import { InsufficientScope, InvalidToken } from '../../errors/oauth-errors.js';
import { bearerTokenOf } from '../../http/bearer-token-request.js';
import { verifyAccessTokenWithUser } from '../../services/access-token-verifier.js';
import { claimsForScopes } from '../../services/userinfo.js';

/** OIDC Core section 5.3, GET and POST; the Bearer token in the Authorization header or a POST form body. */
export async function userinfoRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  const handler = async (request: FastifyRequest) => {
    // One round trip: the live-token check and the user's row together.
    const { user, ...token } = await verifyAccessTokenWithUser(ctx, bearerTokenOf(request));
    // client_credentials tokens carry no user, and userinfo needs an openid-scoped user token.
    if (!token.userId) throw new InvalidToken('the access token is not bound to a user');
    if (!token.scopes.includes('openid')) throw new InsufficientScope('the access token lacks the openid scope');
    if (!user) throw new InvalidToken('the access token is invalid, expired or revoked');
    return claimsForScopes(user, token.scopes);
  };
  const options = {
    onSend: async (_request: FastifyRequest, reply: import('fastify').FastifyReply) => {
      reply.header('cache-control', 'no-store');
    },
  };
  app.get(ROUTES.userinfo, options, handler);
  app.post(ROUTES.userinfo, options, handler);
}
