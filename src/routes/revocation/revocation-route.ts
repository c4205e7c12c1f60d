import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../config/routes.js';
import { InvalidRequest } from '../../errors/oauth-errors.js';
import { readClientRequest } from '../../http/client-request.js';
import { verifiedDpopJkt } from '../../http/dpop-request.js';
import { revokeToken } from '../../services/token-revocation.js';

/**
 * RFC 7009 token revocation, in order: parse the form (repeated parameters refused), authenticate the
 * client exactly as the token endpoint does, behind the same brute-force throttle (public clients
 * identify with client_id), require `token`, revoke. The answer is 200 with an empty body whether or not anything was revoked (section 2.2).
 */
export async function revocationRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  app.post(ROUTES.revocation, async (request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const { params, client } = await readClientRequest(ctx, request);
    if (!params.token) throw new InvalidRequest('token is required');
    const dpopJkt = await verifiedDpopJkt(ctx, request, 'revocation');
    const revoked = await revokeToken(ctx, client, params.token, params.token_type_hint, dpopJkt);
    if (revoked) request.audit.record('token.revoked', { actor: client.clientId, actor_type: 'client', client_id: client.clientId, token_type: revoked });
    return reply.code(200).send();
  });
}
