import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../config/routes.js';

export async function jwksRoutes(app: FastifyInstance): Promise<void> {
  app.get(ROUTES.jwks, async (_request, reply) => {
    // Short enough that a key added by rotation reaches verifiers well before it signs anything.
    reply.header('cache-control', 'public, max-age=300');
    return app.ctx.keys.jwks();
  });
}
