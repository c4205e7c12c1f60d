import { InvalidRequest } from '../../../errors/oauth-errors.js';
import { PKCE_VALUE } from '../../../lib/pkce.js';
import type { AuthorizeStep } from './authorize-context.js';

/**
 * PKCE with S256 only (OAuth 2.1 section 4.1.1, RFC 9700 section 2.1.1). The one exception: a
 * confidential client registered with require_pkce=false may omit it when it sends an OIDC nonce.
 */
export const checkPkce: AuthorizeStep = (c) => {
  const { code_challenge: challenge, code_challenge_method: method } = c.params;
  if (challenge === undefined) {
    if (method !== undefined) throw new InvalidRequest('code_challenge_method without code_challenge');
    const client = c.client!;
    const exempt =
      client.clientType === 'confidential' &&
      !client.requirePkce &&
      c.request.nonce !== undefined &&
      c.request.scopes!.includes('openid');
    if (!exempt) throw new InvalidRequest('code_challenge is required (PKCE with S256)');
    return;
  }
  if (method !== 'S256') throw new InvalidRequest('code_challenge_method must be S256');
  if (!PKCE_VALUE.test(challenge)) throw new InvalidRequest('code_challenge is malformed');
  c.request.codeChallenge = challenge;
  c.request.codeChallengeMethod = 'S256';
};
