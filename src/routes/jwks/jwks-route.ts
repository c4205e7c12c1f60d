import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../config/routes.js';

export async function jwksRoutes(app: FastifyInstance): Promise<void> {
  // The document changes only when the key set is reloaded: serialize it once per key generation.
  let cached: { generation: number; body: string } | undefined;
  app.get(ROUTES.jwks, async (_request, reply) => {
    // Short enough that a key added by rotation reaches verifiers well before it signs anything.
    reply.header('cache-control', 'public, max-age=300').type('application/json; charset=utf-8');
    const { keys } = app.ctx;
    if (cached?.generation !== keys.generation) cached = { generation: keys.generation, body: JSON.stringify(keys.jwks()) };
    return cached.body;
  });
}
