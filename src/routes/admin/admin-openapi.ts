import fastifySwagger from '@fastify/swagger';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { z } from 'zod';
import { ROUTES, urlFor } from '../../config/routes.js';
import { ADMIN_SCOPES } from '../../lib/scopes.js';
import { packageVersion } from '../../services/admin/admin-status-service.js';
import { adminErrorBody, adminRoute, oauthErrorBody, WHOLE_NUMBER_TOO, type AdminErrorName, type AdminOperation, type AdminResponse } from './admin-schema.js';

type JsonSchema = Record<string, unknown>;

/** zod → JSON Schema 2020-12 (what OpenAPI 3.1 uses). Inputs as the client sends them, outputs as sent back. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', override: wholeNumbersToo }) as JsonSchema;
  return rest;
}

/** alsoWholeNumbers(): `{ type: string, … }` becomes `{ anyOf: [whole number, { type: string, … }] }`. */
function wholeNumbersToo({ jsonSchema: out }: { jsonSchema: JsonSchema }): void {
  if (out[WHOLE_NUMBER_TOO] !== true) return;
  delete out[WHOLE_NUMBER_TOO];
  const { description, ...asString } = out;
  for (const key of Object.keys(out)) delete out[key];
  Object.assign(out, { ...(description !== undefined ? { description } : {}), anyOf: [{ type: 'integer', minimum: 0 }, asString] });
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
const retryAfter = { 'Retry-After': { description: 'seconds to wait before retrying (RFC 9110 section 10.2.3)', schema: { type: 'integer', minimum: 1 } } };

/**
 * The error responses, written once. Admin errors are `{ error, message, fields? }`
 * (src/errors/admin-errors.ts); the bearer check answers in RFC 6750's shape, and the edge refusals Fastify
 * raises itself (body too large, unknown media type) and the rate limiter in RFC 6749's `{ error,
 * error_description }` (src/http/error-handler.ts, src/plugins/rate-limit.ts).
 */
const ERROR_RESPONSES: Record<AdminErrorName, { status: number; response: Record<string, unknown> }> = {
  validation_failed: {
    status: 400,
    response: { description: 'validation_failed: `fields` names each refused field (path, query or body) with the reason', content: json(ref('AdminError')) },
  },
  invalid_token: {
    status: 401,
    response: {
      description: 'invalid_token: no Bearer token, or one that is expired, revoked or not for this API (RFC 6750 section 3.1)',
      headers: { 'WWW-Authenticate': { description: 'the Bearer challenge (RFC 6750 section 3)', schema: { type: 'string' } } },
      content: json(ref('OAuthError')),
    },
  },
  forbidden: {
    status: 403,
    response: {
      description:
        'insufficient_scope (RFC 6750 section 3.1, with a WWW-Authenticate Bearer challenge): the token lacks the operation\'s admin scope; ' +
        'or insufficient_privilege (admin error body): the scope is held, but not the privilege this change needs (e.g. granting an admin scope)',
      headers: { 'WWW-Authenticate': { description: 'the Bearer challenge, with insufficient_scope only', schema: { type: 'string' } } },
      content: json({ anyOf: [ref('OAuthError'), ref('AdminError')] }),
    },
  },
  not_found: { status: 404, response: { description: 'not_found: the named object does not exist', content: json(ref('AdminError')) } },
  conflict: { status: 409, response: { description: 'conflict: the change collides with the current state (a name in use, …)', content: json(ref('AdminError')) } },
  payload_too_large: { status: 413, response: { description: 'the body is larger than the server accepts', content: json(ref('OAuthError')) } },
  unsupported_media_type: {
    status: 415,
    response: { description: 'the body is not UTF-8 JSON (`content-type: application/json`)', content: json({ anyOf: [ref('AdminError'), ref('OAuthError')] }) },
  },
  rate_limited: { status: 429, response: { description: 'rate_limited: too many requests', headers: retryAfter, content: json(ref('OAuthError')) } },
  temporarily_unavailable: {
    status: 503,
    response: { description: 'temporarily_unavailable: the database is down or busy, or the server is shutting down', headers: retryAfter, content: json(ref('AdminError')) },
  },
};

/** Errors any token-checked operation can answer; a body adds 413 and 415. */
const ERRORS_OF_EVERY: AdminErrorName[] = ['validation_failed', 'invalid_token', 'forbidden', 'rate_limited', 'temporarily_unavailable'];

/** The error names an operation declares, with the ones every such operation has; in status order. */
export function errorsOf(op: AdminOperation): AdminErrorName[] {
  const names = new Set<AdminErrorName>([...ERRORS_OF_EVERY, ...(op.errors ?? [])]);
  if (op.body) {
    names.add('payload_too_large');
    names.add('unsupported_media_type');
  }
  return [...names].sort((a, b) => ERROR_RESPONSES[a].status - ERROR_RESPONSES[b].status);
}

export const errorStatus = (name: AdminErrorName) => ERROR_RESPONSES[name].status;

const camelWords = (words: string[]) => words.map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join('');

/** GET /admin/clients/:client_id → getClientsClientId. */
function defaultOperationId(method: string, url: string): string {
  const words = url
    .slice(ROUTES.admin.length)
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
  return camelWords([method.toLowerCase(), ...words]);
}

function scopeText(op: AdminOperation): string {
  if (op.scope === 'any') return 'Needs a Bearer token with any admin scope.';
  if (op.scope === 'authly:admin') return 'Needs a Bearer token with `authly:admin`.';
  return `Needs a Bearer token with \`${op.scope}\` (or \`authly:admin\`).`;
}

const asResponse = (value: AdminOperation['responses'][number]): AdminResponse =>
  value === null ? { body: null } : value instanceof z.ZodType ? { body: value } : value;

/** The route schema @fastify/swagger reads for one operation (only the document sees it, never Fastify). */
function swaggerSchema(op: AdminOperation, operationId: string): JsonSchema {
  const scopes = op.scope === 'any' ? [] : [op.scope];
  return {
    operationId,
    summary: op.summary,
    description: [op.description, scopeText(op)].filter(Boolean).join('\n\n'),
    tags: op.tags,
    security: [{ bearer: scopes }, { oauth2: scopes }],
    ...(op.params ? { params: jsonSchema(op.params, 'input') } : {}),
    ...(op.query ? { querystring: jsonSchema(op.query, 'input') } : {}),
    ...(op.body ? { body: jsonSchema(op.body, 'input') } : {}),
    response: Object.fromEntries(
      Object.entries(op.responses).map(([status, value]) => {
        const { body, description, headers } = asResponse(value);
        const schema = body ? jsonSchema(body, 'output') : { type: 'null' };
        return [
          status,
          {
            ...schema,
            description: description ?? (body ? 'Success' : 'No content'),
            ...(headers ? { headers: Object.fromEntries(Object.entries(headers).map(([name, h]) => [name, { type: 'string', description: h.description }])) } : {}),
          },
        ];
      }),
    ),
  };
}

type OpenApiDocument = {
  paths: Record<string, Record<string, { operationId?: string; responses: Record<string, unknown>; requestBody?: { required?: boolean } }>>;
  components: Record<string, unknown>;
};

/**
 * Registers @fastify/swagger in the admin API's own context: its onRoute hook sees the routes registered
 * here and below (the admin routes, never the rest of Authly). Operations come from each route's
 * `config.openapi` (adminRoute); a route without one is left out, and the OpenAPI test fails.
 */
export async function registerAdminOpenApi(app: FastifyInstance): Promise<void> {
  const operations = new Map<string, AdminOperation>();

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Authly admin API',
        version: packageVersion(),
        description:
          'Manage the clients, users, scopes, resources, signing keys and registration tokens of an Authly server. ' +
          'Every operation, this document included, needs an OAuth 2.0 Bearer access token (RFC 6750) carrying the admin scope it names; ' +
          '`authly:admin` holds every one. Lists are keyset pages `{ items, limit, next_cursor }`: pass `next_cursor` as `cursor` for the next page.',
      },
      servers: [{ url: app.ctx.config.issuer, description: 'this Authly server (its issuer)' }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An access token of Authly in `Authorization: Bearer` (RFC 6750 section 2.1).' },
          oauth2: {
            type: 'oauth2',
            description: 'How to get the token: client_credentials at the token endpoint with a client allowed the admin scopes.',
            flows: {
              clientCredentials: {
                tokenUrl: urlFor(app.ctx.config.issuer, 'token'),
                scopes: Object.fromEntries(ADMIN_SCOPES.map((scope) => [scope, scope === 'authly:admin' ? 'every admin operation' : scope.replace(/^admin:/, '').replace(':', ' ')])),
              },
            },
          },
        },
      },
    },
    stripBasePath: false,
    transform: ({ schema, url, route }) => {
      const op = (route as RouteOptions).config?.openapi;
      if (!op) return { schema: { ...schema, hide: true }, url };
      const methods = ([] as string[]).concat(route.method);
      const operationId = op.operationId ?? defaultOperationId(methods[0]!, url);
      operations.set(operationId, op);
      return { schema: swaggerSchema(op, operationId) as never, url };
    },
    // The error responses, written once under components.responses and referenced by each operation.
    transformObject: (documentObject) => {
      const openapiObject = (documentObject as { openapiObject: object }).openapiObject;
      const doc = openapiObject as OpenApiDocument;
      doc.components = {
        ...doc.components,
        schemas: { ...(doc.components.schemas as object), AdminError: jsonSchema(adminErrorBody, 'output'), OAuthError: jsonSchema(oauthErrorBody, 'output') },
        responses: Object.fromEntries(Object.entries(ERROR_RESPONSES).map(([name, { response }]) => [name, response])),
      };
      for (const pathItem of Object.values(doc.paths)) {
        for (const operation of Object.values(pathItem)) {
          const op = operation.operationId ? operations.get(operation.operationId) : undefined;
          if (!op) continue;
          for (const name of errorsOf(op)) operation.responses[String(ERROR_RESPONSES[name].status)] = { $ref: `#/components/responses/${name}` };
          // An optional body (z.optional()) may be left out; swagger marks every body required.
          if (operation.requestBody && op.body?.safeParse(undefined).success) operation.requestBody.required = false;
        }
      }
      return openapiObject as never;
    },
  });
}

/**
 * GET /admin/openapi.json, among the token-checked routes: any admin scope reads it (SECURITY.md: no
 * unauthenticated admin surface). It describes itself too, as every route there is described.
 */
export async function openApiDocumentRoute(app: FastifyInstance): Promise<void> {
  app.get(
    ROUTES.adminOpenApi.slice(ROUTES.admin.length),
    adminRoute({
      scope: 'any',
      summary: 'This OpenAPI 3.1 document',
      tags: ['meta'],
      operationId: 'getOpenApiDocument',
      responses: { 200: { body: z.record(z.string(), z.unknown()), description: 'the OpenAPI 3.1 document of the admin API' } },
    }),
    async () => app.swagger(),
  );
}
