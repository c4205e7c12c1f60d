import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/config.js';
import { pathFor } from '../../config/routes.js';
import { sendAuthorizationResponse, type ResponseTarget } from '../../http/authorization-response.js';
import { pageContext } from '../../http/page-context.js';
import { findClient, type Client } from '../../repositories/clients-repository.js';
import { consumeInteraction } from '../../repositories/interactions-repository.js';
import type { Session } from '../../repositories/sessions-repository.js';
import { findUserById, type User } from '../../repositories/users-repository.js';
import { issueAuthorizationCode } from '../../services/authorization-service.js';
import type { ServiceContext } from '../../services/context.js';
import { findInteraction, type PendingAuthorization } from '../../services/interaction-service.js';
import { findSession, SESSION_COOKIE } from '../../services/session-service.js';
import { cspSourceFor, errorPage, sendPage, type ErrorPageOptions, type PageSecurity } from '../../views/page.js';
import type { PageContext } from '../../views/page-context.js';
import { finishDeviceAuthorization } from '../device/device-outcome.js';
import { clearInteractionCookie, hasInteractionCookie } from './interaction-cookie.js';

/** A pending authorization as the pages of its sign-in see it. */
export interface Loaded {
  interaction: PendingAuthorization;
  client: Client;
  target: ResponseTarget;
}

/** The page context of an interaction's pages: the language its authorization request asked for first. */
export function interactionPageContext(request: FastifyRequest, loaded?: Loaded): PageContext {
  return pageContext(request, loaded?.interaction.params.uiLocales);
}

/**
 * A sign-in that cannot go on: the message for the person (already in the page's language), a way back
 * (the sign-in page when the interaction is alive), the support reference, and the technical reason.
 */
export function sendSignInProblem(request: FastifyRequest, reply: FastifyReply, status: number, message: string, options: ErrorPageOptions = {}): FastifyReply {
  const pc = pageContext(request);
  return sendPage(reply, status, errorPage(pc, pc.t('signin.problem_title'), message, options), { formAction: ["'none'"] });
}

/** The way back to a live interaction's sign-in page. */
export function backToSignIn(request: FastifyRequest, uid: string): ErrorPageOptions['back'] {
  return { href: pathFor('interaction', { uid }), label: pageContext(request).t('signin.back_to_sign_in') };
}

/** The live interaction behind the URL, owned by this browser; otherwise an error page is sent. */
export async function loadInteraction(
  ctx: ServiceContext,
  request: FastifyRequest<{ Params: { uid: string } }>,
  reply: FastifyReply,
): Promise<Loaded | undefined> {
  const { uid } = request.params;
  const interaction = await findInteraction(ctx, uid);
  const { t } = pageContext(request);
  if (!interaction || !hasInteractionCookie(request, uid)) {
    sendSignInProblem(request, reply, 400, t('signin.expired'), {
      detail: interaction ? 'interaction_not_owned: this browser did not start this sign-in' : 'interaction_expired: no live interaction with this id',
    });
    return undefined;
  }
  const client = await findClient(ctx.db, interaction.clientId);
  if (!client || !client.isActive) {
    sendSignInProblem(request, reply, 400, t('signin.client_unavailable'), { detail: 'client_inactive: the client was deleted or deactivated' });
    return undefined;
  }
  const { redirectUri, responseMode, state } = interaction.params;
  return { interaction, client, target: { redirectUri, responseMode, state } };
}

/** Chromium applies form-action to the redirect that follows a form POST: the client's redirect origin is allowed next to 'self'. */
export function interactionPageSecurity(loaded: Loaded): PageSecurity {
  return { formAction: ["'self'", cspSourceFor(loaded.interaction.params.redirectUri)] };
}

/** Finishes the authorization exactly once: the interaction is consumed before the code is issued. */
export async function finishAuthorization(
  ctx: ServiceContext,
  request: FastifyRequest,
  reply: FastifyReply,
  loaded: Loaded,
  user: User,
  session: Session,
): Promise<FastifyReply> {
  const { interaction, target } = loaded;
  if (!(await consumeInteraction(ctx.db, interaction.uid))) {
    return sendSignInProblem(request, reply, 400, pageContext(request).t('signin.already_completed'), { detail: 'interaction_consumed' });
  }
  clearInteractionCookie(reply, ctx.config, interaction.uid);
  // RFC 8628: a sign-in the /device page started approves the device's request; no code, no redirect.
  const deviceAuthorizationId = interaction.params.deviceAuthorizationId;
  if (deviceAuthorizationId !== undefined) {
    return finishDeviceAuthorization(ctx, request, reply, { ...interaction.params, deviceAuthorizationId }, user, session, interaction.params.uiLocales);
  }
  const params = await issueAuthorizationCode(ctx, interaction.params, user, session);
  return sendAuthorizationResponse(reply, ctx.config.issuer, target, params);
}

/** The signed-in user of this interaction, if the browser's session still matches it. */
export async function currentSignIn(
  ctx: ServiceContext,
  request: FastifyRequest,
  interaction: PendingAuthorization,
): Promise<{ user: User; session: Session } | undefined> {
  const session = await findSession(ctx, request.cookies[SESSION_COOKIE]);
  if (!session || session.sid !== interaction.sid) return undefined;
  const user = await findUserById(ctx.db, session.userId);
  return user?.isActive ? { user, session } : undefined;
}

/** The session cookie set at sign-in; logout clears it with the same attributes. */
export function setSessionCookie(reply: FastifyReply, config: Readonly<Config>, cookie: string): void {
  reply.setCookie(SESSION_COOKIE, cookie, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: config.issuer.startsWith('https:'),
    maxAge: config.sessionTtlSeconds,
  });
}

/** Clears the session cookie with the attributes it was set with (logout, "Not you?"). */
export function clearSessionCookie(reply: FastifyReply, config: Readonly<Config>): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: config.issuer.startsWith('https:') });
}
