import type { FastifyRequest } from 'fastify';
import { InvalidBearerRequest, InvalidToken } from '../errors/oauth-errors.js';
import { BEARER_TOKEN, bearerToken } from '../services/access-token-verifier.js';
import type { PresentedAccessToken } from '../services/dpop/dpop-resource.js';
import type { RawParams } from './form-body.js';

const FORM = 'application/x-www-form-urlencoded';

/**
 * The access token of a protected-resource request, from the Authorization header (RFC 6750 section 2.1)
 * or, on POST, the form-encoded `access_token` body parameter (section 2.2). A request using both, or
 * repeating the parameter, is refused: "Clients MUST NOT use more than one method" (section 2). The URI
 * query parameter (section 2.3) is not accepted: tokens in URLs end up in logs and Referer headers.
 */
export function bearerTokenOf(request: FastifyRequest): string {
  return accessTokenOf(request, { dpop: false }).token;
}

/**
 * bearerTokenOf, also accepting `Authorization: DPoP <token>` (RFC 9449 section 7.1, token68 syntax like a
 * Bearer token) when `dpop` is set. The body form is Bearer only.
 */
export function accessTokenOf(request: FastifyRequest, options: { dpop: boolean }): PresentedAccessToken {
  const authorization = request.headers.authorization;
  // The DPoP scheme is tried only when the header can start with it (D or d): Bearer requests skip the regex.
  if (options.dpop && authorization !== undefined && (authorization.trimStart()[0] ?? '').toLowerCase() === 'd') {
    const match = /^DPoP (\S+)$/i.exec(authorization.trim());
    if (match) {
      if (!BEARER_TOKEN.test(match[1]!)) throw new InvalidToken('the Authorization header must carry a DPoP access token');
      const fromBody =
        request.method === 'POST' && request.headers['content-type']?.toLowerCase().startsWith(FORM) && (request.body as RawParams | undefined)?.access_token;
      if (fromBody) throw new InvalidBearerRequest('the access token must be sent in the Authorization header or the request body, not both');
      return { scheme: 'DPoP', token: match[1]! };
    }
  }
  return { scheme: 'Bearer', token: bearerTokenFromHeaderOrBody(request) };
}

function bearerTokenFromHeaderOrBody(request: FastifyRequest): string {
  const fromBody = request.method === 'POST' && request.headers['content-type']?.toLowerCase().startsWith(FORM)
    ? (request.body as RawParams | undefined)?.access_token
    : undefined;
  if (!fromBody) return bearerToken(request.headers.authorization);
  if (fromBody.length > 1) throw new InvalidBearerRequest('access_token must not be repeated');
  if (request.headers.authorization !== undefined) {
    throw new InvalidBearerRequest('the access token must be sent in the Authorization header or the request body, not both');
  }
  const token = fromBody[0]!;
  if (!BEARER_TOKEN.test(token)) throw new InvalidToken('the access_token parameter must carry a Bearer access token');
  return token;
}
