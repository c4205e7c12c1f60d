import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { pathFor, ROUTES } from '../../config/routes.js';
import { ConsentRequired, LoginRequired, OAuthError } from '../../errors/oauth-errors.js';
import { sendAuthorizationError, sendAuthorizationResponse } from '../../http/authorization-response.js';
import { rawQuery, type RawParams } from '../../http/form-body.js';
import { formBody } from '../../http/params.js';
import { findUserById } from '../../repositories/users-repository.js';
import { noteClientUse } from '../../services/client-usage.js';
import type { AuthorizationRequest } from '../../services/authorization-request.js';
import { issueAuthorizationCode, needsConsent, needsLogin } from '../../services/authorization-service.js';
import { startInteraction } from '../../services/interaction-service.js';
import { sessionSatisfiesMfaPolicy } from '../../services/mfa-policy.js';
import { findSession, SESSION_COOKIE } from '../../services/session-service.js';
import { errorPage, sendPage } from '../../views/page.js';
import { setInteractionCookie } from '../interaction/interaction-cookie.js';
import { UntrustedRedirectError, type AuthorizeContext } from './steps/authorize-context.js';
import { VALIDATE_REQUEST_STEPS, VERIFY_REDIRECT_STEPS } from './steps/index.js';
import { pageContext } from '../../http/page-context.js';

/** RFC 6749 section 4.1.1 / OIDC Core section 3.1.2: GET with a query, or POST with a form body. */
export async function authorizeRoutes(app: FastifyInstance): Promise<void> {
  const services = app.ctx;

  async function authorize(request: FastifyRequest, reply: FastifyReply, raw: RawParams): Promise<FastifyReply> {
    const c: AuthorizeContext = { services, raw, params: {}, request: { prompt: [] } };
    try {
      for (const step of VERIFY_REDIRECT_STEPS) await step(c);
    } catch (err) {
      if (!(err instanceof UntrustedRedirectError)) throw err;
      // A pushed request or request object that cannot be used is counted by its own code (RFC 9126, RFC 9101).
      services.metrics.authorizations.inc({ result: err.error === 'invalid_request' ? 'invalid_client_or_redirect_uri' : err.error });
      // ui_locales is read even though the request was refused: the person still reads their language.
      const uiLocales = raw.ui_locales?.length === 1 ? raw.ui_locales[0] : undefined;
      const pc = pageContext(request, uiLocales);
      // RFC 6749 section 4.1.2.1: never redirect to an unverified URI; the person reads what to do, the developer the reason.
      const page = errorPage(pc, pc.t('errors.invalid_request_title'), pc.t('errors.invalid_authorization'), { detail: err.message });
      return sendPage(reply, 400, page, { formAction: ["'none'"] });
    }
    const target = { redirectUri: c.request.redirectUri!, responseMode: c.request.responseMode!, state: c.request.state };
    // A verified client and redirect URI: an authorization request counts as a use (cleanup of idle clients).
    void noteClientUse(services, c.client!);
    try {
      for (const step of VALIDATE_REQUEST_STEPS) await step(c);
      const authRequest = c.request as AuthorizationRequest;
      const session = await findSession(services, request.cookies[SESSION_COOKIE]);
      const prompt = new Set(authRequest.prompt);

      if (!session || needsLogin(authRequest, session)) {
        if (prompt.has('none')) throw new LoginRequired('the user is not signed in');
        return await redirectToInteraction(reply, authRequest);
      }
      const user = await findUserById(services.db, session.userId);
      if (!user) throw new LoginRequired('the user is not signed in');
      // OIDC Core section 3.1.2.1: a hint naming another user than the signed-in one means a fresh login
      // (or login_required when no page may be shown), never a code for the wrong account.
      if (authRequest.idTokenHintSub !== undefined && authRequest.idTokenHintSub !== user.id) {
        if (prompt.has('none')) throw new LoginRequired('the signed-in user is not the one named by id_token_hint');
        return await redirectToInteraction(reply, authRequest);
      }
      // An existing session that did not pass the second factor this client requires (MFA policy or
      // acr_values, OIDC Core section 3.1.2.1) does not satisfy it: a new sign-in re-runs the factors.
      if (!sessionSatisfiesMfaPolicy(services.config, c.client!, authRequest, session)) {
        if (prompt.has('none')) throw new LoginRequired('the session does not have the multi-factor authentication this request requires');
        return await redirectToInteraction(reply, authRequest);
      }
      if (await needsConsent(services, authRequest, c.client!, user)) {
        if (prompt.has('none')) throw new ConsentRequired('the user has not consented to this request');
        return await redirectToInteraction(reply, authRequest, session);
      }
      const params = await issueAuthorizationCode(services, authRequest, user, session);
      return sendAuthorizationResponse(reply, services.config.issuer, target, params);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      services.metrics.authorizations.inc({ result: err.error });
      return sendAuthorizationError(reply, services.config.issuer, target, err);
    }
  }

  async function redirectToInteraction(
    reply: FastifyReply,
    authRequest: AuthorizationRequest,
    session?: Parameters<typeof startInteraction>[2],
  ): Promise<FastifyReply> {
    const uid = await startInteraction(services, authRequest, session);
    services.metrics.authorizations.inc({ result: 'interaction_required' });
    setInteractionCookie(reply, services.config, uid);
    return reply.header('cache-control', 'no-store').redirect(pathFor('interaction', { uid }), 303);
  }

  app.get(ROUTES.authorization, (request, reply) => authorize(request, reply, rawQuery(request.url)));
  app.post(ROUTES.authorization, (request, reply) =>
    authorize(request, reply, formBody(request.body, request.headers['content-type'])),
  );
}
