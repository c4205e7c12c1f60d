import { constantTimeEqual, hmacSha256Base64url, randomToken } from '../lib/crypto.js';
import { secondsFromNow } from '../lib/time.js';
import {
  deleteSomeExpiredInteractions,
  extendInteraction,
  findLiveInteraction,
  insertInteraction,
  type Interaction,
} from '../repositories/interactions-repository.js';
import type { Session } from '../repositories/sessions-repository.js';
import type { AuthorizationRequest } from './authorization-request.js';
import type { ServiceContext } from './context.js';

/** How long a user has to finish signing in or consenting, once the page has been opened. */
export const INTERACTION_TTL_SECONDS = 30 * 60;

/**
 * Issue 10 §3: an unauthenticated GET /oauth/authorize persists a row, so a flood of them fills the table.
 * A row nobody opens lives only this long (a browser follows the 303 at once); opening the page extends
 * it to INTERACTION_TTL_SECONDS.
 */
export const INTERACTION_UNCLAIMED_TTL_SECONDS = 5 * 60;

/** Expired rows each new interaction deletes: more than one, so dead rows never accumulate. */
const EXPIRED_DELETED_PER_START = 2;

export type PendingAuthorization = Interaction<AuthorizationRequest>;

/** Stores a pending authorization request until the browser finishes login or consent. */
export async function startInteraction(
  ctx: ServiceContext,
  request: AuthorizationRequest,
  session?: Session,
): Promise<string> {
  const uid = randomToken(24);
  await deleteSomeExpiredInteractions(ctx.db, EXPIRED_DELETED_PER_START);
  await insertInteraction(ctx.db, {
    uid,
    clientId: request.clientId,
    params: request,
    expiresAt: secondsFromNow(INTERACTION_UNCLAIMED_TTL_SECONDS),
    ...(session ? { userId: session.userId, authTime: session.authTime, sid: session.sid } : {}),
  });
  return uid;
}

/** The browser opened the interaction's page: it now has the full INTERACTION_TTL_SECONDS to finish. */
export function claimInteraction(ctx: ServiceContext, uid: string): Promise<void> {
  return extendInteraction(ctx.db, uid, secondsFromNow(INTERACTION_TTL_SECONDS));
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
