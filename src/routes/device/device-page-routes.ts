import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { pathFor, ROUTES, urlFor } from '../../config/routes.js';
import { TooManyAttempts } from '../../errors/throttle-errors.js';
import { pageContext } from '../../http/page-context.js';
import { formBody, singleParams } from '../../http/params.js';
import { parseScope } from '../../lib/scopes.js';
import { findScopes } from '../../repositories/scopes-repository.js';
import { findUserById } from '../../repositories/users-repository.js';
import type { AuthorizationRequest } from '../../services/authorization-request.js';
import { needsLogin } from '../../services/authorization-service.js';
import {
  confirmationToken,
  findConfirmedDeviceRequest,
  findDeviceRequest,
  formatUserCode,
  normaliseUserCode,
  type DeviceRequest,
} from '../../services/device-authorization-service.js';
import { startInteraction } from '../../services/interaction-service.js';
import { sessionSatisfiesMfaPolicy } from '../../services/mfa-policy.js';
import { consentResources } from '../../services/resource-indicators.js';
import { findSession, SESSION_COOKIE } from '../../services/session-service.js';
import { waitInWords } from '../../views/components.js';
import { deviceCodePage, deviceConfirmPage, deviceOutcomePage } from '../../views/device-pages.js';
import { sendPage } from '../../views/page.js';
import { setInteractionCookie } from '../interaction/interaction-cookie.js';
import { checkFormCsrfToken, formCsrfToken } from '../recovery/form-csrf.js';
import { denyDeviceAuthorization } from './device-outcome.js';

const SELF = { formAction: ["'self'"] };

/** What a person may have typed: bounded, so a pasted essay is not echoed back into the page. */
const MAX_TYPED = 20;

/**
 * The verification page of RFC 8628 section 3.3, mounted while DEVICE_GRANT_ENABLED:
 *
 * 1. GET /device (?user_code= from verification_uri_complete, only prefilled): the code form.
 * 2. POST /device: the code looked up (throttled per address, section 5.1); the confirmation page says which
 *    client asks for what, and which code the person's device should show (section 5.4, remote phishing).
 * 3. POST /device/confirm (the request by id, under an HMAC only a lookup hands out): Deny ends it (the device gets access_denied); Continue starts the normal sign-in
 *    (src/routes/interaction: every factor, lockout and MFA rule applies), whose end approves the request
 *    (src/routes/device/device-outcome.ts) instead of sending a code.
 */
export async function devicePageRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.ctx;
  const { config } = ctx;
  if (!config.deviceGrant.enabled) return;

  function codePage(request: FastifyRequest, reply: FastifyReply, status: number, userCode?: string, error?: string) {
    const pc = pageContext(request);
    const page = deviceCodePage(pc, { action: ROUTES.device, csrfToken: formCsrfToken(ctx, request, reply), userCode, error });
    return sendPage(reply, status, page, SELF);
  }

  /** The code as shown back in the form: formatted when it is one, else what was typed (bounded). */
  const shownCode = (typed: string) => {
    const code = normaliseUserCode(typed);
    return code ? formatUserCode(code) : typed.trim().slice(0, MAX_TYPED);
  };

  /** The request behind the posted code, or the code page again (with why) already sent. */
  async function lookUp(request: FastifyRequest, reply: FastifyReply, typed: string): Promise<DeviceRequest | undefined> {
    const pc = pageContext(request);
    try {
      const found = await findDeviceRequest(ctx, typed, request.ip);
      if (!found) codePage(request, reply, 400, shownCode(typed), pc.t('device.code_invalid'));
      return found;
    } catch (err) {
      if (!(err instanceof TooManyAttempts)) throw err;
      reply.header('retry-after', String(err.retryAfterSeconds));
      codePage(request, reply, 429, shownCode(typed), pc.t('device.locked', { wait: waitInWords(pc.locale, err.retryAfterSeconds) }));
      return undefined;
    }
  }

  const form = (request: FastifyRequest) => singleParams(formBody(request.body, request.headers['content-type']));

  app.get(ROUTES.device, async (request, reply) => {
    const typed = (request.query as Record<string, unknown> | undefined)?.user_code;
    return codePage(request, reply, 200, typeof typed === 'string' ? shownCode(typed) : undefined);
  });

  app.post(ROUTES.device, async (request, reply) => {
    const params = form(request);
    const pc = pageContext(request);
    if (!checkFormCsrfToken(ctx, request, params.csrf_token)) return codePage(request, reply, 403, undefined, pc.t('device.form_expired'));
    const found = await lookUp(request, reply, params.user_code ?? '');
    if (!found) return reply;
    const { authorization, client } = found;
    const page = deviceConfirmPage(pc, {
      action: ROUTES.deviceConfirm,
      fields: {
        csrf_token: formCsrfToken(ctx, request, reply),
        request_id: authorization.id,
        confirm_token: confirmationToken(ctx, authorization.id),
      },
      userCode: shownCode(params.user_code ?? ''),
      clientName: client.clientName,
      scopes: await findScopes(ctx.db, parseScope(authorization.scope)),
      resources: await consentResources(ctx, authorization.resources),
    });
    return sendPage(reply, 200, page, SELF);
  });

  // A bookmark or reload of the confirmation's URL: back to the code form.
  app.get(ROUTES.deviceConfirm, async (_request, reply) => reply.header('cache-control', 'no-store').redirect(ROUTES.device, 303));

  app.post(ROUTES.deviceConfirm, async (request, reply) => {
    const params = form(request);
    const pc = pageContext(request);
    if (!checkFormCsrfToken(ctx, request, params.csrf_token)) return codePage(request, reply, 403, undefined, pc.t('device.form_expired'));
    const found = await findConfirmedDeviceRequest(ctx, params.request_id ?? '', params.confirm_token ?? '');
    if (!found) return sendPage(reply, 400, deviceOutcomePage(pc, 'gone'), { formAction: ["'none'"] });
    const { authorization, client } = found;
    if (params.decision !== 'allow') {
      return denyDeviceAuthorization(ctx, request, reply, { clientId: client.clientId, deviceAuthorizationId: authorization.id }, {});
    }

    const authRequest: AuthorizationRequest = {
      clientId: client.clientId,
      // The /device page itself: the sign-in's forms may post to it (form-action), and nothing is sent there.
      redirectUri: urlFor(config.issuer, 'device'),
      responseMode: 'query',
      scopes: parseScope(authorization.scope),
      ...(authorization.resources.length > 0 ? { resources: authorization.resources } : {}),
      prompt: [],
      deviceAuthorizationId: authorization.id,
    };
    // As the authorization endpoint decides (src/routes/authorize): a session that is fresh enough and has
    // the factors the client's MFA policy asks for goes to the consent page, where the signed-in person
    // sees who they are and says yes; otherwise a new sign-in.
    const session = await findSession(ctx, request.cookies[SESSION_COOKIE]);
    const user = session && !needsLogin(authRequest, session) ? await findUserById(ctx.db, session.userId) : undefined;
    const keep = session && user?.isActive && sessionSatisfiesMfaPolicy(config, client, authRequest, session) ? session : undefined;
    const uid = await startInteraction(ctx, authRequest, keep);
    setInteractionCookie(reply, config, uid);
    return reply.header('cache-control', 'no-store').redirect(pathFor('interaction', { uid }), 303);
  });
}
