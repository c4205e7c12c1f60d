import type { FastifyRequest } from 'fastify';
import { urlFor, type RouteName } from '../config/routes.js';
import type { ServiceContext } from '../services/context.js';
import { verifyDpopProof, type VerifiedDpopProof } from '../services/dpop/dpop-proof.js';

/** True when the request carries a DPoP header and DPoP is on (DPOP_ENABLED=false: the header is ignored). */
export function hasDpopProof(ctx: Pick<ServiceContext, 'config'>, request: FastifyRequest): boolean {
  return ctx.config.dpop.enabled && request.headers.dpop !== undefined;
}

/**
 * The verified DPoP proof of a request to the authorization server endpoint `route` (token, PAR,
 * revocation, introspection), or undefined when none was sent or DPoP is off. htu is compared with the
 * endpoint's URL under the issuer, never with the Host header a client (or a proxy) chose. The PAR
 * endpoint calls this at merge time (RFC 9449 section 10.1) and keeps the jkt as the request's dpop_jkt.
 * Throws invalid_dpop_proof or use_dpop_nonce (RFC 9449 section 5).
 */
export async function verifiedDpopProofOf(
  ctx: ServiceContext,
  request: FastifyRequest,
  route: RouteName,
): Promise<VerifiedDpopProof | undefined> {
  if (!hasDpopProof(ctx, request)) return undefined;
  return verifyDpopProof(ctx, {
    header: request.headers.dpop,
    method: request.method,
    url: urlFor(ctx.config.issuer, route),
    at: 'authorization_server',
  });
}

/** verifiedDpopProofOf, reduced to the key's RFC 7638 thumbprint. */
export async function verifiedDpopJkt(ctx: ServiceContext, request: FastifyRequest, route: RouteName): Promise<string | undefined> {
  return (await verifiedDpopProofOf(ctx, request, route))?.jkt;
}
