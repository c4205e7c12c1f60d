import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Counts and times every request. Every label comes from a bounded set, so no client can grow the
 * number of series: the route pattern (never the raw URL; "unmatched" for 404s), a known method or
 * "other", and the status code (Fastify only sends 100-599).
 */
export const requestMetrics = fp(async (app: FastifyInstance) => {
  const { metrics } = app.ctx;
  app.addHook('onResponse', (request, reply, done) => {
    const labels = {
      method: METHODS.has(request.method) ? request.method : 'other',
      route: request.routeOptions.url ?? 'unmatched',
      status_code: String(reply.statusCode),
    };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    done();
  });
});
