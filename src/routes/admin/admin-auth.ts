import type { FastifyInstance } from 'fastify';
import { InsufficientPrivilege } from '../../errors/admin-errors.js';
import { bearerToken, verifyAccessToken } from '../../services/access-token-verifier.js';
import { authorizeAdmin, type AdminActor, type AdminRequirement } from '../../services/admin/admin-authorization.js';
import type { AuditEvent, AuditFields } from '../../services/audit.js';

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

/**
 * Every refusal of privilege-rules.ts leaves an audit line: who tried, what (reason), on which user or
 * client (subject) or resource (resource) and, for scopes, which admin scopes it did not hold. The 403 body itself is sent by the
 * error handler like every other admin API error.
 */
export function auditPrivilegeRefusals(app: FastifyInstance): void {
  app.addHook('onError', async (request, _reply, error) => {
    if (!(error instanceof InsufficientPrivilege)) return;
    const { clientId, userId, resource, scopes } = error.target;
    audit(request, 'privilege_denied', {
      reason: error.reason,
      ...(userId ?? clientId ? { subject: userId ?? clientId } : {}),
      ...(resource !== undefined ? { resource } : {}),
      ...(scopes ? { scope: scopes.join(' ') } : {}),
    });
  });
}

/** The verified caller of an admin route (set by requireAdminToken before any handler runs). */
export function callerOf(request: import('fastify').FastifyRequest): AdminActor {
  if (!request.adminActor) throw new Error('admin route reached without an authorized caller');
  return request.adminActor;
}

/**
 * One audit line per admin change (src/services/audit.ts), naming the actor and the subject, never
 * secrets or passwords. The actor is the admin user behind the token, or the client for client_credentials.
 */
export function audit(request: import('fastify').FastifyRequest, event: AdminAuditEvent, subject: AuditFields = {}): void {
  const actor = request.adminActor;
  request.audit.record(`admin.${event}`, {
    ...subject,
    actor: actor?.userId ?? actor?.clientId ?? null,
    actor_type: actor?.userId ? 'user' : 'client',
    ...(actor ? { client_id: actor.clientId } : {}),
  });
}

type AdminAuditEvent = AuditEvent extends infer E ? (E extends `admin.${infer Rest}` ? Rest : never) : never;
