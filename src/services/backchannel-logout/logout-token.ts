import { randomToken } from '../../lib/crypto.js';
import type { IdTokenSigningAlg } from '../../repositories/clients-repository.js';
import { signJwt } from '../../tokens/jwt.js';
import type { KeyStore } from '../../tokens/key-store.js';

/** OIDC Back-Channel Logout 1.0 section 2.4: the event that makes a JWT a logout token. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/**
 * Lifetime of a logout token. Section 2.4 wants exp "short"; the token is signed at each delivery attempt
 * (not when queued), so a retry an hour later still carries a fresh one, and two minutes cover any clock
 * skew of the client without leaving a replayable token valid for long.
 */
export const LOGOUT_TOKEN_TTL_SECONDS = 120;

export interface LogoutTokenInput {
  issuer: string;
  clientId: string;
  sub: string;
  sid: string;
  /** The client's id_token_signed_response_alg: logout tokens are signed like its ID tokens (section 2.4). */
  alg: IdTokenSigningAlg;
  /** Seconds since the epoch. */
  now: number;
}

/**
 * A logout token (section 2.4): typ logout+jwt (section 2.4 recommends explicit typing, RFC 8725 section
 * 3.11), iss, aud, iat, exp, a fresh jti per token, events, and both sub and sid. sid is sent to every
 * client, whether or not it registered backchannel_logout_session_required: section 2.4 allows both
 * claims, Authly's ID tokens carry the same sid (discovery: backchannel_logout_session_supported), and
 * the client can then end exactly the session the user left. Never a nonce (section 2.4: it MUST NOT,
 * so a logout token can never pass as an ID token).
 */
export async function signLogoutToken(keys: KeyStore, input: LogoutTokenInput): Promise<string> {
  // As the client's ID tokens: its alg while the server holds a key for it, else RS256 (token-service.ts).
  const alg = keys.algorithms.includes(input.alg) ? input.alg : 'RS256';
  return signJwt(
    {
      iss: input.issuer,
      aud: input.clientId,
      iat: input.now,
      exp: input.now + LOGOUT_TOKEN_TTL_SECONDS,
      jti: randomToken(16),
      sub: input.sub,
      sid: input.sid,
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    },
    keys.signingKey(alg),
    'logout+jwt',
  );
}
