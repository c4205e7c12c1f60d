import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { OAuthError } from '../errors/oauth-errors.js';
import { formPostPage } from '../views/authorization-pages.js';
import { cspSourceFor, sendPage } from '../views/page.js';
import { pageContext } from './page-context.js';

export interface ResponseTarget {
  redirectUri: string;
  responseMode: 'query' | 'form_post';
  state?: string;
}

/**
 * Delivers an authorization response to a *verified* redirect URI, with iss (RFC 9207): a 303 redirect
 * with query parameters (303 so a POSTed form is never re-posted, RFC 9700 section 4.12), or the
 * auto-submitting form_post page.
 */
export function sendAuthorizationResponse(
  reply: FastifyReply,
  issuer: string,
  target: ResponseTarget,
  params: Record<string, string>,
): FastifyReply {
  const all = { ...params, iss: issuer };
  if (target.responseMode === 'form_post') {
    const nonce = randomBytes(16).toString('base64');
    return sendPage(reply, 200, formPostPage(pageContext(reply.request), target.redirectUri, all, nonce), {
      formAction: [cspSourceFor(target.redirectUri)],
      scriptNonce: nonce,
    });
  }
  const url = new URL(target.redirectUri);
  for (const [key, value] of Object.entries(all)) url.searchParams.append(key, value);
  return reply.header('cache-control', 'no-store').redirect(url.toString(), 303);
}

export function sendAuthorizationError(
  reply: FastifyReply,
  issuer: string,
  target: ResponseTarget,
  err: OAuthError,
): FastifyReply {
  return sendAuthorizationResponse(reply, issuer, target, {
    error: err.error,
    error_description: err.description,
    ...(target.state !== undefined ? { state: target.state } : {}),
  });
}
