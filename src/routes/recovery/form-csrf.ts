import type { FastifyReply, FastifyRequest } from 'fastify';
import { constantTimeEqual, hmacSha256Base64url, randomToken } from '../../lib/crypto.js';
import type { ServiceContext } from '../../services/context.js';

/**
 * CSRF protection of the forms shown before anyone is signed in (forgot password, resend the confirmation
 * link, sign-up): a random cookie, and in the form an HMAC of it under the server's CSRF key. A
 * cross-site post carries neither the cookie (SameSite=Lax) nor a token that matches one, and the cookie
 * holds nothing but randomness.
 */
export const FORM_COOKIE = 'authly_form';

function tokenFor(ctx: ServiceContext, cookie: string): string {
  return hmacSha256Base64url(ctx.csrfKey, `form:${cookie}`);
}

/** The token for the page being rendered; sets the cookie when the browser has none yet. */
export function formCsrfToken(ctx: ServiceContext, request: FastifyRequest, reply: FastifyReply): string {
  let cookie = request.cookies[FORM_COOKIE];
  if (!cookie || !/^[A-Za-z0-9_-]{22}$/.test(cookie)) {
    cookie = randomToken(16);
    reply.setCookie(FORM_COOKIE, cookie, { path: '/', httpOnly: true, sameSite: 'lax', secure: ctx.config.issuer.startsWith('https:') });
  }
  return tokenFor(ctx, cookie);
}

export function checkFormCsrfToken(ctx: ServiceContext, request: FastifyRequest, token: string | undefined): boolean {
  const cookie = request.cookies[FORM_COOKIE];
  return cookie !== undefined && token !== undefined && constantTimeEqual(token, tokenFor(ctx, cookie));
}
