import type { FastifyRequest } from 'fastify';
import type { Client } from '../repositories/clients-repository.js';
import { authenticateClientThrottled, type ClientCredentialsInput } from '../services/client-authentication.js';
import type { ServiceContext } from '../services/context.js';
import type { RawParams } from './form-body.js';
import { formBody, singleParams, type SingleParams } from './params.js';

/**
 * The start of every client-authenticated endpoint (revocation, introspection, pushed authorization
 * requests): a form body without repeated parameters (but the endpoint's `multiValued` ones), and the
 * client authenticated as at the token endpoint, behind its throttle.
 */
export async function readClientRequest(
  ctx: ServiceContext,
  request: FastifyRequest,
  multiValued?: ReadonlySet<string>,
): Promise<{ raw: RawParams; params: SingleParams; client: Client }> {
  const raw = formBody(request.body, request.headers['content-type']);
  const params = singleParams(raw, multiValued);
  const client = await authenticateClientThrottled(ctx, clientCredentialsOf(request, params), request.ip);
  return { raw, params, client };
}

/**
 * What a request offers to authenticate its client (RFC 6749 section 2.3): the Authorization header and
 * the body's client credentials. Every client-authenticated endpoint reads them here, so a new method
 * (RFC 7523 client assertions) reaches all of them at once.
 */
export function clientCredentialsOf(request: FastifyRequest, params: SingleParams): ClientCredentialsInput {
  return {
    authorization: request.headers.authorization,
    clientId: params.client_id,
    clientSecret: params.client_secret,
    clientAssertionType: params.client_assertion_type,
    clientAssertion: params.client_assertion,
    endpointPath: request.routeOptions.url,
    audit: request.audit,
  };
}
