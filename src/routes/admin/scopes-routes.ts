import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ROUTES } from '../../config/routes.js';
import { SCOPE_TOKEN } from '../../lib/scopes.js';
import type { Scope } from '../../repositories/scopes-repository.js';
import { createScope, deleteScope, listScopes } from '../../services/admin/scope-admin-service.js';
import { audited } from './admin-auth.js';
import { adminRoute, pageOf, timestamp } from './admin-schema.js';
import { camelKeys, page, pageQuery, parseInput, toWire } from './admin-wire.js';

const createBody = z.strictObject({
  name: z
    .string()
    .max(128)
    .regex(SCOPE_TOKEN, { message: 'expected a scope-token: printable ASCII without space, double quote or backslash (RFC 6749 section 3.3)' }),
  description: z.string().max(500).default(''),
  is_default: z.boolean().default(false),
});
const listQuery = z.strictObject(pageQuery);

export const presentScope = (scope: Scope) => toWire(scope, ['name', 'description', 'isDefault', 'createdAt']);
const scopeView = z.strictObject({ name: z.string(), description: z.string(), is_default: z.boolean(), created_at: timestamp });

export async function scopesRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  const read = 'admin:scopes:read' as const;
  const write = 'admin:scopes:write' as const;
  const tags = ['scopes'];

  app.get('/scopes', adminRoute({ scope: read, tags, summary: 'List scopes', query: listQuery, responses: { 200: pageOf(scopeView) } }), async (request) => {
    const query = parseInput(listQuery, request.query, 'query');
    return page(await listScopes(ctx, query), query, presentScope);
  });

  app.post('/scopes', adminRoute({
    scope: write, tags, summary: 'Register a scope', body: createBody, errors: ['conflict'],
    responses: { 201: { body: scopeView, description: 'the scope', headers: { Location: { description: 'the scope\'s URL' } } } },
  }), async (request, reply) => {
    const input = camelKeys(parseInput(createBody, request.body, 'body'));
    const scope = await audited(request, 'scope.created', (tx) => createScope(tx, input), (created) => ({ scope: created.name }), {
      kind: 'scope',
      idOf: (created) => created.name,
    });
    return reply
      .code(201)
      .header('location', `${ROUTES.admin}/scopes/${encodeURIComponent(scope.name)}`)
      .send(presentScope(scope));
  });

  app.delete<{ Params: { name: string } }>('/scopes/:name', adminRoute({
    scope: write, tags, summary: 'Delete a scope', description: 'Refused (409) while a client or a resource still uses it, or for a built-in scope.',
    params: z.object({ name: z.string() }), errors: ['not_found', 'conflict'], responses: { 204: null },
  }), async (request, reply) => {
    const { name } = request.params;
    await audited(request, 'scope.deleted', (tx) => deleteScope(tx, name), { scope: name }, { kind: 'scope', id: name });
    return reply.code(204).send();
  });
}
