import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../config/routes.js';
import { clusterMetricsEnabled, reportToPrimary, requestClusterMetrics } from './cluster-metrics.js';

export async function metricsRoutes(app: FastifyInstance): Promise<void> {
  const { metrics } = app.ctx;
  const clustered = clusterMetricsEnabled();
  if (clustered) {
    const unsubscribe = reportToPrimary(metrics.registry);
    app.addHook('onClose', async () => unsubscribe());
  }
  app.get(ROUTES.metrics, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType).header('cache-control', 'no-store');
    if (!clustered) return metrics.registry.metrics();
    const body = await requestClusterMetrics();
    // A partial scrape would make counters jump; failing it lets Prometheus record the gap (up == 0).
    if (body === undefined) return reply.code(503).type('text/plain').send('cluster metrics unavailable\n');
    return body;
  });
}
