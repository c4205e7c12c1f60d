import { InvalidRequest, InvalidRequestUri } from '../../../errors/oauth-errors.js';
import { usePushedAuthorizationRequest } from '../../../services/pushed-authorization-service.js';
import { onlyValue, UntrustedRedirectError, type AuthorizeStep } from './authorize-context.js';

/**
 * RFC 9126 section 4: an authorization request with a request_uri from POST /oauth/par is the pushed one.
 * Its parameters replace the query's (only client_id is read from outside, and must be the pushing
 * client's), and the request_uri is used up here, once, on any replica. A request_uri that cannot be used
 * leaves nothing verified: an error page, never a redirect. With PAR_ENABLED=false a request_uri is left to
 * checkRequestObject, which refuses it as request_uri_not_supported.
 */
export const loadPushedRequest: AuthorizeStep = async (c) => {
  if (!c.services.config.par.enabled) return;
  const requestUri = onlyValue(c.raw, 'request_uri');
  if (requestUri === undefined) return;
  // RFC 9101 section 5: request and request_uri together are not one request.
  if (c.raw.request !== undefined) throw new UntrustedRedirectError('invalid_request: request and request_uri cannot be sent together.');
  if (requestUri === 'repeated') throw new UntrustedRedirectError('invalid_request: the request_uri parameter is repeated.');
  const clientId = onlyValue(c.raw, 'client_id');
  if (clientId === undefined || clientId === 'repeated') {
    throw new UntrustedRedirectError('invalid_request: a request with a request_uri needs its client_id (RFC 9126 section 4).');
  }
  let parameters: Record<string, string[]>;
  try {
    parameters = await usePushedAuthorizationRequest(c.services, requestUri, clientId);
  } catch (err) {
    if (err instanceof InvalidRequestUri) throw new UntrustedRedirectError(`invalid_request_uri: ${err.description}`, 'invalid_request_uri');
    throw err;
  }
  c.raw = { ...parameters, client_id: [clientId] };
  c.pushed = true;
};

/**
 * RFC 9126 section 5 and section 6: with REQUIRE_PUSHED_AUTHORIZATION_REQUESTS, or for a client registered
 * with require_pushed_authorization_requests, a request that was not pushed is refused (redirected: client
 * and redirect_uri are verified by now).
 */
export const checkPushedRequestRequired: AuthorizeStep = (c) => {
  if (c.pushed) return;
  if (c.services.config.par.required || c.client!.requirePushedAuthorizationRequests) {
    throw new InvalidRequest('authorization requests of this client must be pushed to the pushed authorization request endpoint first (RFC 9126)');
  }
};
