/** The two kinds of token a client can hand back to Authly: JWT access tokens and opaque refresh tokens. */
export type TokenKind = 'access_token' | 'refresh_token';

/**
 * RFC 7009 section 2.1 and RFC 7662 section 2.1: token_type_hint only orders the lookups. It is not
 * trusted (a wrong hint still finds the token), and an unknown value is ignored rather than refused with
 * unsupported_token_type, which is meant for kinds the server cannot revoke; Authly handles both kinds.
 */
export function lookupOrder(hint: string | undefined): TokenKind[] {
  return hint === 'refresh_token' ? ['refresh_token', 'access_token'] : ['access_token', 'refresh_token'];
}
