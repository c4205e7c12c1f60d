import { InvalidRequest, InvalidRequestObject } from '../../../errors/oauth-errors.js';
import { unpackRequestObject } from '../../../services/request-object-service.js';
import { onlyValue, UntrustedRedirectError, type AuthorizeStep } from './authorize-context.js';

/**
 * RFC 9101 section 6: a `request` is verified against the client's keys and its parameters replace the
 * request's, all but client_id (section 6.3: only the object's parameters count). It runs after the client
 * is known and before redirect_uri is checked, as the object names the redirect_uri; a request object that
 * cannot be used leaves the redirect unverified: an error page (a JSON 400 at the pushed request endpoint).
 * With REQUEST_OBJECTS_ENABLED=false it is left to checkRequestObject, which refuses it.
 */
export const unpackRequest: AuthorizeStep = async (c) => {
  if (!c.services.config.requestObjects.enabled) return;
  const request = onlyValue(c.raw, 'request');
  if (request === undefined) return;
  if (request === 'repeated') throw new UntrustedRedirectError('invalid_request: the request parameter is repeated.');
  try {
    const { parameters, alg } = await unpackRequestObject(c.services, c.client!, request);
    c.raw = parameters;
    c.requestObjectAlg = alg;
  } catch (err) {
    if (err instanceof InvalidRequestObject) throw new UntrustedRedirectError(`invalid_request_object: ${err.description}`, 'invalid_request_object');
    throw err;
  }
};

/**
 * RFC 9101 section 10.5: a client registered with require_signed_request_object sends every authorization
 * request as a signed request object (redirected: client and redirect_uri are verified by now). A pushed
 * request was checked when it was pushed.
 */
export const checkSignedRequestObjectRequired: AuthorizeStep = (c) => {
  if (!c.client!.requireSignedRequestObject) return;
  if (c.pushed && c.mode !== 'push') return;
  if (c.requestObjectAlg === undefined || c.requestObjectAlg === 'none') {
    throw new InvalidRequest('this client must send its authorization requests as signed request objects (RFC 9101 section 10.5)');
  }
};
