import type { FastifyInstance, FastifyReply } from 'fastify';
import { pathFor, ROUTES } from '../../config/routes.js';
import { AccessDenied } from '../../errors/oauth-errors.js';
import { TooManyAttempts } from '../../errors/throttle-errors.js';
import { sendAuthorizationError } from '../../http/authorization-response.js';
import { formBody, singleParams } from '../../http/params.js';
import { addConsentedScopes } from '../../repositories/consents-repository.js';
import { consumeInteraction } from '../../repositories/interactions-repository.js';
import { findScopes } from '../../repositories/scopes-repository.js';
import type { User } from '../../repositories/users-repository.js';
import { grantableScopes } from '../../services/authorization-service.js';
import { checkCsrfToken, claimInteraction, csrfTokenFor } from '../../services/interaction-service.js';
import { checkCredentials } from '../../services/login-service.js';
import { redirectHostOf, redirectsOnlyToThisDevice } from '../../services/metadata-document-client.js';
import { consentResources } from '../../services/resource-indicators.js';
import { consentPage, loginPage } from '../../views/authorization-pages.js';
import { sendPage } from '../../views/page.js';
import { waitInWords } from '../../views/recovery-pages.js';
import { signInLinks } from '../recovery/sign-in-links.js';
import { clearInteractionCookie } from './interaction-cookie.js';
import {
  currentSignIn,
  finishAuthorization,
  interactionPageContext,
  interactionPageSecurity,
  loadInteraction,
  sendSignInProblem,
  type Loaded,
} from './interaction-context.js';
import { passkeySignInOption } from './passkey-route.js';
import { continueSignIn } from './sign-in.js';

/**
 * The login and consent pages of a pending authorization. Their forms post back here; Chromium applies
 * form-action to the redirect that follows, so the client's redirect origin is allowed next to 'self'.
 */
export async function interactionRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.ctx;
  const { config } = ctx;

  function renderLogin(reply: FastifyReply, loaded: Loaded, status: number, username?: string, error?: string) {
    const { uid } = loaded.interaction;
    const pc = interactionPageContext(reply.request, loaded);
    const passkey = passkeySignInOption(ctx, reply.request, loaded);
    const page = loginPage(pc, {
      clientName: loaded.client.clientName,
      action: pathFor('interactionLogin', { uid }),
      csrfToken: csrfTokenFor(ctx, uid),
      username: username ?? loaded.interaction.params.loginHint,
      error,
      passkey: passkey.html,
      links: signInLinks(config, pc, uid),
    });
    return sendPage(reply, status, page, { ...interactionPageSecurity(loaded), ...passkey.security });
  }

  /** What the consent page says of a client ID metadata document's client (MCP authorization, security considerations). */
  function metadataDocumentNotice({ client, interaction }: Loaded) {
    if (client.registrationType !== 'metadata_document') return undefined;
    return {
      clientIdUrl: client.clientId,
      redirectHost: redirectHostOf(interaction.params.redirectUri),
      onlyThisDevice: redirectsOnlyToThisDevice(client),
    };
  }

  async function renderConsent(reply: FastifyReply, loaded: Loaded, user: User) {
    const { uid } = loaded.interaction;
    const scopes = await findScopes(ctx.db, grantableScopes(loaded.interaction.params, user));
    const resources = await consentResources(ctx, loaded.interaction.params.resources ?? []);
    const page = consentPage(interactionPageContext(reply.request, loaded), {
      resources,
      clientName: loaded.client.clientName,
      clientUri: loaded.client.clientUri,
      username: user.username,
      scopes,
      action: pathFor('interactionConsent', { uid }),
      csrfToken: csrfTokenFor(ctx, uid),
      metadataDocument: metadataDocumentNotice(loaded),
    });
    return sendPage(reply, 200, page, interactionPageSecurity(loaded));
  }

  app.get<{ Params: { uid: string } }>(ROUTES.interaction, async (request, reply) => {
    const loaded = await loadInteraction(ctx, request, reply);
    if (!loaded) return reply;
    await claimInteraction(ctx, loaded.interaction.uid);
    if (!loaded.interaction.userId) return renderLogin(reply, loaded, 200);
    const current = await currentSignIn(ctx, request, loaded.interaction);
    if (!current) return sendSignInProblem(request, reply, 400, 'Your session has ended. Return to the application and try again.');
    return renderConsent(reply, loaded, current.user);
  });

  app.post<{ Params: { uid: string } }>(ROUTES.interactionLogin, async (request, reply) => {
    const loaded = await loadInteraction(ctx, request, reply);
    if (!loaded) return reply;
    const form = singleParams(formBody(request.body, request.headers['content-type']));
    if (!checkCsrfToken(ctx, loaded.interaction.uid, form.csrf_token)) {
      return sendSignInProblem(request, reply, 403, 'The form has expired. Return to the application and try again.');
    }
    const username = form.username ?? '';
    let user: User | undefined;
    try {
      user = await checkCredentials(ctx, username, form.password ?? '', request.ip);
    } catch (err) {
      if (!(err instanceof TooManyAttempts)) throw err;
      ctx.metrics.loginAttempts.inc({ status: 'throttled' });
      request.audit.record('login.locked', { client_id: loaded.client.clientId });
      reply.header('retry-after', String(err.retryAfterSeconds));
      // The wait in words, and (on the page) the way out: "Forgot password?".
      const { t } = interactionPageContext(request, loaded);
      return renderLogin(reply, loaded, 429, username, t('recovery.locked', { wait: waitInWords(t, err.retryAfterSeconds) }));
    }
    if (!user) {
      // The attempted login name is left out: people type their password into it by mistake.
      request.audit.record('login.failed', { client_id: loaded.client.clientId, reason: 'invalid_credentials' });
      return renderLogin(reply, loaded, 200, username, 'Invalid username or password.');
    }
    return continueSignIn(ctx, request, reply, loaded, user, ['pwd']);
  });

  app.post<{ Params: { uid: string } }>(ROUTES.interactionConsent, async (request, reply) => {
    const loaded = await loadInteraction(ctx, request, reply);
    if (!loaded) return reply;
    const form = singleParams(formBody(request.body, request.headers['content-type']));
    if (!checkCsrfToken(ctx, loaded.interaction.uid, form.csrf_token)) {
      return sendSignInProblem(request, reply, 403, 'The form has expired. Return to the application and try again.');
    }
    const current = await currentSignIn(ctx, request, loaded.interaction);
    if (!current) return sendSignInProblem(request, reply, 400, 'Your session has ended. Return to the application and try again.');

    if (form.decision !== 'allow') {
      if (!(await consumeInteraction(ctx.db, loaded.interaction.uid))) {
        return sendSignInProblem(request, reply, 400, 'This sign-in request was already completed.');
      }
      clearInteractionCookie(reply, config, loaded.interaction.uid);
      ctx.metrics.authorizations.inc({ result: 'access_denied' });
      request.audit.record('consent.denied', { actor: current.user.id, actor_type: 'user', client_id: loaded.client.clientId });
      return sendAuthorizationError(reply, config.issuer, loaded.target, new AccessDenied('the user denied the request'));
    }
    const scopes = grantableScopes(loaded.interaction.params, current.user);
    await addConsentedScopes(ctx.db, current.user.id, loaded.client.clientId, scopes);
    request.audit.record('consent.granted', { actor: current.user.id, actor_type: 'user', client_id: loaded.client.clientId, scope: scopes.join(' ') });
    return finishAuthorization(ctx, request, reply, loaded, current.user, current.session);
  });
}
