import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { pathFor, ROUTES } from '../../config/routes.js';
import { AccessDenied } from '../../errors/oauth-errors.js';
import { sendAuthorizationError, sendAuthorizationResponse, type ResponseTarget } from '../../http/authorization-response.js';
import { formBody, singleParams } from '../../http/params.js';
import { findClient, type Client } from '../../repositories/clients-repository.js';
import { addConsentedScopes } from '../../repositories/consents-repository.js';
import { consumeInteraction, recordInteractionLogin } from '../../repositories/interactions-repository.js';
import { findScopes } from '../../repositories/scopes-repository.js';
import { findUserById, type User } from '../../repositories/users-repository.js';
import { grantableScopes, issueAuthorizationCode, needsConsent } from '../../services/authorization-service.js';
import { checkCsrfToken, claimInteraction, csrfTokenFor, findInteraction, type PendingAuthorization } from '../../services/interaction-service.js';
import { checkCredentials } from '../../services/login-service.js';
import { consentResources } from '../../services/resource-indicators.js';
import { redirectHostOf, redirectsOnlyToThisDevice } from '../../services/metadata-document-client.js';
import { TooManyAttempts } from '../../errors/throttle-errors.js';
import { findSession, SESSION_COOKIE, startSession } from '../../services/session-service.js';
import { consentPage, errorPage, loginPage } from '../../views/authorization-pages.js';
import { cspSourceFor, sendPage } from '../../views/page.js';
import { clearInteractionCookie, hasInteractionCookie } from './interaction-cookie.js';

interface Loaded {
  interaction: PendingAuthorization;
  client: Client;
  target: ResponseTarget;
}

/**
 * The login and consent pages of a pending authorization. Their forms post back here; Chromium applies
 * form-action to the redirect that follows, so the client's redirect origin is allowed next to 'self'.
 */
export async function interactionRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.ctx;
  const { config } = ctx;

  const fail = (reply: FastifyReply, status: number, message: string) =>
    sendPage(reply, status, errorPage('Sign-in problem', message), { formAction: ["'none'"] });

  /** The live interaction behind the URL, owned by this browser; otherwise an error page is sent. */
  async function load(request: FastifyRequest<{ Params: { uid: string } }>, reply: FastifyReply): Promise<Loaded | undefined> {
    const { uid } = request.params;
    const interaction = await findInteraction(ctx, uid);
    if (!interaction || !hasInteractionCookie(request, uid)) {
      fail(reply, 400, 'This sign-in request has expired or was already completed. Return to the application and try again.');
      return undefined;
    }
    const client = await findClient(ctx.db, interaction.clientId);
    if (!client || !client.isActive) {
      fail(reply, 400, 'The application is no longer available.');
      return undefined;
    }
    const { redirectUri, responseMode, state } = interaction.params;
    return { interaction, client, target: { redirectUri, responseMode, state } };
  }

  const security = (loaded: Loaded) => ({ formAction: ["'self'", cspSourceFor(loaded.interaction.params.redirectUri)] });

  function renderLogin(reply: FastifyReply, loaded: Loaded, status: number, username?: string, error?: string) {
    const { uid } = loaded.interaction;
    const page = loginPage({
      clientName: loaded.client.clientName,
      action: pathFor('interactionLogin', { uid }),
      csrfToken: csrfTokenFor(ctx, uid),
      username: username ?? loaded.interaction.params.loginHint,
      error,
    });
    return sendPage(reply, status, page, security(loaded));
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
    const page = consentPage({
      resources,
      clientName: loaded.client.clientName,
      clientUri: loaded.client.clientUri,
      username: user.username,
      scopes,
      action: pathFor('interactionConsent', { uid }),
      csrfToken: csrfTokenFor(ctx, uid),
      metadataDocument: metadataDocumentNotice(loaded),
    });
    return sendPage(reply, 200, page, security(loaded));
  }

  /** Finishes the authorization exactly once: the interaction is consumed before the code is issued. */
  async function finish(reply: FastifyReply, loaded: Loaded, user: User, login: { authTime: Date; sid: string }) {
    const { interaction, target } = loaded;
    if (!(await consumeInteraction(ctx.db, interaction.uid))) {
      return fail(reply, 400, 'This sign-in request was already completed.');
    }
    clearInteractionCookie(reply, config, interaction.uid);
    const params = await issueAuthorizationCode(ctx, interaction.params, user, login);
    return sendAuthorizationResponse(reply, config.issuer, target, params);
  }

  /** The signed-in user of this interaction, if the browser's session still matches it. */
  async function currentUser(request: FastifyRequest, interaction: PendingAuthorization) {
    const session = await findSession(ctx, request.cookies[SESSION_COOKIE]);
    if (!session || session.sid !== interaction.sid) return undefined;
    const user = await findUserById(ctx.db, session.userId);
    return user?.isActive ? { user, session } : undefined;
  }

  app.get<{ Params: { uid: string } }>(ROUTES.interaction, async (request, reply) => {
    const loaded = await load(request, reply);
    if (!loaded) return reply;
    await claimInteraction(ctx, loaded.interaction.uid);
    if (!loaded.interaction.userId) return renderLogin(reply, loaded, 200);
    const current = await currentUser(request, loaded.interaction);
    if (!current) return fail(reply, 400, 'Your session has ended. Return to the application and try again.');
    return renderConsent(reply, loaded, current.user);
  });

  app.post<{ Params: { uid: string } }>(ROUTES.interactionLogin, async (request, reply) => {
    const loaded = await load(request, reply);
    if (!loaded) return reply;
    const form = singleParams(formBody(request.body, request.headers['content-type']));
    if (!checkCsrfToken(ctx, loaded.interaction.uid, form.csrf_token)) {
      return fail(reply, 403, 'The form has expired. Return to the application and try again.');
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
      return renderLogin(reply, loaded, 429, username, 'Too many failed attempts. Try again later.');
    }
    if (!user) {
      // The attempted login name is left out: people type their password into it by mistake.
      request.audit.record('login.failed', { client_id: loaded.client.clientId, reason: 'invalid_credentials' });
      return renderLogin(reply, loaded, 200, username, 'Invalid username or password.');
    }

    const { cookie, session } = await startSession(ctx, user.id, request.cookies[SESSION_COOKIE]);
    reply.setCookie(SESSION_COOKIE, cookie, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: config.issuer.startsWith('https:'),
      maxAge: config.sessionTtlSeconds,
    });
    const login = { authTime: session.authTime, sid: session.sid };
    request.audit.record('login.succeeded', { actor: user.id, actor_type: 'user', client_id: loaded.client.clientId, sid: session.sid });
    await recordInteractionLogin(ctx.db, loaded.interaction.uid, { userId: user.id, ...login });
    loaded.interaction.sid = session.sid;

    const wantsConsent = await needsConsent(ctx, loaded.interaction.params, loaded.client, user);
    if (wantsConsent) return reply.redirect(pathFor('interaction', { uid: loaded.interaction.uid }), 303);
    return finish(reply, loaded, user, login);
  });

  app.post<{ Params: { uid: string } }>(ROUTES.interactionConsent, async (request, reply) => {
    const loaded = await load(request, reply);
    if (!loaded) return reply;
    const form = singleParams(formBody(request.body, request.headers['content-type']));
    if (!checkCsrfToken(ctx, loaded.interaction.uid, form.csrf_token)) {
      return fail(reply, 403, 'The form has expired. Return to the application and try again.');
    }
    const current = await currentUser(request, loaded.interaction);
    if (!current) return fail(reply, 400, 'Your session has ended. Return to the application and try again.');

    if (form.decision !== 'allow') {
      if (!(await consumeInteraction(ctx.db, loaded.interaction.uid))) {
        return fail(reply, 400, 'This sign-in request was already completed.');
      }
      clearInteractionCookie(reply, config, loaded.interaction.uid);
      ctx.metrics.authorizations.inc({ result: 'access_denied' });
      request.audit.record('consent.denied', { actor: current.user.id, actor_type: 'user', client_id: loaded.client.clientId });
      return sendAuthorizationError(reply, config.issuer, loaded.target, new AccessDenied('the user denied the request'));
    }
    const scopes = grantableScopes(loaded.interaction.params, current.user);
    await addConsentedScopes(ctx.db, current.user.id, loaded.client.clientId, scopes);
    request.audit.record('consent.granted', { actor: current.user.id, actor_type: 'user', client_id: loaded.client.clientId, scope: scopes.join(' ') });
    return finish(reply, loaded, current.user, { authTime: current.session.authTime, sid: current.session.sid });
  });
}
