import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { pathFor, ROUTES } from '../../config/routes.js';
import { PasskeyRejected } from '../../errors/passkey-errors.js';
import { TooManyAttempts } from '../../errors/throttle-errors.js';
import { formBody, singleParams } from '../../http/params.js';
import { parseAssertion } from '../../http/webauthn-input.js';
import type { ServiceContext } from '../../services/context.js';
import { checkCsrfToken, csrfTokenFor } from '../../services/interaction-service.js';
import { authenticationOptions, verifyPasskeySignIn } from '../../services/passkey-service.js';
import { loginPage } from '../../views/authorization-pages.js';
import type { Html } from '../../views/html.js';
import { sendPage, type PageSecurity } from '../../views/page.js';
import { passkeyOption, passkeySecondFactorPage } from '../../views/passkey-views.js';
import { interactionPageContext, interactionPageSecurity, loadInteraction, sendSignInProblem, type Loaded } from './interaction-context.js';
import { continueSignIn } from './sign-in.js';

/**
 * The passkey option of a sign-in page (the login page: first factor with the passkey autofill; the MFA
 * page: second factor): its markup and what the page's CSP must add for it — the nonce of Authly's own
 * script, and connect-src 'self' for the options request.
 */
export function passkeySignInOption(
  ctx: ServiceContext,
  request: FastifyRequest,
  loaded: Loaded,
): { html: Html; security: Pick<PageSecurity, 'scriptNonce' | 'connectSrc'> } {
  const { uid } = loaded.interaction;
  const scriptNonce = randomBytes(16).toString('base64');
  const html = passkeyOption(interactionPageContext(request, loaded), {
    action: pathFor('interactionPasskey', { uid }),
    optionsUrl: pathFor('interactionPasskeyOptions', { uid }),
    csrfToken: csrfTokenFor(ctx, uid),
    conditional: loaded.interaction.pendingUserId === null,
    scriptNonce,
  });
  return { html, security: { scriptNonce, connectSrc: ["'self'"] } };
}

/**
 * Passkeys in the sign-in (issue 12 §3). The options are bound to the interaction (its challenge is
 * stored with the interaction's uid) and the assertion comes back to the same interaction, from the
 * browser holding its cookie, with its CSRF token. Without a pending user the passkey is the first
 * factor (any discoverable credential); with one (a password passed and the MFA policy asks for more)
 * it is the second, and must be that user's.
 */
export async function passkeyRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.ctx;

  /** A failed passkey attempt: the login page again (first factor) or the passkey step (second factor). */
  function renderFailure(request: FastifyRequest, reply: FastifyReply, loaded: Loaded, status: number, error: string) {
    const pc = interactionPageContext(request, loaded);
    const option = passkeySignInOption(ctx, request, loaded);
    const security = { ...interactionPageSecurity(loaded), ...option.security };
    const { uid } = loaded.interaction;
    if (loaded.interaction.pendingUserId !== null) {
      const page = passkeySecondFactorPage(pc, {
        action: pathFor('interactionPasskey', { uid }),
        optionsUrl: pathFor('interactionPasskeyOptions', { uid }),
        csrfToken: csrfTokenFor(ctx, uid),
        conditional: false,
        scriptNonce: option.security.scriptNonce,
        error,
      });
      return sendPage(reply, status, page, security);
    }
    const page = loginPage(pc, {
      clientName: loaded.client.clientName,
      action: pathFor('interactionLogin', { uid }),
      csrfToken: csrfTokenFor(ctx, uid),
      username: loaded.interaction.params.loginHint,
      error,
      passkey: option.html,
    });
    return sendPage(reply, status, page, security);
  }

  app.post<{ Params: { uid: string } }>(ROUTES.interactionPasskeyOptions, async (request, reply) => {
    const loaded = await loadInteraction(ctx, request, reply);
    if (!loaded) return reply;
    const form = singleParams(formBody(request.body, request.headers['content-type']));
    reply.header('cache-control', 'no-store');
    if (!checkCsrfToken(ctx, loaded.interaction.uid, form.csrf_token)) {
      return reply.code(403).send({ error: 'invalid_csrf_token' });
    }
    const options = await authenticationOptions(ctx, { interactionUid: loaded.interaction.uid, pendingUserId: loaded.interaction.pendingUserId });
    return reply.send(options);
  });

  // A GET on the form URLs (a reload, a bookmark): back to the interaction's page.
  for (const route of [ROUTES.interactionPasskeyOptions, ROUTES.interactionPasskey]) {
    app.get<{ Params: { uid: string } }>(route, async (request, reply) =>
      reply.header('cache-control', 'no-store').redirect(pathFor('interaction', { uid: request.params.uid }), 303),
    );
  }

  app.post<{ Params: { uid: string } }>(ROUTES.interactionPasskey, async (request, reply) => {
    const loaded = await loadInteraction(ctx, request, reply);
    if (!loaded) return reply;
    const form = singleParams(formBody(request.body, request.headers['content-type']));
    if (!checkCsrfToken(ctx, loaded.interaction.uid, form.csrf_token)) {
      return sendSignInProblem(request, reply, 403, 'The form has expired. Return to the application and try again.');
    }
    const pc = interactionPageContext(request, loaded);
    const clientId = loaded.client.clientId;
    const response = parseAssertion(form.credential);
    try {
      if (!response) throw new PasskeyRejected('malformed');
      const signIn = await verifyPasskeySignIn(ctx, {
        interactionUid: loaded.interaction.uid,
        pendingUserId: loaded.interaction.pendingUserId,
        response,
        ip: request.ip,
      });
      return await continueSignIn(ctx, request, reply, loaded, signIn.user, signIn.methods);
    } catch (err) {
      if (err instanceof TooManyAttempts) {
        ctx.metrics.loginAttempts.inc({ status: 'throttled' });
        request.audit.record('login.locked', { client_id: clientId });
        reply.header('retry-after', String(err.retryAfterSeconds));
        return renderFailure(request, reply, loaded, 429, pc.t('passkeys.too_many'));
      }
      if (!(err instanceof PasskeyRejected)) throw err;
      if (err.reason === 'counter') {
        request.audit.record('passkey.clone_suspected', { client_id: clientId, subject: err.userId, reason: 'signature_counter' });
      }
      // One answer for every reason, as for a wrong password (no enumeration); the audit line keeps why.
      request.audit.record('login.failed', { client_id: clientId, reason: `passkey_${err.reason}` });
      return renderFailure(request, reply, loaded, 200, pc.t('passkeys.signin_failed'));
    }
  });
}
