import type { Client } from '../repositories/clients-repository.js';
import type { ServiceContext } from '../services/context.js';
import type { IssuedTokens } from '../services/token-service.js';

/** Single-valued token request parameters, already checked for duplicates by the HTTP edge. */
export type TokenParams = Record<string, string | undefined>;

/** One handler per grant_type (the fosite shape): the token endpoint only authenticates and dispatches. */
export interface GrantHandler {
  readonly grantType: string;
  handle(ctx: ServiceContext, client: Client, params: TokenParams): Promise<IssuedTokens>;
}
