import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../services/audit.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The audit log bound to this request's client address and request id. */
    readonly audit: AuditLog;
  }
}

/** `request.audit`: a getter, so requests that record nothing cost nothing. */
export function registerRequestAudit(app: FastifyInstance): void {
  app.decorateRequest('audit', {
    getter(this: import('fastify').FastifyRequest) {
      return app.ctx.audit.withOrigin({ ip: this.ip, request_id: this.id });
    },
  });
}
