import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../config/routes.js';
import { InvalidClient, InvalidRequest } from '../../errors/oauth-errors.js';
import { readClientRequest } from '../../http/client-request.js';
import { verifiedDpopProofOf } from '../../http/dpop-request.js';
import { introspectToken } from '../../services/token-introspection.js';

/**
 * RFC 7662 token introspection, in order: parse the form (repeated parameters refused), authenticate the
 * client (as at the token endpoint, behind the same brute-force throttle), refuse public clients, require
 * `token`, answer. Only confidential clients may introspect (section 2.1 requires authorization; a public
 * client's client_id proves nothing, and would make the endpoint a token-checking oracle for anyone who
 * knows one): they get 401 invalid_client. Who may introspect which token is decided in
 * services/token-introspection.ts (mayIntrospect).
 */
export async function introspectionRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  app.post(ROUTES.introspection, async (request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const { params, client } = await readClientRequest(ctx, request);
    if (client.clientType === 'public') throw new InvalidClient('public clients may not introspect tokens');
    if (!params.token) throw new InvalidRequest('token is required');
    // A caller that sends a DPoP proof gets it checked (RFC 9449 section 4.3, htu this endpoint): a bad
    // proof is refused, never ignored. The answer does not depend on it: cnf tells the resource the key.
    await verifiedDpopProofOf(ctx, request, 'introspection');
    return introspectToken(ctx, client, params.token, params.token_type_hint);
  });
}
