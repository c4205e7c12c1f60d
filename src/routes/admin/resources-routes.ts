import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ROUTES } from '../../config/routes.js';
import { SCOPE_TOKEN } from '../../lib/scopes.js';
import type { Resource } from '../../repositories/resources-repository.js';
import { ACCESS_TOKEN_FORMATS, ID_TOKEN_SIGNING_ALGS } from '../../services/admin/client-registration-rules.js';
import {
  createResource,
  deleteResource,
  getResource,
  listResources,
  MAX_RESOURCE_TOKEN_TTL_SECONDS,
  updateResource,
} from '../../services/admin/resource-admin-service.js';
import { canonicalResourceIdentifier } from '../../lib/resource-identifier.js';
import { audited, callerOf } from './admin-auth.js';
import { camelKeys, page, pageQuery, parseInput, resourceIdentifier, text, toWire, uniqueArray } from './admin-wire.js';

// The settings of a protected resource (RFC 8707); null format, lifetime or alg: the server default. The
// rules that need the database or the key store (registered scopes, confidential clients, held algs) live
// in the service.
/** The audit trail's name for the resource in a path: the canonical spelling the service will look up. */
function canonical(identifier: string): string {
  const result = canonicalResourceIdentifier(identifier);
  return result.ok ? result.identifier : identifier;
}

const settings = {
  name: text(),
  scopes: uniqueArray(
    z.string().max(128).regex(SCOPE_TOKEN, { message: 'expected a scope-token (RFC 6749 section 3.3)' }),
    100,
  ),
  access_token_format: z.enum(ACCESS_TOKEN_FORMATS).nullable(),
  access_token_ttl_seconds: z
    .number()
    .int({ message: 'expected a whole number of seconds' })
    .min(1, { message: 'expected at least 1' })
    .max(MAX_RESOURCE_TOKEN_TTL_SECONDS, { message: `expected at most ${MAX_RESOURCE_TOKEN_TTL_SECONDS}` })
    .nullable(),
  signing_alg: z.enum(ID_TOKEN_SIGNING_ALGS).nullable(),
  client_ids: uniqueArray(z.string().min(1, { message: 'must not be empty' }).max(255), 50),
};

const createBody = z.strictObject({
  ...z.object(settings).partial().shape,
  identifier: resourceIdentifier,
  name: settings.name,
});
// The identifier names the resource and never changes: register a new one instead.
const updateBody = z.strictObject(settings).partial();
const listQuery = z.strictObject(pageQuery);

const RESOURCE_FIELDS = [
  'identifier',
  'name',
  'scopes',
  'accessTokenFormat',
  'accessTokenTtlSeconds',
  'signingAlg',
  'clientIds',
  'createdAt',
  'updatedAt',
] as const satisfies readonly (keyof Resource)[];

export const presentResource = (resource: Resource) => toWire(resource, RESOURCE_FIELDS);

const resourcePath = (identifier: string) => `${ROUTES.admin}/resources/${encodeURIComponent(identifier)}`;

/** The identifier in the path is percent-encoded (encodeURIComponent) and may be any accepted spelling. */
type WithIdentifier = { Params: { identifier: string } };

export async function resourcesRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  const read = { config: { adminScope: 'admin:resources:read' as const } };
  const write = { config: { adminScope: 'admin:resources:write' as const } };

  app.get('/resources', read, async (request) => {
    const query = parseInput(listQuery, request.query, 'query');
    return page(await listResources(ctx, query), query, presentResource);
  });

  app.post('/resources', write, async (request, reply) => {
    const input = camelKeys(parseInput(createBody, request.body, 'body'));
    const resource = await audited(
      request,
      'resource.created',
      (tx) => createResource(tx, callerOf(request), input),
      (created) => ({ resource: created.identifier }),
      { kind: 'resource', idOf: (created) => created.identifier },
    );
    return reply.code(201).header('location', resourcePath(resource.identifier)).send(presentResource(resource));
  });

  app.get<WithIdentifier>('/resources/:identifier', read, async (request) =>
    presentResource(await getResource(ctx, request.params.identifier)),
  );

  app.patch<WithIdentifier>('/resources/:identifier', write, async (request) => {
    const changes = camelKeys(parseInput(updateBody, request.body, 'body'));
    const resource = await audited(
      request,
      'resource.updated',
      (tx) => updateResource(tx, callerOf(request), request.params.identifier, changes),
      (updated) => ({ resource: updated.identifier }),
      { kind: 'resource', id: canonical(request.params.identifier) },
    );
    return presentResource(resource);
  });

  app.delete<WithIdentifier>('/resources/:identifier', write, async (request, reply) => {
    await audited(
      request,
      'resource.deleted',
      (tx) => deleteResource(tx, callerOf(request), request.params.identifier),
      (deleted) => ({ resource: deleted }),
      { kind: 'resource', id: canonical(request.params.identifier) },
    );
    return reply.code(204).send();
  });
}
