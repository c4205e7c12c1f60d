import type { Config } from '../config/config.js';
import type { Client } from '../repositories/clients-repository.js';
import type { ServiceContext } from '../services/context.js';
import type { IssuedTokens } from '../services/token-service.js';

/** Single-valued token request parameters, already checked for duplicates by the HTTP edge. */
export type TokenParams = Record<string, string | undefined>;

/** What a grant handler receives: only the parameters it declares, parsed once at the edge. */
export interface GrantRequest {
  params: TokenParams;
  /**
   * RFC 8707 section 2.2: the `resource` values in canonical form, without duplicates (malformed ones are
   * refused at the edge with invalid_target); empty when none was sent or the grant does not accept it.
   */
  resources: string[];
  /**
   * RFC 9449 section 5: the RFC 7638 thumbprint of the key of the request's verified DPoP proof; the access
   * token is bound to it (and a public client's refresh token). Undefined: no proof, a Bearer token.
   */
  dpopJkt?: string;
}

/** One handler per grant_type (the fosite shape): the token endpoint only authenticates and dispatches. */
export interface GrantHandler {
  readonly grantType: string;
  /**
   * The parameters this grant reads (besides grant_type and client authentication). Others are ignored, as
   * oidc-provider does; `resource` may be repeated, every other one must not.
   */
  readonly parameters: readonly string[];
  /** A grant the configuration can switch off (DEVICE_GRANT_ENABLED): absent from discovery and unsupported while off. */
  readonly isEnabled?: (config: Pick<Config, 'deviceGrant'>) => boolean;
  handle(ctx: ServiceContext, client: Client, request: GrantRequest): Promise<IssuedTokens>;
}

/**
 * RFC 9449 section 5: the access token is bound to the proof's key; so is the refresh token of a public
 * client (it has no other way to prove it is the client), while a confidential client's is not: it
 * authenticates, and may change keys at a refresh.
 */
export function dpopBinding(client: Client, dpopJkt: string | undefined): { dpopJkt?: string; refreshTokenDpopJkt?: string } {
  if (!dpopJkt) return {};
  return client.clientType === 'public' ? { dpopJkt, refreshTokenDpopJkt: dpopJkt } : { dpopJkt };
}
