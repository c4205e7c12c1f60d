import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../config/routes.js';
import { pingDatabase } from '../../repositories/health-repository.js';

export async function healthRoutes(app: FastifyInstance): Promise<void> {
  // Redis is reported but never makes readiness fail: without it Authly keeps serving (cache bypassed,
  // per-process rate limits), so taking replicas out of the load balancer would only make things worse.
  const redisCheck = (): 'ok' | 'unavailable' | 'disabled' => (!app.ctx.redis ? 'disabled' : app.ctx.redis.isUp ? 'ok' : 'unavailable');
  // Liveness: the process answers.
  app.get(ROUTES.health, async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'ok' };
  });
  // Readiness: the database answers within a short timeout. Mail and back-channel logout are reported, and like Redis never makes
  // readiness fail: an SMTP outage only delays messages (the outbox keeps them and the worker retries), and
  // taking replicas out of the load balancer would not bring the SMTP server back; the same goes for a client
  // whose backchannel_logout_uri is down (its logouts wait in the outbox).
  app.get(ROUTES.healthReady, async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    // Shutting down (SIGTERM): out of the load balancer first, while in-flight requests finish.
    if (app.lifecycle.draining) return reply.code(503).send({ status: 'draining' });
    try {
      await Promise.race([
        pingDatabase(app.ctx.db),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
      ]);
      return {
        status: 'ready',
        checks: { database: 'ok', redis: redisCheck(), mail: await app.mailer.report(), backchannel_logout: await app.backchannelLogout.report() },
      };
    } catch {
      // As every other answer while the database is down (src/errors/storage-errors.ts): try again in 5 s.
      return reply.code(503).header('retry-after', '5').send({ status: 'unavailable', checks: { database: 'unavailable', redis: redisCheck(), mail: await app.mailer.report() } });
    }
  });
}
