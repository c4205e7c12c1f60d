import type { FastifyInstance } from 'fastify';
import { bearerToken, verifyAccessToken } from '../../services/access-token-verifier.js';
import { authorizeAdmin, type AdminActor, type AdminRequirement } from '../../services/admin/admin-authorization.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The admin scope a route needs; a route that declares none needs authly:admin (fail closed). */
    adminScope?: AdminRequirement;
  }
  interface FastifyRequest {
    adminActor: AdminActor | null;
  }
}

/**
 * Every admin request carries `Authorization: Bearer <access token>` (RFC 6750 section 2.1). Checked on
 * onRequest, before the body is read, so an unauthenticated caller learns nothing from body validation.
 * A missing or bad token is 401 invalid_token, a token without the route's scope is 403
 * insufficient_scope; the error handler adds the Bearer challenge to both.
 */
export function requireAdminToken(app: FastifyInstance): void {
  app.decorateRequest('adminActor', null);
  app.addHook('onRequest', async (request) => {
    const token = await verifyAccessToken(app.ctx, bearerToken(request.headers.authorization));
    request.adminActor = await authorizeAdmin(app.ctx, token, request.routeOptions.config.adminScope ?? 'authly:admin');
  });
}

/** One log line per admin change, naming the actor and the subject (never secrets or passwords). */
export function audit(request: import('fastify').FastifyRequest, event: string, subject: Record<string, string>): void {
  request.log.info({ event, ...subject, actor: request.adminActor }, 'admin change');
}
