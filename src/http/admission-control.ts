import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../config/routes.js';
import { sendUnavailable } from './error-handler.js';

/** The requests that cost argon2, signing and database writes: token requests and login form posts. */
const EXPENSIVE: ReadonlyMap<string, string> = new Map([
  [ROUTES.token, 'POST'],
  [ROUTES.interactionLogin, 'POST'],
]);

/**
 * Admission control (AUTHLY_MAX_INFLIGHT_EXPENSIVE): beyond `max` expensive requests in flight in this
 * process, new ones are refused at once with 503 temporarily_unavailable and Retry-After, before their body
 * is parsed. Queueing them instead makes every request slow, health probes included, until liveness fails
 * and the orchestrator restarts a healthy replica. Probes and metrics are never counted nor refused.
 */
export function registerAdmissionControl(app: FastifyInstance, max: number, onRefused: (route: string) => void): void {
  if (max <= 0) return;
  let inflight = 0;
  app.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url;
    // A lookup by route, then the method: no string built for every request that is not expensive.
    if (route === undefined || EXPENSIVE.get(route) !== request.method) return done();
    if (inflight >= max) {
      onRefused(route);
      sendUnavailable(request, reply, 1, 'too many requests in progress; retry');
      return;
    }
    inflight++;
    // 'close' fires once per response, whether it finished, failed or the client went away.
    reply.raw.once('close', () => inflight--);
    done();
  });
}
