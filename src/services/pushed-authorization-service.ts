import { InvalidRequestUri } from '../errors/oauth-errors.js';
import { randomToken, sha256Base64url } from '../lib/crypto.js';
import {
  consumePushedAuthorizationRequest,
  insertPushedAuthorizationRequest,
} from '../repositories/pushed-authorization-requests-repository.js';
import type { ServiceContext } from './context.js';

/** RFC 9126 section 2.2: the request_uri is a URN of this namespace followed by a random reference. */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';

// 256 random bits, base64url: 43 characters.
const REFERENCE = /^[A-Za-z0-9_-]{43}$/;

type Ctx = Pick<ServiceContext, 'db' | 'config'>;

/**
 * Stores validated authorization request parameters for `clientId` and returns the single-use request_uri
 * (RFC 9126 section 2.2). Only a hash of its random part is kept, so a database read does not yield a usable
 * request_uri.
 */
export async function pushAuthorizationRequest(
  ctx: Ctx,
  clientId: string,
  parameters: Record<string, string[]>,
): Promise<{ requestUri: string; expiresIn: number }> {
  const reference = randomToken(32);
  const expiresIn = ctx.config.par.ttlSeconds;
  await insertPushedAuthorizationRequest(ctx.db, {
    requestUriHash: sha256Base64url(reference),
    clientId,
    parameters,
    expiresAt: new Date(Date.now() + expiresIn * 1000),
  });
  return { requestUri: REQUEST_URI_PREFIX + reference, expiresIn };
}

/**
 * RFC 9126 section 4: the parameters pushed for this request_uri, used up by this call. Unknown, expired,
 * used, pushed by another client, or not a pushed request's URI at all (by-reference request objects are not
 * fetched): invalid_request_uri.
 */
export async function usePushedAuthorizationRequest(ctx: Ctx, requestUri: string, clientId: string): Promise<Record<string, string[]>> {
  const reference = requestUri.startsWith(REQUEST_URI_PREFIX) ? requestUri.slice(REQUEST_URI_PREFIX.length) : undefined;
  if (reference === undefined || !REFERENCE.test(reference)) {
    throw new InvalidRequestUri('request_uri must be one issued by the pushed authorization request endpoint');
  }
  const pushed = await consumePushedAuthorizationRequest(ctx.db, sha256Base64url(reference), clientId);
  if (!pushed) throw new InvalidRequestUri('request_uri is unknown, expired, already used, or was pushed by another client');
  return pushed.parameters;
}
