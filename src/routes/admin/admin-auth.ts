import type { FastifyInstance } from 'fastify';
import { InsufficientPrivilege } from '../../errors/admin-errors.js';
import { bearerToken, verifyAccessToken } from '../../services/access-token-verifier.js';
import { authorizeAdmin, type AdminActor, type AdminRequirement } from '../../services/admin/admin-authorization.js';
import type { AuditEvent, AuditFields } from '../../services/audit.js';
import { runAudited, type AuditTarget } from '../../services/audit-trail.js';
import type { ServiceContext } from '../../services/context.js';

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
  request.audit.record(`admin.${event}`, withActor(request, subject));
}

/** The event's fields with the caller as actor (the log line's shape, kept as it always was). */
function withActor(request: import('fastify').FastifyRequest, subject: AuditFields): AuditFields {
  const actor = request.adminActor;
  return {
    ...subject,
    actor: actor?.userId ?? actor?.clientId ?? null,
    actor_type: actor?.userId ? 'user' : 'client',
    ...(actor ? { client_id: actor.clientId } : {}),
  };
}

/**
 * An admin write and its audit trail in one transaction (src/services/audit-trail.ts): `work` gets a
 * context bound to that transaction, the row (with the diff of `target`, never a secret) is inserted in
 * it, and only once it committed are caches invalidated and the log line written (as `audit` writes it).
 * `fields` may depend on the result, and may be several events (a key rotation changes several keys).
 */
export async function audited<T>(
  request: import('fastify').FastifyRequest,
  event: AdminAuditEvent,
  work: (ctx: ServiceContext) => Promise<T>,
  fields: AuditFields | ((result: NoInfer<T>) => AuditFields | AuditFields[]),
  target?: AuditTarget<NoInfer<T>>,
): Promise<T> {
  const origin = { ip: request.ip, request_id: request.id };
  const { result, events } = await runAudited(
    request.server.ctx,
    origin,
    work,
    (value) => {
      const given = typeof fields === 'function' ? fields(value) : fields;
      return (Array.isArray(given) ? given : [given]).map((one) => ({ event: `admin.${event}` as const, fields: withActor(request, one) }));
    },
    target,
  );
  for (const one of events) request.audit.logStored(one.event, one.fields);
  return result;
}

type AdminAuditEvent = AuditEvent extends infer E ? (E extends `admin.${infer Rest}` ? Rest : never) : never;
