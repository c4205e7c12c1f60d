import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ROUTES } from '../../config/routes.js';
import {
  InvalidDpopProof,
  InvalidRequest,
  InvalidRequestObject,
  InvalidRequestUri,
  type OAuthError,
} from '../../errors/oauth-errors.js';
import { readClientRequest } from '../../http/client-request.js';
import { verifiedDpopJkt } from '../../http/dpop-request.js';
import { RESOURCE_PARAMS } from '../../http/params.js';
import { noteClientUse } from '../../services/client-usage.js';
import type { ServiceContext } from '../../services/context.js';
import { pushAuthorizationRequest } from '../../services/pushed-authorization-service.js';
import { UntrustedRedirectError, type AuthorizeContext } from '../authorize/steps/authorize-context.js';
import { VALIDATE_REQUEST_STEPS, VERIFY_PUSHED_REDIRECT_STEPS } from '../authorize/steps/index.js';

/** Client authentication parameters (RFC 6749 section 2.3, RFC 7523 section 2.2): not part of the request pushed. */
const CLIENT_AUTHENTICATION_PARAMS = ['client_secret', 'client_assertion', 'client_assertion_type'];

/** State the steps build up, in order. */
interface PushContext {
  services: ServiceContext;
  request: FastifyRequest;
  authorize?: AuthorizeContext;
}

type PushStep = (c: PushContext) => Promise<void> | void;

/** The answer a client reads for a check that, at the authorization endpoint, would show an error page. */
function asOAuthError(err: UntrustedRedirectError): OAuthError {
  const description = err.message.replace(/^invalid_request(_uri|_object)?: /, '');
  if (err.error === 'invalid_request_uri') return new InvalidRequestUri(description);
  if (err.error === 'invalid_request_object') return new InvalidRequestObject(description);
  return new InvalidRequest(description);
}

/**
 * RFC 9126 section 2.1: a form body, the client authenticated exactly as at the token endpoint (behind the
 * same throttle; a public client identifies with client_id alone). The body's client_id, when sent, must be
 * the authenticated client's; the credentials are not part of the pushed request.
 */
const authenticateClient: PushStep = async (c) => {
  const { raw, params, client } = await readClientRequest(c.services, c.request, RESOURCE_PARAMS);
  if (params.client_id !== undefined && params.client_id !== client.clientId) {
    throw new InvalidRequest('client_id does not match the authenticated client');
  }
  const pushed: AuthorizeContext['raw'] = Object.create(null) as AuthorizeContext['raw'];
  for (const [name, values] of Object.entries(raw)) if (!CLIENT_AUTHENTICATION_PARAMS.includes(name)) pushed[name] = values;
  pushed.client_id = [client.clientId];
  c.authorize = { services: c.services, raw: pushed, params: {}, request: { prompt: [] }, mode: 'push', pushed: true };
};

/** RFC 9126 section 2.1: a pushed request must not itself name a request_uri. */
const refuseRequestUri: PushStep = (c) => {
  if (c.authorize!.raw.request_uri !== undefined) throw new InvalidRequest('request_uri must not be pushed (RFC 9126 section 2.1)');
};

/**
 * RFC 9126 section 2.1: the request is validated as the authorization endpoint would, by the same steps, and
 * every failure is answered here as JSON with status 400 (section 2.3), never a redirect. What needs the
 * user (sign-in, consent) is left to the authorization endpoint.
 */
const validateAsAuthorizationRequest: PushStep = async (c) => {
  try {
    for (const step of VERIFY_PUSHED_REDIRECT_STEPS) await step(c.authorize!);
  } catch (err) {
    if (err instanceof UntrustedRedirectError) throw asOAuthError(err);
    throw err;
  }
  for (const step of VALIDATE_REQUEST_STEPS) await step(c.authorize!);
};

/**
 * RFC 9449 section 10.1: a DPoP proof sent with the push binds the authorization code to its key, as
 * dpop_jkt does; when both are sent they must name the same key. The binding is stored with the request's
 * verified parameters (after a request object was unpacked), so the token request must prove that key.
 */
const bindDpopKey: PushStep = async (c) => {
  const jkt = await verifiedDpopJkt(c.services, c.request, 'pushedAuthorization');
  if (jkt === undefined) return;
  const named = c.authorize!.request.dpopJkt;
  if (named !== undefined && named !== jkt) throw new InvalidDpopProof('dpop_jkt does not match the key of the DPoP proof');
  c.authorize!.raw.dpop_jkt = [jkt];
};

/** The order is the contract: nothing about the request is answered before the client is authenticated. */
export const PUSH_STEPS: readonly PushStep[] = [authenticateClient, refuseRequestUri, validateAsAuthorizationRequest, bindDpopKey];

/** RFC 9126: POST ROUTES.pushedAuthorization answers 201 with a single-use request_uri (section 2.2). */
export async function pushedAuthorizationRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  if (!ctx.config.par.enabled) return;
  app.post(ROUTES.pushedAuthorization, async (request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const c: PushContext = { services: ctx, request };
    for (const step of PUSH_STEPS) await step(c);
    const client = c.authorize!.client!;
    const { requestUri, expiresIn } = await pushAuthorizationRequest(ctx, client.clientId, c.authorize!.raw);
    void noteClientUse(ctx, client);
    return reply.code(201).send({ request_uri: requestUri, expires_in: expiresIn });
  });
}
