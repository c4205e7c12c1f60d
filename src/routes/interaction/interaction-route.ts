import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { pathFor, ROUTES } from '../../config/routes.js';
import { AccessDenied } from '../../errors/oauth-errors.js';
import { TooManyAttempts } from '../../errors/throttle-errors.js';
import { sendAuthorizationError } from '../../http/authorization-response.js';
import { formBody, singleParams } from '../../http/params.js';
import { addConsentedScopes } from '../../repositories/consents-repository.js';
import { consumeInteraction, forgetInteractionLogin } from '../../repositories/interactions-repository.js';
import { findScopes } from '../../repositories/scopes-repository.js';
import type { User } from '../../repositories/users-repository.js';
import { grantableScopes } from '../../services/authorization-service.js';
import { checkCsrfToken, claimInteraction, csrfTokenFor } from '../../services/interaction-service.js';
import { checkCredentials } from '../../services/login-service.js';
import { endSession } from '../../services/logout-service.js';
import { redirectHostOf, redirectsOnlyToThisDevice } from '../../services/metadata-document-client.js';
import { consentResources } from '../../services/resource-indicators.js';
import { consentPage, loginPage } from '../../views/authorization-pages.js';
import { waitInWords } from '../../views/components.js';
import { sendPage } from '../../views/page.js';
import { signInLinks } from '../recovery/sign-in-links.js';
import { denyDeviceAuthorization } from '../device/device-outcome.js';
import { clearInteractionCookie } from './interaction-cookie.js';
import {
  backToSignIn,
  clearSessionCookie,
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

  const formExpired = (request: FastifyRequest, reply: FastifyReply, loaded: Loaded) =>
    sendSignInProblem(request, reply, 403, interactionPageContext(request, loaded).t('signin.form_expired'), {
      back: backToSignIn(request, loaded.interaction.uid),
      detail: 'csrf_token_invalid: the form was older than its token or came from another page',
    });
  const sessionEnded = (request: FastifyRequest, reply: FastifyReply, loaded: Loaded) =>
    sendSignInProblem(request, reply, 400, interactionPageContext(request, loaded).t('signin.session_ended'), {
      detail: "session_mismatch: this browser's session is not the one that signed in to this request",
    });

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

  /**
   * A client's URI shown on the consent page: https only (http for loopback hosts, as in development), never
   * another scheme. A metadata-document client is vouched for by nobody, so only URIs on its client_id's own
   * origin are shown: a copied logo or a borrowed privacy policy from elsewhere would lend it a trust it has not earned.
   */
  function shownClientUri(client: Loaded['client'], uri: string | null | undefined): string | undefined {
    if (!uri) return undefined;
    try {
      const url = new URL(uri);
      if (client.registrationType === 'metadata_document' && url.origin !== new URL(client.clientId).origin) return undefined;
      if (url.protocol === 'https:') return url.href;
      if (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) return url.href;
    } catch {
      return undefined;
    }
    return undefined;
  }

  async function renderConsent(reply: FastifyReply, loaded: Loaded, user: User) {
    const { uid } = loaded.interaction;
    const scopes = await findScopes(ctx.db, grantableScopes(loaded.interaction.params, user));
    const resources = await consentResources(ctx, loaded.interaction.params.resources ?? []);
    const { client } = loaded;
    const logoUri = shownClientUri(client, client.logoUri);
    const page = consentPage(interactionPageContext(reply.request, loaded), {
      resources,
      clientName: client.clientName,
      clientUri: shownClientUri(client, client.clientUri) ?? null,
      logoUri,
      policyUri: shownClientUri(client, client.policyUri),
      tosUri: shownClientUri(client, client.tosUri),
      username: user.username,
      scopes,
      action: pathFor('interactionConsent', { uid }),
      switchAccountAction: pathFor('interactionSwitchAccount', { uid }),
      csrfToken: csrfTokenFor(ctx, uid),
      metadataDocument: metadataDocumentNotice(loaded),
    });
    // The client's logo is the one image from another origin a page may show: the client declared it.
    const security = interactionPageSecurity(loaded);
    return sendPage(reply, 200, page, logoUri ? { ...security, imgSrc: [new URL(logoUri).origin] } : security);
  }

  app.get<{ Params: { uid: string } }>(ROUTES.interaction, async (request, reply) => {
    const loaded = await loadInteraction(ctx, request, reply);
    if (!loaded) return reply;
    await claimInteraction(ctx, loaded.interaction.uid);
    if (!loaded.interaction.userId) return renderLogin(reply, loaded, 200);
    const current = await currentSignIn(ctx, request, loaded.interaction);
    if (!current) return sessionEnded(request, reply, loaded);
    return renderConsent(reply, loaded, current.user);
  });

  app.post<{ Params: { uid: string } }>(ROUTES.interactionLogin, async (request, reply) => {
    const loaded = await loadInteraction(ctx, request, reply);
    if (!loaded) return reply;
    const form = singleParams(formBody(request.body, request.headers['content-type']));
    if (!checkCsrfToken(ctx, loaded.interaction.uid, form.csrf_token)) return formExpired(request, reply, loaded);
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
      const pc = interactionPageContext(request, loaded);
      return renderLogin(reply, loaded, 429, username, pc.t('signin.locked', { wait: waitInWords(pc.locale, err.retryAfterSeconds) }));
    }
    if (!user) {
      // The attempted login name is left out: people type their password into it by mistake.
      request.audit.record('login.failed', { client_id: loaded.client.clientId, reason: 'invalid_credentials' });
      return renderLogin(reply, loaded, 200, username, interactionPageContext(request, loaded).t('signin.invalid_credentials'));
    }
    return continueSignIn(ctx, request, reply, loaded, user, ['pwd']);
  });

  app.post<{ Params: { uid: string } }>(ROUTES.interactionConsent, async (request, reply) => {
    const loaded = await loadInteraction(ctx, request, reply);
    if (!loaded) return reply;
    const form = singleParams(formBody(request.body, request.headers['content-type']));
    if (!checkCsrfToken(ctx, loaded.interaction.uid, form.csrf_token)) return formExpired(request, reply, loaded);
    const current = await currentSignIn(ctx, request, loaded.interaction);
    if (!current) return sessionEnded(request, reply, loaded);

    if (form.decision !== 'allow') {
      if (!(await consumeInteraction(ctx.db, loaded.interaction.uid))) {
        return sendSignInProblem(request, reply, 400, interactionPageContext(request, loaded).t('signin.already_completed'), { detail: 'interaction_consumed' });
      }
      clearInteractionCookie(reply, config, loaded.interaction.uid);
      const { deviceAuthorizationId, uiLocales } = loaded.interaction.params;
      if (deviceAuthorizationId !== undefined) {
        // RFC 8628 section 3.5: the device gets access_denied at its next poll.
        return denyDeviceAuthorization(ctx, request, reply, { clientId: loaded.client.clientId, deviceAuthorizationId }, { userId: current.user.id }, uiLocales);
      }
      ctx.metrics.authorizations.inc({ result: 'access_denied' });
      request.audit.record('consent.denied', { actor: current.user.id, actor_type: 'user', client_id: loaded.client.clientId });
      return sendAuthorizationError(reply, config.issuer, loaded.target, new AccessDenied('the user denied the request'));
    }
    const scopes = grantableScopes(loaded.interaction.params, current.user);
    await addConsentedScopes(ctx.db, current.user.id, loaded.client.clientId, scopes);
    request.audit.record('consent.granted', { actor: current.user.id, actor_type: 'user', client_id: loaded.client.clientId, scope: scopes.join(' ') });
    return finishAuthorization(ctx, request, reply, loaded, current.user, current.session);
  });

  // A form URL opened by GET (a bookmark, a reload after a failed post, a shared link): back to the page
  // that shows the form, which itself says when the sign-in has expired.
  for (const route of [ROUTES.interactionLogin, ROUTES.interactionConsent, ROUTES.interactionSwitchAccount]) {
    app.get<{ Params: { uid: string } }>(route, async (request, reply) =>
      reply.header('cache-control', 'no-store').redirect(pathFor('interaction', { uid: request.params.uid }), 303),
    );
  }

  // "Not you?" on the consent page: this browser's session ends and the same authorization asks who signs in.
  app.post<{ Params: { uid: string } }>(ROUTES.interactionSwitchAccount, async (request, reply) => {
    const loaded = await loadInteraction(ctx, request, reply);
    if (!loaded) return reply;
    const form = singleParams(formBody(request.body, request.headers['content-type']));
    if (!checkCsrfToken(ctx, loaded.interaction.uid, form.csrf_token)) return formExpired(request, reply, loaded);
    const current = await currentSignIn(ctx, request, loaded.interaction);
    if (current) {
      await endSession(ctx, current.session);
      request.audit.record('session.ended', {
        actor: current.user.id,
        actor_type: 'user',
        client_id: loaded.client.clientId,
        sid: current.session.sid,
        reason: 'switch_account',
      });
    }
    await forgetInteractionLogin(ctx.db, loaded.interaction.uid);
    clearSessionCookie(reply, config);
    return reply.header('cache-control', 'no-store').redirect(pathFor('interaction', { uid: loaded.interaction.uid }), 303);
  });
}
