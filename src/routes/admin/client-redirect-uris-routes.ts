import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { addClientRedirectUri, removeClientRedirectUri } from '../../services/admin/client-admin-service.js';
import { audited, callerOf } from './admin-auth.js';
import { adminRoute } from './admin-schema.js';
import { parseInput } from './admin-wire.js';
import { clientView, presentClient } from './clients-routes.js';

const redirectUri = z.string().min(1).max(2000);
const addBody = z.strictObject({ redirect_uri: redirectUri });
const removeQuery = z.strictObject({ redirect_uri: redirectUri });
const clientParams = z.object({ client_id: z.string().describe('the client_id') });

/** For the OpenAPI document: the body and the query of these routes (both answer with the client). */
export const redirectUriSchemas = { addBody, removeQuery };

type WithClientId = { Params: { client_id: string } };

/**
 * /clients/:client_id/redirect-uris: one redirect URI at a time, so an operator adding a URI never
 * replaces the list (PATCH redirect_uris does). The same scope, privilege rules, registration rules and
 * audit event as an update of the client.
 */
export async function clientRedirectUrisRoutes(app: FastifyInstance): Promise<void> {
  const scope = 'admin:clients:write' as const;
  const tags = ['clients'];

  app.post<WithClientId>('/clients/:client_id/redirect-uris', adminRoute({
    scope, tags, summary: 'Add one redirect URI to a client (already registered: unchanged)',
    params: clientParams, body: addBody, errors: ['not_found'], responses: { 200: clientView },
  }), async (request) => {
    const { redirect_uri } = parseInput(addBody, request.body, 'body');
    const { client_id: clientId } = request.params;
    const client = await audited(request, 'client.updated', (tx) => addClientRedirectUri(tx, callerOf(request), clientId, redirect_uri), { client_id: clientId }, {
      kind: 'client',
      id: clientId,
    });
    return presentClient(client);
  });

  app.delete<WithClientId>('/clients/:client_id/redirect-uris', adminRoute({
    scope, tags, summary: 'Remove one redirect URI from a client (the last one of a code-flow client stays)',
    params: clientParams, query: removeQuery, errors: ['not_found'], responses: { 200: clientView },
  }), async (request) => {
    const { redirect_uri } = parseInput(removeQuery, request.query, 'query');
    const { client_id: clientId } = request.params;
    const client = await audited(request, 'client.updated', (tx) => removeClientRedirectUri(tx, callerOf(request), clientId, redirect_uri), { client_id: clientId }, {
      kind: 'client',
      id: clientId,
    });
    return presentClient(client);
  });
}
