import { constantTimeEqual, hmacSha256Base64url, randomToken } from '../lib/crypto.js';
import { secondsFromNow } from '../lib/time.js';
import {
  findLiveInteraction,
  insertInteraction,
  type Interaction,
} from '../repositories/interactions-repository.js';
import type { Session } from '../repositories/sessions-repository.js';
import type { AuthorizationRequest } from './authorization-request.js';
import type { ServiceContext } from './context.js';

/** How long a user has to finish signing in or consenting. */
export const INTERACTION_TTL_SECONDS = 30 * 60;

export type PendingAuthorization = Interaction<AuthorizationRequest>;

/** Stores a pending authorization request until the browser finishes login or consent. */
export async function startInteraction(
  ctx: ServiceContext,
  request: AuthorizationRequest,
  session?: Session,
): Promise<string> {
  const uid = randomToken(24);
  await insertInteraction(ctx.db, {
    uid,
    clientId: request.clientId,
    params: request,
    expiresAt: secondsFromNow(INTERACTION_TTL_SECONDS),
    ...(session ? { userId: session.userId, authTime: session.authTime, sid: session.sid } : {}),
  });
  return uid;
}

export function findInteraction(ctx: ServiceContext, uid: string): Promise<PendingAuthorization | undefined> {
  return findLiveInteraction<AuthorizationRequest>(ctx.db, uid);
}

/** The CSRF token of an interaction's forms: an HMAC of its uid under the server's CSRF key. */
export function csrfTokenFor(ctx: ServiceContext, uid: string): string {
  return hmacSha256Base64url(ctx.csrfKey, `interaction:${uid}`);
}

export function checkCsrfToken(ctx: ServiceContext, uid: string, token: string | undefined): boolean {
  return token !== undefined && constantTimeEqual(token, csrfTokenFor(ctx, uid));
}
