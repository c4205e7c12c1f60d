import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { AdminApiError } from '../errors/admin-errors.js';
import { InvalidClient, InvalidToken, OAuthError, safeDescription } from '../errors/oauth-errors.js';
import { TooManyAttempts } from '../errors/throttle-errors.js';

/** RFC 6750 section 3: the Bearer challenge for protected resources. */
export function bearerChallenge(err: OAuthError): string {
  if (err instanceof InvalidToken && err.noCredentials) return 'Bearer realm="authly"';
  return `Bearer realm="authly", error="${err.error}", error_description="${err.description}"`;
}

export function sendOAuthError(reply: FastifyReply, err: OAuthError): FastifyReply {
  if (err instanceof InvalidClient && err.usedBasic) reply.header('www-authenticate', 'Basic realm="authly"');
  if (err instanceof InvalidToken || err.status === 403) reply.header('www-authenticate', bearerChallenge(err));
  return reply.code(err.status).header('cache-control', 'no-store').send(err.toJSON());
}

/**
 * The one place errors become responses: OAuth errors as RFC 6749 section 5.2 bodies, admin API errors as
 * their JSON, Fastify's own client errors (bad JSON, body too large, wrong media type) as invalid_request,
 * and everything else as server_error without details.
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
