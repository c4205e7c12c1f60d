import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ROUTES } from '../config/routes.js';

/**
 * CORS (Fetch standard, "CORS protocol") for the endpoints a browser application calls itself: token,
 * userinfo, revocation, JWKS, discovery and dynamic registration (a browser-based MCP client registers itself). Not for introspection (a confidential, server-to-server call:
 * a browser cannot keep the client secret it needs), nor for HTML pages, authorize, logout or the admin
 * API, which are navigations or server-side calls.
 *
 * Origins are matched exactly against CORS_ORIGINS (or `*`). Credentials are never allowed: these
 * endpoints take the client's credentials and tokens in headers or the body, never cookies, so a
 * cross-origin page cannot ride on the user's session. An unknown origin gets no CORS headers (the
 * browser then refuses to hand the response to the page); it is not an error. Without CORS_ORIGINS
 * nothing is registered.
 */
const CORS_ROUTES: Record<string, readonly string[]> = {
  [ROUTES.token]: ['POST'],
  // RFC 9126: a browser-based (public) client pushes its authorization request itself.
  [ROUTES.pushedAuthorization]: ['POST'],
  [ROUTES.revocation]: ['POST'],
  [ROUTES.userinfo]: ['GET', 'POST'],
  [ROUTES.jwks]: ['GET'],
  [ROUTES.openidConfiguration]: ['GET'],
  [ROUTES.openidConfigurationAlias]: ['GET'],
  [ROUTES.oauthAuthorizationServer]: ['GET'],
  [ROUTES.registration]: ['POST'],
  [ROUTES.registrationClient]: ['GET', 'PUT', 'DELETE'],
};

/** Request headers a browser app needs: Bearer tokens / Basic client auth, the form content type, DPoP proofs (RFC 9449). */
const ALLOWED_HEADERS = 'Authorization, Content-Type, DPoP';
/** Response headers the page may read besides the CORS-safelisted ones (RFC 6750 challenges, 429, RFC 9449 nonces). */
const EXPOSED_HEADERS = 'WWW-Authenticate, Retry-After, DPoP-Nonce';
const PREFLIGHT_MAX_AGE_SECONDS = '600';

export function registerCors(app: FastifyInstance, origins: readonly string[]): void {
  if (origins.length === 0) return;
  const anyOrigin = origins.includes('*');
  const allowed = new Set(origins);

  /** The value for Access-Control-Allow-Origin, or undefined when this origin gets nothing. */
  function allowOrigin(request: FastifyRequest, reply: FastifyReply): string | undefined {
    if (anyOrigin) return '*';
    // The answer depends on Origin, so caches must key on it, whether or not this origin is allowed.
    reply.header('vary', 'Origin');
    const origin = request.headers.origin;
    return typeof origin === 'string' && allowed.has(origin) ? origin : undefined;
  }

  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    if (request.method === 'OPTIONS' || route === undefined || !(route in CORS_ROUTES)) return;
    const origin = allowOrigin(request, reply);
    if (origin) reply.header('access-control-allow-origin', origin).header('access-control-expose-headers', EXPOSED_HEADERS);
  });

  // Preflight: answered here, before any client authentication or body parsing, always 204.
  for (const [path, methods] of Object.entries(CORS_ROUTES)) {
    app.options(path, async (request, reply) => {
      const origin = allowOrigin(request, reply);
      const method = request.headers['access-control-request-method'];
      if (origin && typeof method === 'string') {
        reply
          .header('access-control-allow-origin', origin)
          .header('access-control-allow-methods', methods.join(', '))
          .header('access-control-allow-headers', ALLOWED_HEADERS)
          .header('access-control-max-age', PREFLIGHT_MAX_AGE_SECONDS);
      }
      return reply.code(204).header('allow', [...methods, 'OPTIONS'].join(', ')).send();
    });
  }
}
