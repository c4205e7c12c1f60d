import type { FastifyInstance } from 'fastify';
import { findUserByReference } from '../../services/admin/user-admin-service.js';

/**
 * Every `/admin/users/:id…` route takes a user id, a username or an email address in `:id`
 * (findUserByReference). This step resolves it once, before the handler, and puts the user's id in its
 * place: handlers, services and audit lines then always deal with the id. It runs after the token check
 * (onRequest), so only an authorized caller learns whether a name exists.
 */
export function resolveUserParam(app: FastifyInstance): void {
  app.addHook('preHandler', async (request) => {
    const params = request.params as { id?: string };
    if (params.id === undefined) return;
    params.id = (await findUserByReference(app.ctx, params.id)).id;
  });
}
