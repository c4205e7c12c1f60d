import { InvalidRequest } from '../../../errors/oauth-errors.js';
import type { AuthorizeStep } from './authorize-context.js';

/** A base64url SHA-256 (RFC 7638 thumbprint): 43 characters, no padding. */
const JKT = /^[A-Za-z0-9_-]{43}$/;

/**
 * RFC 9449 section 10: `dpop_jkt` binds the authorization code to the client's DPoP key; the token
 * request's proof must then be by that key. Ignored while DPoP is off (DPOP_ENABLED=false), like every
 * other DPoP input.
 */
export const checkDpopJkt: AuthorizeStep = (c) => {
  const jkt = c.params.dpop_jkt;
  if (jkt === undefined || !c.services.config.dpop.enabled) return;
  if (!JKT.test(jkt)) throw new InvalidRequest('dpop_jkt must be the base64url SHA-256 JWK thumbprint of the DPoP key');
  c.request.dpopJkt = jkt;
};
