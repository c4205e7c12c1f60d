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
import { checkRedirectUri } from './check-redirect-uri.js';
import { checkResource } from './check-resource.js';
import { checkScope } from './check-scope.js';

/**
 * The order is the security argument: nothing may redirect before client and redirect_uri are verified
 * (RFC 6749 section 4.1.2.1); these two throw UntrustedRedirectError, shown as a page.
 */
export const VERIFY_REDIRECT_STEPS: readonly AuthorizeStep[] = [checkClient, checkRedirectUri];

/** Every later failure is an OAuthError returned to the verified redirect URI. */
export const VALIDATE_REQUEST_STEPS: readonly AuthorizeStep[] = [
  checkDuplicateParameters,
  checkRequestObject,
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
