import type { FastifyInstance, FastifyReply } from 'fastify';
import { MAX_JSON_DEPTH } from '../../config/input-limits.js';
import { ROUTES, urlFor } from '../../config/routes.js';
import { findUnacceptableJsonString, jsonDepthWithin } from '../../http/input-guard.js';
import { epochSeconds } from '../../lib/time.js';
import { registrationError } from '../../services/registration/registration-metadata.js';
import {
  checkRegistrationPolicy,
  deleteRegistration,
  readRegistration,
  registerClient,
  updateRegistration,
  type RegisteredClient,
} from '../../services/registration/registration-service.js';

/**
 * RFC 7591 dynamic client registration (POST ROUTES.registration) and the RFC 7592 client configuration
 * endpoint (GET, PUT, DELETE ROUTES.registrationClient), JSON in and out. Errors are OAuth JSON
 * (src/http/error-handler.ts): 400 invalid_redirect_uri / invalid_client_metadata (RFC 7591 section 3.2.2),
 * 401 invalid_token with a Bearer challenge for a missing or wrong token (RFC 6750 section 3.1), 403
 * access_denied while REGISTRATION_POLICY=closed. The rate-limit policy `registration` applies to POST.
 */

/**
 * RFC 7591 section 3.2.1 / RFC 7592 section 3: the client information response. Metadata the client did not
 * register (null, empty) is left out; client_secret appears only when it is issued.
 */
export function clientInformation(issuer: string, registered: RegisteredClient): Record<string, unknown> {
  const { client, applicationType, clientSecret, registrationAccessToken } = registered;
  const optional = {
    post_logout_redirect_uris: client.postLogoutRedirectUris.length > 0 ? client.postLogoutRedirectUris : undefined,
    client_uri: client.clientUri ?? undefined,
    logo_uri: client.logoUri ?? undefined,
    tos_uri: client.tosUri ?? undefined,
    policy_uri: client.policyUri ?? undefined,
    contacts: client.contacts.length > 0 ? client.contacts : undefined,
    backchannel_logout_uri: client.backchannelLogoutUri ?? undefined,
    // OIDC Back-Channel Logout 1.0 section 2.2: reported with the URI it qualifies.
    backchannel_logout_session_required: client.backchannelLogoutUri ? client.backchannelLogoutSessionRequired : undefined,
    jwks: client.jwks ?? undefined,
    jwks_uri: client.jwksUri ?? undefined,
    token_endpoint_auth_signing_alg: client.tokenEndpointAuthSigningAlg ?? undefined,
  };
  return {
    client_id: client.clientId,
    ...(clientSecret !== null ? { client_secret: clientSecret } : {}),
    client_id_issued_at: epochSeconds(client.createdAt),
    // 0: the secret never expires (RFC 7591 section 3.2.1); REQUIRED whenever the client has one.
    ...(client.clientType === 'confidential' && client.tokenEndpointAuthMethod !== 'private_key_jwt' ? { client_secret_expires_at: 0 } : {}),
    registration_access_token: registrationAccessToken,
    registration_client_uri: urlFor(issuer, 'registrationClient', { client_id: client.clientId }),
    client_name: client.clientName,
    application_type: applicationType,
    redirect_uris: client.redirectUris,
    grant_types: client.grantTypes,
    response_types: client.responseTypes,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    scope: client.scope,
    id_token_signed_response_alg: client.idTokenSignedResponseAlg,
    // RFC 9449 section 5.2: false is the default, and returned like every registered value.
    dpop_bound_access_tokens: client.dpopBoundAccessTokens,
    ...(client.requirePushedAuthorizationRequests ? { require_pushed_authorization_requests: true } : {}),
    ...(client.requestObjectSigningAlg !== null ? { request_object_signing_alg: client.requestObjectSigningAlg } : {}),
    ...(client.requireSignedRequestObject ? { require_signed_request_object: true } : {}),
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
  };
}

const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store').header('pragma', 'no-cache');

type WithClientId = { Params: { client_id: string } };

export async function registrationRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  acceptRegistrationJson(app);
  const service = (request: { audit: typeof ctx.audit }) => ({ ...ctx, audit: request.audit });

  // RFC 7591 section 3.1: steps in order — policy (and initial access token), metadata, then one transaction.
  app.post(ROUTES.registration, async (request, reply) => {
    noStore(reply);
    const initialAccessTokenHash = await checkRegistrationPolicy(ctx, request.headers.authorization);
    const registered = await registerClient(service(request), request.body, initialAccessTokenHash);
    return reply.code(201).send(clientInformation(ctx.config.issuer, registered));
  });

  // RFC 7592 section 2: the token is checked before the body is looked at.
  app.get<WithClientId>(ROUTES.registrationClient, async (request, reply) => {
    noStore(reply);
    const registered = await readRegistration(service(request), request.params.client_id, request.headers.authorization);
    return clientInformation(ctx.config.issuer, registered);
  });

  app.put<WithClientId>(ROUTES.registrationClient, async (request, reply) => {
    noStore(reply);
    const registered = await updateRegistration(service(request), request.params.client_id, request.headers.authorization, request.body);
    return clientInformation(ctx.config.issuer, registered);
  });

  app.delete<WithClientId>(ROUTES.registrationClient, async (request, reply) => {
    noStore(reply);
    await deleteRegistration(service(request), request.params.client_id, request.headers.authorization);
    return reply.code(204).send();
  });
}

/**
 * Registration bodies are JSON (RFC 7591 section 3.1); other media types get 415 from Fastify. Like the
 * admin API's parser: nesting bounded before parsing, NUL, lone surrogates and over-long strings refused
 * after it (src/http/input-guard.ts) — but answered with the registration error codes.
 */
function acceptRegistrationJson(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    if (!jsonDepthWithin(text)) return done(registrationError('body', `nested deeper than ${MAX_JSON_DEPTH} levels`), undefined);
    parseJson(request, text, (err, value) => {
      if (err) return done(registrationError('body', 'not valid JSON'), undefined);
      const bad = findUnacceptableJsonString(value);
      if (bad) return done(registrationError(bad.field || 'body', bad.reason), undefined);
      done(null, value);
    });
  });
}
