import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { pathFor, ROUTES } from '../../config/routes.js';
import { InvalidRequest } from '../../errors/oauth-errors.js';
import { rawQuery, type RawParams } from '../../http/form-body.js';
import { formBody, singleParams, type SingleParams } from '../../http/params.js';
import type { Session } from '../../repositories/sessions-repository.js';
import {
  checkLogoutCsrfToken,
  confirmationFields,
  endSession,
  hintMatchesSession,
  InvalidLogoutRequest,
  logoutCsrfToken,
  postLogoutRedirect,
  validateLogoutRequest,
  type LogoutRequest,
} from '../../services/logout-service.js';
import { findSession, SESSION_COOKIE } from '../../services/session-service.js';
import { logoutConfirmPage, signedOutPage } from '../../views/logout-pages.js';
import { cspSourceFor, errorPage, sendPage } from '../../views/page.js';
import { pageContext } from '../../http/page-context.js';

/**
 * OpenID Connect RP-Initiated Logout 1.0 at the end_session_endpoint, GET and POST. A request is
 * validated first (a bad one gets a 400 page and changes nothing); then a hint naming this browser's
 * session logs out at once, and anything else asks the user to confirm with a CSRF-protected form. The
 * confirmation posts back here with `confirm=yes`; a POST without it is a relying party's logout request.
 */
export async function logoutRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.ctx;
  const { config } = ctx;
  const action = pathFor('endSession');

  /** A sign-out that cannot go on: the person's message, and the technical reason below it. */
  const fail = (reply: FastifyReply, status: number, message: 'logout.invalid' | 'logout.form_expired', detail?: string) => {
    const pc = pageContext(reply.request);
    return sendPage(reply, status, errorPage(pc, pc.t('logout.problem_title'), pc.t(message), { detail }), { formAction: ["'none'"] });
  };

  /** Same attributes as the cookie set at login (src/routes/interaction/interaction-route.ts). */
  const clearSessionCookie = (reply: FastifyReply) =>
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: config.issuer.startsWith('https:') });

  /** Single-valued parameters, or undefined after sending a 400 page (repeated, NUL, not a form). */
  function paramsOf(reply: FastifyReply, read: () => RawParams): SingleParams | undefined {
    try {
      return singleParams(read());
    } catch (err) {
      if (!(err instanceof InvalidRequest)) throw err;
      fail(reply, 400, 'logout.invalid', `The sign-out request is malformed: ${err.description}.`);
      return undefined;
    }
  }

  async function validated(reply: FastifyReply, params: SingleParams): Promise<LogoutRequest | undefined> {
    try {
      return await validateLogoutRequest(ctx, params);
    } catch (err) {
      if (!(err instanceof InvalidLogoutRequest)) throw err;
      fail(reply, 400, 'logout.invalid', err.message);
      return undefined;
    }
  }

  /** After logout (or with no session): the verified post-logout redirect, else the signed-out page. */
  function signedOut(reply: FastifyReply, request: LogoutRequest) {
    const location = postLogoutRedirect(request);
    if (location) return reply.header('cache-control', 'no-store').redirect(location, 303);
    return sendPage(reply, 200, signedOutPage(pageContext(reply.request)), { formAction: ["'none'"] });
  }

  async function logOut(request: FastifyRequest, reply: FastifyReply, session: Session, logout: LogoutRequest) {
    await endSession(ctx, session);
    clearSessionCookie(reply);
    request.audit.record('session.ended', { actor: session.userId, actor_type: 'user', client_id: logout.client?.clientId, sid: session.sid, reason: 'logout' });
    return signedOut(reply, logout);
  }

  /** A relying party's logout request (section 2), by GET or POST. */
  async function requestLogout(request: FastifyRequest, reply: FastifyReply, params: SingleParams) {
    const logout = await validated(reply, params);
    if (!logout) return reply;
    const cookie = request.cookies[SESSION_COOKIE];
    const session = await findSession(ctx, cookie);
    if (!session) {
      if (cookie !== undefined) clearSessionCookie(reply);
      return signedOut(reply, logout);
    }
    if (hintMatchesSession(logout, session)) return logOut(request, reply, session, logout);

    const fields = confirmationFields(logout);
    const redirect = postLogoutRedirect(logout);
    const page = logoutConfirmPage(pageContext(request), {
      clientName: logout.client?.clientName,
      action,
      csrfToken: logoutCsrfToken(ctx, session.sid, fields),
      fields,
    });
    // Chromium applies form-action to the redirect that follows the POST (SECURITY.md).
    return sendPage(reply, 200, page, { formAction: ["'self'", ...(redirect ? [cspSourceFor(redirect)] : [])] });
  }

  /** The user's answer on the confirmation page: CSRF first, then the carried parameters again. */
  async function confirmLogout(request: FastifyRequest, reply: FastifyReply, form: SingleParams) {
    const session = await findSession(ctx, request.cookies[SESSION_COOKIE]);
    if (!session) return sendPage(reply, 200, signedOutPage(pageContext(request)), { formAction: ["'none'"] });
    if (!checkLogoutCsrfToken(ctx, session.sid, form, form.csrf_token)) {
      return fail(reply, 403, 'logout.form_expired', 'csrf_token_invalid');
    }
    const { client_id, post_logout_redirect_uri, state } = form;
    const logout = await validated(reply, { client_id, post_logout_redirect_uri, state });
    if (!logout) return reply;
    return logOut(request, reply, session, logout);
  }

  app.get(ROUTES.endSession, async (request, reply) => {
    const params = paramsOf(reply, () => rawQuery(request.url));
    return params ? requestLogout(request, reply, params) : reply;
  });

  app.post(ROUTES.endSession, async (request, reply) => {
    const params = paramsOf(reply, () => formBody(request.body, request.headers['content-type']));
    if (!params) return reply;
    const isConfirmation = params.confirm !== undefined || params.csrf_token !== undefined;
    return isConfirmation ? confirmLogout(request, reply, params) : requestLogout(request, reply, params);
  });
}
