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
import { adminRoute, pageOf, timestamp } from './admin-schema.js';
import { userParams } from './users-routes.js';
import { resolveUserParam } from './user-param.js';
import { page, pageQuery, parseInput, toWire } from './admin-wire.js';

const listQuery = z.strictObject(pageQuery);

// The public sid only: the cookie hash (the sessions primary key) never leaves the server.
export const presentSession = (session: Session) => toWire(session, ['sid', 'authTime', 'createdAt', 'expiresAt']);
export const presentGrant = (grant: GrantSummary) =>
  toWire(grant, ['id', 'clientId', 'scope', 'authTime', 'createdAt', 'revokedAt']);

export const sessionView = z.strictObject({ sid: z.string(), auth_time: timestamp, created_at: timestamp, expires_at: timestamp });
export const grantView = z.strictObject({
  id: z.uuid(),
  client_id: z.string(),
  scope: z.string(),
  auth_time: timestamp,
  created_at: timestamp,
  revoked_at: timestamp.nullable(),
});

type WithId = { Params: { id: string } };

/** /users/:id/sessions and /users/:id/grants: list, revoke one, revoke all. */
export async function userAccessRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  const read = 'admin:users:read' as const;
  const write = 'admin:users:write' as const;
  const tags = ['users'];
  resolveUserParam(app);

  app.get<WithId>('/users/:id/sessions', adminRoute({
    scope: read, tags, summary: 'List a user\'s sessions', params: userParams, query: listQuery, errors: ['not_found'], responses: { 200: pageOf(sessionView) },
  }), async (request) => {
    const query = parseInput(listQuery, request.query, 'query');
    return page(await listUserSessions(ctx, request.params.id, query), query, presentSession);
  });

  app.delete<{ Params: { id: string; sid: string } }>('/users/:id/sessions/:sid', adminRoute({
    scope: write, tags, summary: 'End one session of a user', params: userParams.extend({ sid: z.string() }), errors: ['not_found'], responses: { 204: null },
  }), async (request, reply) => {
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

  app.delete<WithId>('/users/:id/sessions', adminRoute({
    scope: write, tags, summary: 'End every session of a user', params: userParams, errors: ['not_found'], responses: { 204: null },
  }), async (request, reply) => {
    await audited(
      request,
      'user.sessions_revoked',
      (tx) => revokeUserSessions(tx, callerOf(request), request.params.id),
      { user_id: request.params.id },
      { kind: 'user', id: request.params.id },
    );
    return reply.code(204).send();
  });

  app.get<WithId>('/users/:id/grants', adminRoute({
    scope: read, tags, summary: 'List a user\'s grants', params: userParams, query: listQuery, errors: ['not_found'], responses: { 200: pageOf(grantView) },
  }), async (request) => {
    const query = parseInput(listQuery, request.query, 'query');
    return page(await listUserGrants(ctx, request.params.id, query), query, presentGrant);
  });

  app.delete<{ Params: { id: string; grantId: string } }>('/users/:id/grants/:grantId', adminRoute({
    scope: write, tags, summary: 'Revoke one grant of a user, with its tokens', params: userParams.extend({ grantId: z.string() }), errors: ['not_found'],
    responses: { 204: null },
  }), async (request, reply) => {
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

  app.delete<WithId>('/users/:id/grants', adminRoute({
    scope: write, tags, summary: 'Revoke every grant of a user, with their tokens', params: userParams, errors: ['not_found'], responses: { 204: null },
  }), async (request, reply) => {
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
