import type { FastifyReply, FastifyRequest } from 'fastify';
import { pathFor } from '../../config/routes.js';
import { constantTimeEqual, hmacSha256Base64url } from '../../lib/crypto.js';
import type { Session } from '../../repositories/sessions-repository.js';
import { findUserById, type User } from '../../repositories/users-repository.js';
import type { ServiceContext } from '../../services/context.js';
import { findSession, SESSION_COOKIE } from '../../services/session-service.js';

/** The signed-in user of the account pages: Authly's own browser session (the one single sign-on uses). */
export interface AccountSignIn {
  user: User;
  session: Session;
}

export async function accountSignIn(ctx: ServiceContext, request: FastifyRequest): Promise<AccountSignIn | undefined> {
  const session = await findSession(ctx, request.cookies[SESSION_COOKIE]);
  if (!session) return undefined;
  const user = await findUserById(ctx.db, session.userId);
  return user?.isActive ? { user, session } : undefined;
}

/**
 * The signed-in user, or undefined after redirecting to the account sign-in page, which returns to the
 * page asked for. Every account route starts with this.
 */
export async function requireAccountSignIn(
  ctx: ServiceContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<AccountSignIn | undefined> {
  const signIn = await accountSignIn(ctx, request);
  if (signIn) return signIn;
  const path = request.url.split('?')[0] ?? pathFor('account');
  reply.header('cache-control', 'no-store').redirect(`${pathFor('accountSignIn')}?return_to=${encodeURIComponent(path)}`, 303);
  return undefined;
}

/**
 * The signed-in user for a change that adds or removes a way to sign in (passkeys, the authenticator
 * app, recovery codes): the sign-in must be at most ACCOUNT_REAUTH_MINUTES old. Otherwise the browser
 * goes through the account sign-in again with prompt=login (every factor the policy asks for) and
 * returns here, so a stolen session cookie alone cannot plant a factor of the thief's.
 */
export async function requireRecentSignIn(
  ctx: ServiceContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<AccountSignIn | undefined> {
  const signIn = await requireAccountSignIn(ctx, request, reply);
  if (!signIn || Date.now() - signIn.session.authTime.getTime() <= ctx.config.accounts.reauthSeconds * 1000) return signIn;
  const path = request.url.split('?')[0] ?? pathFor('account');
  reply.header('cache-control', 'no-store').redirect(`${pathFor('accountSignIn')}?return_to=${encodeURIComponent(path)}&reauth=1`, 303);
  return undefined;
}

/** The CSRF token of the account forms: an HMAC of the session's public id, so it dies with the session. */
export function accountCsrfToken(ctx: ServiceContext, session: Session): string {
  return hmacSha256Base64url(ctx.csrfKey, `account:${session.sid}`);
}

export function checkAccountCsrfToken(ctx: ServiceContext, session: Session, token: string | undefined): boolean {
  return token !== undefined && constantTimeEqual(token, accountCsrfToken(ctx, session));
}
