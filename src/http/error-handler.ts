import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AdminApiError, ValidationFailed } from '../errors/admin-errors.js';
import { InputRejected } from '../errors/input-errors.js';
import { InsufficientScope, InvalidBearerRequest, InvalidClient, InvalidRequest, InvalidToken, OAuthError, safeDescription, TemporarilyUnavailable } from '../errors/oauth-errors.js';
import { storageFault } from '../errors/storage-errors.js';
import { TooManyAttempts } from '../errors/throttle-errors.js';
import { waitInWords } from '../views/components.js';
import { errorPage, sendPage } from '../views/page.js';
import { errorShapeFor } from './input-guard.js';
import { pageContext } from './page-context.js';

/** RFC 6750 section 3: the Bearer challenge for protected resources. */
export function bearerChallenge(err: OAuthError): string {
  if (err instanceof InvalidToken && err.noCredentials) return 'Bearer realm="authly"';
  return `Bearer realm="authly", error="${err.error}", error_description="${err.description}"`;
}

/**
 * RFC 9449 section 7.1: the DPoP challenge, with the proof algorithms accepted; its error is the error's
 * code unless no credentials were sent at all.
 */
export function dpopChallenge(err: OAuthError, algs: readonly string[]): string {
  const algsParam = `algs="${algs.join(' ')}"`;
  if (err instanceof InvalidToken && err.noCredentials) return `DPoP ${algsParam}`;
  return `DPoP error="${err.error}", error_description="${err.description}", ${algsParam}`;
}

export function sendOAuthError(reply: FastifyReply, err: OAuthError): FastifyReply {
  if (err instanceof InvalidClient && err.usedBasic) reply.header('www-authenticate', 'Basic realm="authly"');
  if (err.dpopChallengeAlgs) reply.header('www-authenticate', dpopChallenge(err, err.dpopChallengeAlgs));
  else if (err instanceof InvalidToken || err instanceof InvalidBearerRequest || err instanceof InsufficientScope) reply.header('www-authenticate', bearerChallenge(err));
  if (err.dpopNonce) reply.header('dpop-nonce', err.dpopNonce);
  if (err instanceof TemporarilyUnavailable) reply.header('retry-after', String(err.retryAfterSeconds));
  return reply.code(err.status).header('cache-control', 'no-store').send(err.toJSON());
}

const INPUT_MESSAGES = {
  path: 'the request path is not valid',
  query: 'the query parameters are not valid',
  body: 'the request body is not valid',
  header: 'the request headers are not valid',
} as const;

/** A string refused at the edge, in the admin API's own shape (`{ error, message, fields }`). */
function adminInputError(err: InputRejected): AdminApiError {
  if (err.status === 415) return new AdminApiError(415, 'unsupported_media_type', 'the request body must be UTF-8 JSON');
  return new ValidationFailed({ [err.field]: err.reason }, INPUT_MESSAGES[err.source]);
}

/** Pages (authorize, interaction, logout) answer a person: an HTML error page, never raw JSON; the technical reason goes below. */
function sendErrorPage(reply: FastifyReply, status: number, description: string): FastifyReply {
  const pc = pageContext(reply.request);
  const page =
    status >= 500
      ? errorPage(pc, pc.t('errors.server_title'), pc.t('errors.server'))
      : errorPage(pc, pc.t('errors.invalid_request_title'), pc.t('errors.invalid_request'), { detail: description });
  return sendPage(reply, status, page, { formAction: ["'none'"] });
}

/** A person's browser asks for HTML first (RFC 9110 section 12.5.1); API clients that send JSON or nothing keep JSON. */
export function prefersHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  if (typeof accept !== 'string') return false;
  const html = accept.indexOf('text/html');
  if (html < 0) return false;
  const json = accept.indexOf('application/json');
  return json < 0 || html < json;
}

/** 429 for a person: the wait in words, with Retry-After for the browser. */
export function sendRateLimitedPage(request: FastifyRequest, reply: FastifyReply, retryAfterSeconds: number): FastifyReply {
  const pc = pageContext(request);
  reply.header('retry-after', String(retryAfterSeconds));
  const page = errorPage(pc, pc.t('errors.rate_limited_title'), pc.t('errors.rate_limited', { wait: waitInWords(pc.locale, retryAfterSeconds) }), {
    detail: 'rate_limited: too many requests; try again later',
  });
  return sendPage(reply, 429, page, { formAction: ["'none'"] });
}

/** The methods whose routes make a path exist; OPTIONS is only listed next to them (CORS preflight routes). */
const ROUTED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** The methods the router would accept at this path (empty: no route at all). */
function allowedMethods(request: FastifyRequest, path: string): string[] {
  const allowed: string[] = ROUTED_METHODS.filter((method) => request.server.findRoute({ method, url: path }) !== null);
  if (allowed.length > 0 && request.server.findRoute({ method: 'OPTIONS', url: path }) !== null) allowed.push('OPTIONS');
  return allowed;
}

/**
 * No route for this method and path. A path that exists under other methods is 405 with Allow (RFC 9110
 * section 15.5.6; RFC 9126 section 2.3 asks it of the PAR endpoint); otherwise 404. Either in the
 * reader's shape: a page for a person, the admin API's `{ error, message }`, or OAuth JSON.
 */
function sendNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = request.url.split('?')[0]!;
  const allowed = allowedMethods(request, path);
  // A route that takes this method and still ends here (an unknown asset, say) found nothing: 404.
  const status = allowed.length > 0 && !allowed.includes(request.method) ? 405 : 404;
  const description = safeDescription(status === 405 ? `${path} accepts ${allowed.join(', ')}, not ${request.method}` : `no route for ${request.method} ${path}`);
  if (status === 405) reply.header('allow', allowed.join(', ')).header('cache-control', 'no-store');
  const shape = errorShapeFor(request.url);
  const isRead = request.method === 'GET' || request.method === 'HEAD';
  if (shape === 'page' || (isRead && prefersHtml(request))) {
    const pc = pageContext(request);
    // A person meets a 405 by opening an address that applications post to (the pages' own form
    // addresses answer GET as well).
    const [title, text] =
      status === 404 ? (['errors.not_found_title', 'errors.not_found'] as const)
      : isRead ? (['errors.method_not_allowed_title', 'errors.method_not_allowed'] as const)
      : (['errors.invalid_request_title', 'errors.invalid_request'] as const);
    const page = errorPage(pc, pc.t(title), pc.t(text), { detail: description });
    return sendPage(reply, status, page, { formAction: ["'none'"] });
  }
  if (shape === 'admin') {
    const error = status === 405 ? new AdminApiError(405, 'method_not_allowed', description) : new AdminApiError(404, 'not_found', description);
    return reply.code(status).send(error.toJSON());
  }
  return reply.code(status).send({ error: status === 405 ? 'invalid_request' : 'not_found', error_description: description });
}

/**
 * 503 + Retry-After in the reader's shape: OAuth temporarily_unavailable, the admin error JSON, or an HTML
 * page. Used for a database that is down, for admission control and for requests racing a shutdown.
 */
export function sendUnavailable(request: FastifyRequest, reply: FastifyReply, retryAfterSeconds: number, description: string): FastifyReply {
  reply.header('retry-after', String(retryAfterSeconds)).header('cache-control', 'no-store');
  switch (errorShapeFor(request.url)) {
    case 'admin':
      return reply.code(503).send(new AdminApiError(503, 'temporarily_unavailable', description).toJSON());
    case 'page': {
      const pc = pageContext(request);
      return sendPage(reply, 503, errorPage(pc, pc.t('errors.unavailable_title'), pc.t('errors.unavailable'), { detail: description }), {
        formAction: ["'none'"],
      });
    }
    default:
      return sendOAuthError(reply, new TemporarilyUnavailable(description, retryAfterSeconds));
  }
}

/** 400 for input the database refused (too long, not UTF-8): the client's fault, never a 5xx. */
function sendInvalidInput(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const description = 'a parameter value is too long or is not valid text';
  switch (errorShapeFor(request.url)) {
    case 'admin':
      return reply.code(400).send(new AdminApiError(400, 'validation_failed', description).toJSON());
    case 'page':
      return sendErrorPage(reply, 400, description);
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
 * else as server_error without details. Strings refused at the edge (src/http/input-guard.ts) take the admin
 * shape under /admin, and on person-facing pages every error is an HTML page.
 */
export function sendError(error: Error & { statusCode?: number }, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const shape = errorShapeFor(request.url);
  if (error instanceof OAuthError && error.detail) request.log.info({ err: error.detail }, 'oauth error');
  if (error instanceof InputRejected && shape === 'admin') {
    const adminError = adminInputError(error);
    return reply.code(adminError.status).header('cache-control', 'no-store').send(adminError.toJSON());
  }
  if (shape === 'page' && (error instanceof OAuthError || (error.statusCode ?? 500) < 500) && !(error instanceof TooManyAttempts)) {
    const status = error instanceof OAuthError ? error.status : (error.statusCode ?? 400);
    return sendErrorPage(reply, status, error instanceof OAuthError ? error.description : safeDescription(error.message));
  }
  if (error instanceof OAuthError) return sendOAuthError(reply, error);
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
  if (shape === 'page') return sendErrorPage(reply, 500, 'internal error');
  return reply.code(500).header('cache-control', 'no-store').send({ error: 'server_error', error_description: 'internal error' });
}

/**
 * Fastify's frameworkErrors: the router refuses a path it cannot decode (not UTF-8) or a path parameter
 * beyond maxParamLength before any hook runs; both are answered like the edge guard's refusals.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const rejected =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new InputRejected('a path segment is too long', 'path', 'path', 'a segment is too long', 414)
      : new InputRejected('the request path must be UTF-8 text without NUL characters', 'path', 'path', 'must be UTF-8 text');
  return sendError(rejected, request, reply);
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler(sendError);
  app.setNotFoundHandler(sendNotFound);
}
