import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { addClientRedirectUri, removeClientRedirectUri } from '../../services/admin/client-admin-service.js';
import { audit, callerOf } from './admin-auth.js';
import { parseInput } from './admin-wire.js';
import { presentClient } from './clients-routes.js';

const redirectUri = z.string().min(1).max(2000);
const addBody = z.strictObject({ redirect_uri: redirectUri });
const removeQuery = z.strictObject({ redirect_uri: redirectUri });

/** For the OpenAPI document: the body and the query of these routes (both answer with the client). */
export const redirectUriSchemas = { addBody, removeQuery };

type WithClientId = { Params: { client_id: string } };

/**
 * /clients/:client_id/redirect-uris: one redirect URI at a time, so an operator adding a URI never
 * replaces the list (PATCH redirect_uris does). The same scope, privilege rules, registration rules and
 * audit event as an update of the client.
 */
export async function clientRedirectUrisRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  const write = { config: { adminScope: 'admin:clients:write' as const } };

  app.post<WithClientId>('/clients/:client_id/redirect-uris', write, async (request) => {
    const { redirect_uri } = parseInput(addBody, request.body, 'body');
    const client = await addClientRedirectUri(ctx, callerOf(request), request.params.client_id, redirect_uri);
    audit(request, 'client.updated', { client_id: client.clientId });
    return presentClient(client);
  });

  app.delete<WithClientId>('/clients/:client_id/redirect-uris', write, async (request) => {
    const { redirect_uri } = parseInput(removeQuery, request.query, 'query');
    const client = await removeClientRedirectUri(ctx, callerOf(request), request.params.client_id, redirect_uri);
    audit(request, 'client.updated', { client_id: client.clientId });
    return presentClient(client);
  });
}
