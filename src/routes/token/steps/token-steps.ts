import type { FastifyRequest } from 'fastify';
import { InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '../../../errors/oauth-errors.js';
import type { GrantHandler, GrantRequest } from '../../../grants/grant-handler.js';
import { enabledGrant } from '../../../grants/grant-registry.js';
import { clientCredentialsOf } from '../../../http/client-request.js';
import { verifiedDpopProofOf } from '../../../http/dpop-request.js';
import type { RawParams } from '../../../http/form-body.js';
import { formBody, multiParam, RESOURCE_PARAMS, singleParams, type SingleParams } from '../../../http/params.js';
import type { Client } from '../../../repositories/clients-repository.js';
import { authenticateClientThrottled } from '../../../services/client-authentication.js';
import type { ServiceContext } from '../../../services/context.js';
import type { VerifiedDpopProof } from '../../../services/dpop/dpop-proof.js';
import { canonicalResources } from '../../../services/resource-indicators.js';

/** State the token endpoint's steps build up, in order; later steps rely on what earlier ones set. */
export interface TokenContext {
  services: ServiceContext;
  request: FastifyRequest;
  raw: RawParams;
  /** Single-valued view of `raw` (every parameter but `resource`); set by parseTokenRequest. */
  params: SingleParams;
  grantType?: string;
  handler?: GrantHandler;
  client?: Client;
  grantRequest?: GrantRequest;
  /** The request's verified DPoP proof (RFC 9449); set by checkDpopProof when one was sent. */
  dpop?: VerifiedDpopProof;
}

export type TokenStep = (c: TokenContext) => void | Promise<void>;

/** A form body; repeated parameters refused (RFC 6749 section 3.1) except `resource` (RFC 8707 section 2.2). */
export const parseTokenRequest: TokenStep = (c) => {
  c.raw = formBody(c.request.body, c.request.headers['content-type']);
  c.params = singleParams(c.raw, RESOURCE_PARAMS);
  const grantType = c.params.grant_type;
  if (!grantType) throw new InvalidRequest('grant_type is required');
  c.grantType = grantType;
  c.handler = enabledGrant(c.services.config, grantType);
};

/** RFC 6749 section 3.2.1: the client authenticates before anything about its grant is answered. */
export const authenticateClient: TokenStep = async (c) => {
  c.client = await authenticateClientThrottled(c.services, clientCredentialsOf(c.request, c.params), c.request.ip);
};

/** RFC 6749 section 5.2: unsupported_grant_type, or unauthorized_client for a grant not registered for it. */
export const pickGrant: TokenStep = (c) => {
  if (!c.handler) throw new UnsupportedGrantType(`grant_type ${c.grantType} is not supported`);
  if (!c.client!.grantTypes.includes(c.grantType!)) {
    throw new UnauthorizedClient(`this client may not use the ${c.grantType} grant`);
  }
};

/** Only the parameters the grant declares reach it; `resource` values in canonical form (else invalid_target). */
export const checkGrantParameters: TokenStep = (c) => {
  const accepted = c.handler!.parameters;
  const params: SingleParams = {};
  for (const name of accepted) if (c.params[name] !== undefined) params[name] = c.params[name];
  const resources = accepted.includes('resource') ? canonicalResources(multiParam(c.raw, 'resource')) : [];
  c.grantRequest = { params, resources };
};

/**
 * RFC 9449 section 5: a DPoP proof, when sent, is checked (section 4.3) and its key handed to the grant,
 * which binds the tokens to it. A client registered with dpop_bound_access_tokens must send one (section
 * 5.2: the server "MUST reject" such requests; a required header is missing, hence invalid_request, as
 * for any missing required part of a request, RFC 6749 section 5.2). A Bearer client pays nothing here.
 */
export const checkDpopProof: TokenStep = async (c) => {
  const proof = await verifiedDpopProofOf(c.services, c.request, 'token');
  if (!proof) {
    if (c.services.config.dpop.enabled && c.client!.dpopBoundAccessTokens) {
      throw new InvalidRequest('this client must send a DPoP proof with every token request (dpop_bound_access_tokens)');
    }
    return;
  }
  c.dpop = proof;
  c.grantRequest!.dpopJkt = proof.jkt;
};

/** The order is part of the contract: nothing about a grant is answered before the client is authenticated. */
export const TOKEN_STEPS: readonly TokenStep[] = [parseTokenRequest, authenticateClient, pickGrant, checkGrantParameters, checkDpopProof];
