import { decodeProtectedHeader } from 'jose';
import { InvalidRequest } from '../../../errors/oauth-errors.js';
import { verifyJwt } from '../../../tokens/jwt.js';
import type { AuthorizeStep } from './authorize-context.js';

/** An ID token is a few hundred bytes; anything this long is not one of ours. */
const MAX_ID_TOKEN_HINT_LENGTH = 8192;

/**
 * OIDC Core section 3.1.2.1: id_token_hint names the end-user the client expects. It must be an ID token
 * we issued (signature, issuer, typ JWT rather than an at+jwt access token); an expired one is still a
 * valid hint. Its sub is compared with the session's user in the route's decision, not here.
 */
export const checkIdTokenHint: AuthorizeStep = async (c) => {
  const token = c.params.id_token_hint;
  if (token === undefined) return;
  const invalid = new InvalidRequest('id_token_hint is not a valid ID token issued by this server');
  if (token.length > MAX_ID_TOKEN_HINT_LENGTH) throw invalid;
  let sub: unknown;
  try {
    if (decodeProtectedHeader(token).typ !== 'JWT') throw new Error('not an ID token');
    ({ sub } = await verifyJwt(token, c.services.keys, { issuer: c.services.config.issuer, ignoreExpiry: true }));
  } catch {
    throw invalid;
  }
  if (typeof sub !== 'string') throw invalid;
  c.request.idTokenHintSub = sub;
};
