import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { GrantSummary } from '../../repositories/grants-repository.js';
import type { Session } from '../../repositories/sessions-repository.js';
import {
  listUserGrants,
  listUserSessions,
  revokeUserGrant,
  revokeUserGrants,
  revokeUserSession,
  revokeUserSessions,
} from '../../services/admin/user-access-admin-service.js';
import { audited, callerOf } from './admin-auth.js';
import { resolveUserParam } from './user-param.js';
import { page, pageQuery, parseInput, toWire } from './admin-wire.js';

const listQuery = z.strictObject(pageQuery);

// The public sid only: the cookie hash (the sessions primary key) never leaves the server.
export const presentSession = (session: Session) => toWire(session, ['sid', 'authTime', 'createdAt', 'expiresAt']);
export const presentGrant = (grant: GrantSummary) =>
  toWire(grant, ['id', 'clientId', 'scope', 'authTime', 'createdAt', 'revokedAt']);

type WithId = { Params: { id: string } };

/** /users/:id/sessions and /users/:id/grants: list, revoke one, revoke all. */
export async function userAccessRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  const read = { config: { adminScope: 'admin:users:read' as const } };
  const write = { config: { adminScope: 'admin:users:write' as const } };
  resolveUserParam(app);

  app.get<WithId>('/users/:id/sessions', read, async (request) => {
    const query = parseInput(listQuery, request.query, 'query');
    return page(await listUserSessions(ctx, request.params.id, query), query, presentSession);
  });

  app.delete<{ Params: { id: string; sid: string } }>('/users/:id/sessions/:sid', write, async (request, reply) => {
    const { id, sid } = request.params;
    await audited(
      request,
      'user.session_revoked',
      (tx) => revokeUserSession(tx, callerOf(request), id, sid),
      { user_id: id, sid },
      { kind: 'user', id },
    );
    return reply.code(204).send();
  });

  app.delete<WithId>('/users/:id/sessions', write, async (request, reply) => {
    await audited(
      request,
      'user.sessions_revoked',
      (tx) => revokeUserSessions(tx, callerOf(request), request.params.id),
      { user_id: request.params.id },
      { kind: 'user', id: request.params.id },
    );
    return reply.code(204).send();
  });

  app.get<WithId>('/users/:id/grants', read, async (request) => {
    const query = parseInput(listQuery, request.query, 'query');
    return page(await listUserGrants(ctx, request.params.id, query), query, presentGrant);
  });

  app.delete<{ Params: { id: string; grantId: string } }>('/users/:id/grants/:grantId', write, async (request, reply) => {
    const { id, grantId } = request.params;
    await audited(
      request,
      'user.grant_revoked',
      (tx) => revokeUserGrant(tx, callerOf(request), id, grantId),
      { user_id: id, grant_id: grantId },
      { kind: 'user', id },
    );
    return reply.code(204).send();
  });

  app.delete<WithId>('/users/:id/grants', write, async (request, reply) => {
    await audited(
      request,
      'user.grants_revoked',
      (tx) => revokeUserGrants(tx, callerOf(request), request.params.id),
      { user_id: request.params.id },
      { kind: 'user', id: request.params.id },
    );
    return reply.code(204).send();
  });
}
