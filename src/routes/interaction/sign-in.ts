import type { FastifyReply, FastifyRequest } from 'fastify';
import { pathFor } from '../../config/routes.js';
import { mergeAuthMethods, type AuthMethod } from '../../lib/auth-methods.js';
import { recordInteractionLogin } from '../../repositories/interactions-repository.js';
import type { User } from '../../repositories/users-repository.js';
import { needsConsent } from '../../services/authorization-service.js';
import type { ServiceContext } from '../../services/context.js';
import { SESSION_COOKIE, startSession } from '../../services/session-service.js';
import { finishAuthorization, setSessionCookie, type Loaded } from './interaction-context.js';

/**
 * A factor of this sign-in passed (a password, a passkey, a one-time code): the session starts with every
 * method passed in this interaction, then the user goes on to consent, or straight back to the client.
 */
export async function continueSignIn(
  ctx: ServiceContext,
  request: FastifyRequest,
  reply: FastifyReply,
  loaded: Loaded,
  user: User,
  methods: readonly AuthMethod[],
): Promise<FastifyReply> {
  const { interaction, client } = loaded;
  const earlier = interaction.pendingUserId === user.id ? interaction.amr : [];
  const amr = mergeAuthMethods(earlier, methods);
  const { cookie, session } = await startSession(ctx, user.id, request.cookies[SESSION_COOKIE], { amr });
  setSessionCookie(reply, ctx.config, cookie);
  request.audit.record('login.succeeded', { actor: user.id, actor_type: 'user', client_id: client.clientId, sid: session.sid, amr: amr.join(' ') });
  await recordInteractionLogin(ctx.db, interaction.uid, { userId: user.id, authTime: session.authTime, sid: session.sid });
  interaction.sid = session.sid;

  if (await needsConsent(ctx, interaction.params, client, user)) {
    return reply.redirect(pathFor('interaction', { uid: interaction.uid }), 303);
  }
  return finishAuthorization(ctx, request, reply, loaded, user, session);
}
