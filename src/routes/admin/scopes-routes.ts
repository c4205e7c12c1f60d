import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ROUTES } from '../../config/routes.js';
import { SCOPE_TOKEN } from '../../lib/scopes.js';
import type { Scope } from '../../repositories/scopes-repository.js';
import { createScope, deleteScope, listScopes } from '../../services/admin/scope-admin-service.js';
import { audited } from './admin-auth.js';
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

export async function scopesRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  const read = { config: { adminScope: 'admin:scopes:read' as const } };
  const write = { config: { adminScope: 'admin:scopes:write' as const } };

  app.get('/scopes', read, async (request) => {
    const query = parseInput(listQuery, request.query, 'query');
    return page(await listScopes(ctx, query), query, presentScope);
  });

  app.post('/scopes', write, async (request, reply) => {
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

  app.delete<{ Params: { name: string } }>('/scopes/:name', write, async (request, reply) => {
    const { name } = request.params;
    await audited(request, 'scope.deleted', (tx) => deleteScope(tx, name), { scope: name }, { kind: 'scope', id: name });
    return reply.code(204).send();
  });
}
