import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ClientGrantListItem } from '../../repositories/grants-repository.js';
import { listClientGrants, revokeClientGrant, revokeClientGrants } from '../../services/admin/client-grants-admin-service.js';
import { audited, callerOf } from './admin-auth.js';
import { page, pageQuery, parseInput, toWire } from './admin-wire.js';

const listQuery = z.strictObject(pageQuery);

/** A user grant's fields (user-access-routes.ts) and whose it is. */
export const presentClientGrant = (grant: ClientGrantListItem) =>
  toWire(grant, ['id', 'clientId', 'userId', 'username', 'scope', 'authTime', 'createdAt', 'revokedAt']);

/** For the OpenAPI document (src/routes/admin/admin-schema.ts): the query and the bodies of these routes. */
export const clientGrantsSchemas = {
  listQuery,
  revokedAll: z.strictObject({ revoked: z.number().int().min(0) }),
};

type WithClient = { Params: { client_id: string } };

/**
 * /clients/:client_id/grants: who signed in to a client, and revoking one grant or all of them with their
 * tokens. The items name users, so these routes need the users scopes (as /users/:id/grants does), not
 * the clients ones.
 */
export async function clientGrantsRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  const read = { config: { adminScope: 'admin:users:read' as const } };
  const write = { config: { adminScope: 'admin:users:write' as const } };

  app.get<WithClient>('/clients/:client_id/grants', read, async (request) => {
    const query = parseInput(listQuery, request.query, 'query');
    return page(await listClientGrants(ctx, request.params.client_id, query), query, presentClientGrant);
  });

  app.delete<{ Params: { client_id: string; grantId: string } }>('/clients/:client_id/grants/:grantId', write, async (request, reply) => {
    const { client_id: clientId, grantId } = request.params;
    await audited(request, 'client.grant_revoked', (tx) => revokeClientGrant(tx, callerOf(request), clientId, grantId), { client_id: clientId, grant_id: grantId }, {
      kind: 'client',
      id: clientId,
    });
    return reply.code(204).send();
  });

  app.delete<WithClient>('/clients/:client_id/grants', write, async (request) => {
    const { client_id: clientId } = request.params;
    const revoked = await audited(request, 'client.grants_revoked', (tx) => revokeClientGrants(tx, callerOf(request), clientId), { client_id: clientId }, {
      kind: 'client',
      id: clientId,
    });
    return { revoked };
  });
}
