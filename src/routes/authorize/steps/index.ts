import type { AuthorizeStep } from './authorize-context.js';
import { checkClient } from './check-client.js';
import { checkDpopJkt } from './check-dpop-jkt.js';
import { checkIdTokenHint } from './check-id-token-hint.js';
import {
  checkDuplicateParameters,
  checkLengths,
  checkPromptAndMaxAge,
  checkRequestObject,
  checkResponseMode,
  checkResponseType,
} from './check-parameters.js';
import { checkPkce } from './check-pkce.js';
import { checkPushedRequestRequired, loadPushedRequest } from './check-pushed-request.js';
import { checkSignedRequestObjectRequired, unpackRequest } from './check-request-object.js';
import { checkRedirectUri } from './check-redirect-uri.js';
import { checkResource } from './check-resource.js';
import { checkScope } from './check-scope.js';

/**
 * The order is the security argument: nothing may redirect before client and redirect_uri are verified
 * (RFC 6749 section 4.1.2.1); these throw UntrustedRedirectError, shown as a page. A pushed request's
 * parameters (RFC 9126 section 4) are loaded first, so that its own redirect_uri is the one verified.
 */
export const VERIFY_REDIRECT_STEPS: readonly AuthorizeStep[] = [loadPushedRequest, checkClient, unpackRequest, checkRedirectUri];

/** The same checks for a request pushed to POST /oauth/par (RFC 9126 section 2.1): nothing to load. */
export const VERIFY_PUSHED_REDIRECT_STEPS: readonly AuthorizeStep[] = [checkClient, unpackRequest, checkRedirectUri];

/** Every later failure is an OAuthError returned to the verified redirect URI. */
export const VALIDATE_REQUEST_STEPS: readonly AuthorizeStep[] = [
  checkDuplicateParameters,
  checkRequestObject,
  checkPushedRequestRequired,
  checkSignedRequestObjectRequired,
  checkResponseType,
  checkResponseMode,
  checkLengths,
  checkScope,
  checkResource,
  checkPkce,
  checkDpopJkt,
  checkPromptAndMaxAge,
  checkIdTokenHint,
];
