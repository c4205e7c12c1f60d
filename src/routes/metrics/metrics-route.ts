import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../config/routes.js';

export async function metricsRoutes(app: FastifyInstance): Promise<void> {
  const { metrics } = app.ctx;
  app.get(ROUTES.metrics, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType).header('cache-control', 'no-store');
    return metrics.registry.metrics();
  });
}
