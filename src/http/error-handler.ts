import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ROUTES } from '../config/routes.js';
import { AdminApiError } from '../errors/admin-errors.js';
import { InvalidBearerRequest, InvalidClient, InvalidRequest, InvalidToken, OAuthError, safeDescription, TemporarilyUnavailable } from '../errors/oauth-errors.js';
import { storageFault } from '../errors/storage-errors.js';
import { TooManyAttempts } from '../services/throttle-service.js';
import { errorPage } from '../views/authorization-pages.js';
import { sendPage } from '../views/page.js';

/** RFC 6750 section 3: the Bearer challenge for protected resources. */
export function bearerChallenge(err: OAuthError): string {
  if (err instanceof InvalidToken && err.noCredentials) return 'Bearer realm="authly"';
  return `Bearer realm="authly", error="${err.error}", error_description="${err.description}"`;
}

export function sendOAuthError(reply: FastifyReply, err: OAuthError): FastifyReply {
  if (err instanceof InvalidClient && err.usedBasic) reply.header('www-authenticate', 'Basic realm="authly"');
  if (err instanceof InvalidToken || err instanceof InvalidBearerRequest || err.status === 403) reply.header('www-authenticate', bearerChallenge(err));
  if (err instanceof TemporarilyUnavailable) reply.header('retry-after', String(err.retryAfterSeconds));
  return reply.code(err.status).header('cache-control', 'no-store').send(err.toJSON());
}

/**
 * Who reads the error: the admin API has its own JSON shape, the browser pages (authorization, login and
 * consent, logout) are read by people, everything else by OAuth clients (RFC 6749 section 5.2 bodies).
 */
export type ErrorAudience = 'admin' | 'page' | 'oauth';

const PAGE_ROUTES: readonly string[] = [ROUTES.authorization, ROUTES.endSession, ROUTES.interaction, ROUTES.interactionLogin, ROUTES.interactionConsent];

export function errorAudience(request: FastifyRequest): ErrorAudience {
  // The route pattern when the request matched one, else the path (unmatched, or before routing).
  const path = request.routeOptions.url ?? request.url.split('?')[0]!;
  if (path === ROUTES.admin || path.startsWith(`${ROUTES.admin}/`)) return 'admin';
  if (PAGE_ROUTES.includes(path) || path.startsWith('/interaction/')) return 'page';
  return 'oauth';
}

/**
 * 503 + Retry-After in the reader's shape: OAuth temporarily_unavailable, the admin error JSON, or an HTML
 * page. Used for a database that is down, for admission control and for requests racing a shutdown.
 */
export function sendUnavailable(request: FastifyRequest, reply: FastifyReply, retryAfterSeconds: number, description: string): FastifyReply {
  reply.header('retry-after', String(retryAfterSeconds)).header('cache-control', 'no-store');
  switch (errorAudience(request)) {
    case 'admin':
      return reply.code(503).send(new AdminApiError(503, 'temporarily_unavailable', description).toJSON());
    case 'page':
      return sendPage(
        reply,
        503,
        errorPage('Temporarily unavailable', 'The service is temporarily unavailable. Please try again in a moment.'),
        { formAction: ["'none'"] },
      );
    default:
      return sendOAuthError(reply, new TemporarilyUnavailable(description, retryAfterSeconds));
  }
}

/** 400 for input the database refused (too long, not UTF-8): the client's fault, never a 5xx. */
function sendInvalidInput(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const description = 'a parameter value is too long or is not valid text';
  switch (errorAudience(request)) {
    case 'admin':
      return reply.code(400).send(new AdminApiError(400, 'validation_failed', description).toJSON());
    case 'page':
      return sendPage(reply, 400, errorPage('Invalid request', `The request is malformed: ${description}.`), { formAction: ["'none'"] });
    default:
      return sendOAuthError(reply, new InvalidRequest(description));
  }
}

const UNAVAILABLE_DESCRIPTIONS = {
  unavailable: 'the database is unavailable; retry later',
  conflict: 'a concurrent update conflicted with this request; retry',
  busy: 'the database is busy; retry later',
} as const;

/**
 * The one place errors become responses: OAuth errors as RFC 6749 section 5.2 bodies, admin API errors as
 * their JSON, Fastify's own client errors (bad JSON, body too large, wrong media type) as invalid_request,
 * database faults by their class (src/errors/storage-errors.ts: 503 + Retry-After or 400), and everything
 * else as server_error without details.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof OAuthError) {
      if (error.detail) request.log.info({ err: error.detail }, 'oauth error');
      return sendOAuthError(reply, error);
    }
    if (error instanceof AdminApiError) return reply.code(error.status).send(error.toJSON());
    if (error instanceof TooManyAttempts) {
      return reply
        .code(429)
        .header('retry-after', String(error.retryAfterSeconds))
        .header('cache-control', 'no-store')
        .send({ error: 'rate_limited', error_description: 'too many failed attempts; try again later' });
    }
    const fault = storageFault(error);
    if (fault) {
      request.log.warn({ err: error, storage_fault: fault.kind, code: fault.code }, 'database fault');
      if (fault.kind === 'invalid_input') return sendInvalidInput(request, reply);
      return sendUnavailable(request, reply, fault.retryAfterSeconds, UNAVAILABLE_DESCRIPTIONS[fault.kind]);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply
        .code(status)
        .header('cache-control', 'no-store')
        .send({ error: status === 429 ? 'rate_limited' : 'invalid_request', error_description: safeDescription(error.message) });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).header('cache-control', 'no-store').send({ error: 'server_error', error_description: 'internal error' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'not_found', error_description: safeDescription(`no route for ${request.method} ${request.url.split('?')[0]}`) }),
  );
}
