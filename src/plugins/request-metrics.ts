import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** Counts and times every request. Labels use the route pattern, never the raw URL. */
export const requestMetrics = fp(async (app: FastifyInstance) => {
  const { metrics } = app.ctx;
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status_code: String(reply.statusCode),
    };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });
});
