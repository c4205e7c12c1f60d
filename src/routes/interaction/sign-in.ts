import type { FastifyReply, FastifyRequest } from 'fastify';
import { pathFor } from '../../config/routes.js';
import { mergeAuthMethods, type AuthMethod } from '../../lib/auth-methods.js';
import { recordInteractionFactors, recordInteractionLogin } from '../../repositories/interactions-repository.js';
import type { User } from '../../repositories/users-repository.js';
import { needsConsent } from '../../services/authorization-service.js';
import type { ServiceContext } from '../../services/context.js';
import { acrFor, completeAmr, nextSignInStep } from '../../services/mfa-policy.js';
import { SESSION_COOKIE, startSession } from '../../services/session-service.js';
import { needsEmailVerification, sendUnverifiedPage } from '../recovery/sign-in-links.js';
import { finishAuthorization, setSessionCookie, type Loaded } from './interaction-context.js';

/**
 * A factor of this sign-in passed (a password, a passkey, a one-time code). The MFA policy decides
 * whether another is needed (src/services/mfa-policy.ts): then the progress is kept on the interaction
 * (pending user, methods so far) and the user goes to the second step (/interaction/:uid/mfa); otherwise
 * the session starts with every method passed in this interaction, and the user goes on to consent, or
 * straight back to the client. Every new sign-in passes here, so prompt=login and max_age re-run the
 * factors the policy asks for.
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
  // REQUIRE_EMAIL_VERIFICATION: whichever factor passed first, an unconfirmed address stops here.
  if (needsEmailVerification(ctx.config, user)) {
    request.audit.record('login.email_unverified', { actor: user.id, actor_type: 'user', client_id: client.clientId });
    return sendUnverifiedPage(ctx, request, reply, loaded, user);
  }
  const earlier = interaction.pendingUserId === user.id ? interaction.amr : [];
  const amr = completeAmr(mergeAuthMethods(earlier, methods));
  if ((await nextSignInStep(ctx, interaction.params, client, user.id, amr)) !== 'done') {
    await recordInteractionFactors(ctx.db, interaction.uid, user.id, amr);
    return reply.header('cache-control', 'no-store').redirect(pathFor('interactionMfa', { uid: interaction.uid }), 303);
  }
  const acr = acrFor(amr, interaction.params.acrValues);
  const { cookie, session } = await startSession(ctx, user.id, request.cookies[SESSION_COOKIE], { amr, acr });
  setSessionCookie(reply, ctx.config, cookie);
  request.audit.record('login.succeeded', { actor: user.id, actor_type: 'user', client_id: client.clientId, sid: session.sid, amr: amr.join(' ') });
  await recordInteractionLogin(ctx.db, interaction.uid, { userId: user.id, authTime: session.authTime, sid: session.sid });
  interaction.sid = session.sid;

  if (await needsConsent(ctx, interaction.params, client, user)) {
    return reply.redirect(pathFor('interaction', { uid: interaction.uid }), 303);
  }
  return finishAuthorization(ctx, request, reply, loaded, user, session);
}
