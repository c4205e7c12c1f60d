import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../config/routes.js';
import { discoveryDocument } from './discovery-document.js';

export async function discoveryRoutes(app: FastifyInstance): Promise<void> {
  const document = JSON.stringify(discoveryDocument(app.ctx.config, app.ctx.keys.algorithms));
  const serve = async (_request: unknown, reply: import('fastify').FastifyReply) =>
    reply.header('cache-control', 'public, max-age=3600').type('application/json').send(document);
  // OIDC Discovery section 4, RFC 8414 section 3, and the underscore spelling some guides use.
  app.get(ROUTES.openidConfiguration, serve);
  app.get(ROUTES.oauthAuthorizationServer, serve);
  app.get(ROUTES.openidConfigurationAlias, serve);
}
