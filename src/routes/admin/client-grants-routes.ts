import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ClientGrantListItem } from '../../repositories/grants-repository.js';
import { listClientGrants, revokeClientGrant, revokeClientGrants } from '../../services/admin/client-grants-admin-service.js';
import { audited, callerOf } from './admin-auth.js';
import { adminRoute, pageOf, timestamp } from './admin-schema.js';
import { page, pageQuery, parseInput, toWire } from './admin-wire.js';

const listQuery = z.strictObject(pageQuery);

/** A user grant's fields (user-access-routes.ts) and whose it is. */
export const presentClientGrant = (grant: ClientGrantListItem) =>
  toWire(grant, ['id', 'clientId', 'userId', 'username', 'scope', 'authTime', 'createdAt', 'revokedAt']);

const clientGrantView = z.strictObject({
  id: z.uuid(),
  client_id: z.string(),
  user_id: z.uuid(),
  username: z.string(),
  scope: z.string(),
  auth_time: timestamp,
  created_at: timestamp,
  revoked_at: timestamp.nullable(),
});
const clientParams = z.object({ client_id: z.string() });

type WithClient = { Params: { client_id: string } };

/**
 * /clients/:client_id/grants: who signed in to a client, and revoking one grant or all of them with their
 * tokens. The items name users, so these routes need the users scopes (as /users/:id/grants does), not
 * the clients ones.
 */
export async function clientGrantsRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  const read = 'admin:users:read' as const;
  const write = 'admin:users:write' as const;
  const tags = ['clients'];

  app.get<WithClient>('/clients/:client_id/grants', adminRoute({
    scope: read, tags, summary: 'List the grants of a client', description: 'Who signed in to the client: each grant with its user.',
    params: clientParams, query: listQuery, errors: ['not_found'], responses: { 200: pageOf(clientGrantView) },
  }), async (request) => {
    const query = parseInput(listQuery, request.query, 'query');
    return page(await listClientGrants(ctx, request.params.client_id, query), query, presentClientGrant);
  });

  app.delete<{ Params: { client_id: string; grantId: string } }>('/clients/:client_id/grants/:grantId', adminRoute({
    scope: write, tags, summary: 'Revoke one grant of a client, with its tokens', params: clientParams.extend({ grantId: z.string() }), errors: ['not_found'],
    responses: { 204: null },
  }), async (request, reply) => {
    const { client_id: clientId, grantId } = request.params;
    await audited(request, 'client.grant_revoked', (tx) => revokeClientGrant(tx, callerOf(request), clientId, grantId), { client_id: clientId, grant_id: grantId }, {
      kind: 'client',
      id: clientId,
    });
    return reply.code(204).send();
  });

  app.delete<WithClient>('/clients/:client_id/grants', adminRoute({
    scope: write, tags, summary: 'Revoke every grant of a client, with their tokens', params: clientParams, errors: ['not_found'],
    responses: { 200: z.strictObject({ revoked: z.number().int().min(0) }) },
  }), async (request) => {
    const { client_id: clientId } = request.params;
    const revoked = await audited(request, 'client.grants_revoked', (tx) => revokeClientGrants(tx, callerOf(request), clientId), { client_id: clientId }, {
      kind: 'client',
      id: clientId,
    });
    return { revoked };
  });
}
