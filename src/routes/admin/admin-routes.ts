import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../config/routes.js';
import { ValidationFailed } from '../../errors/admin-errors.js';
import { MAX_JSON_DEPTH } from '../../config/input-limits.js';
import { findUnacceptableJsonString, jsonDepthWithin } from '../../http/input-guard.js';
import { auditPrivilegeRefusals, requireAdminToken } from './admin-auth.js';
import { auditEventsRoutes } from './audit-events-routes.js';
import { openApiDocumentRoute, registerAdminOpenApi } from './admin-openapi.js';
import { clientGrantsRoutes } from './client-grants-routes.js';
import { clientRedirectUrisRoutes } from './client-redirect-uris-routes.js';
import { clientsRoutes } from './clients-routes.js';
import { keysRoutes } from './keys-routes.js';
import { maintenanceRoutes } from './maintenance-routes.js';
import { resourcesRoutes } from './resources-routes.js';
import { registrationTokensRoutes } from './registration-tokens-routes.js';
import { scopesRoutes } from './scopes-routes.js';
import { statusRoutes } from './status-route.js';
import { userAccessRoutes } from './user-access-routes.js';
import { usersRoutes } from './users-routes.js';

/** Every admin route plugin, mounted under ROUTES.admin behind the token check (in this order). */
export const ADMIN_ROUTE_PLUGINS = [
  statusRoutes,
  clientsRoutes,
  clientRedirectUrisRoutes,
  clientGrantsRoutes,
  usersRoutes,
  userAccessRoutes,
  scopesRoutes,
  resourcesRoutes,
  maintenanceRoutes,
  keysRoutes,
  registrationTokensRoutes,
  auditEventsRoutes,
  openApiDocumentRoute,
];

/**
 * The admin JSON API under ROUTES.admin: @fastify/swagger in this context (admin-openapi.ts), then every
 * route, its OpenAPI document included, behind the token check.
 */
export async function adminRoutes(app: FastifyInstance): Promise<void> {
  await registerAdminOpenApi(app);
  await app.register(protectedAdminRoutes);
}

/**
 * Everything here is encapsulated: the JSON-only body parser, the bearer-token check and no-store apply to
 * these routes and nothing else. The admin rate-limit policy is applied app-wide by
 * src/plugins/rate-limit.ts, in an onRequest hook that runs before the token check.
 */
async function protectedAdminRoutes(app: FastifyInstance): Promise<void> {
  acceptJsonOnly(app);
  requireAdminToken(app);
  auditPrivilegeRefusals(app);
  // Responses carry client secrets and personal data.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });

  for (const routes of ADMIN_ROUTE_PLUGINS) {
    await app.register(routes, { prefix: ROUTES.admin });
  }
}

/**
 * Bodies are JSON only (other media types get 415), and malformed JSON is a validation_failed body like
 * every other bad input here. The default parser is kept for its prototype-poisoning protection. The edge
 * guard (src/http/input-guard.ts) bounds the nesting before parsing, without recursion, and refuses NUL,
 * lone surrogates and over-long strings after it; a charset other than UTF-8 was answered 415 before.
 */
function acceptJsonOnly(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    if (!jsonDepthWithin(text)) {
      return done(new ValidationFailed({ body: `nested deeper than ${MAX_JSON_DEPTH} levels` }, 'the request body is not valid'), undefined);
    }
    parseJson(request, text, (err, value) => {
      if (err) return done(new ValidationFailed({ body: 'not valid JSON' }, 'the request body is not valid JSON'), undefined);
      const bad = findUnacceptableJsonString(value);
      if (bad) return done(new ValidationFailed({ [bad.field || 'body']: bad.reason }, 'the request body is not valid'), undefined);
      done(null, value);
    });
  });
}
