import type { AuthMethod } from '../lib/auth-methods.js';
import { randomToken } from '../lib/crypto.js';
import { secondsFromNow } from '../lib/time.js';
import { deleteSession, findLiveSession, insertSession, renewSession, type Session, type SessionEnding } from '../repositories/sessions-repository.js';
import { hashOpaqueToken, newOpaqueToken } from '../tokens/opaque-token.js';
import type { ServiceContext } from './context.js';

export const SESSION_COOKIE = 'authly_session';

/**
 * How every session end in Authly happens: with a back-channel logout queued for the session's clients
 * while BACKCHANNEL_LOGOUT_ENABLED (src/repositories/sessions-repository.ts, endSessions).
 */
export function sessionEnding(ctx: Pick<ServiceContext, 'config'>): SessionEnding {
  return { backchannelLogout: ctx.config.backchannelLogout.enabled };
}

/** The browser session behind a cookie value, if it is live and its user active. */
export async function findSession(ctx: ServiceContext, cookie: string | undefined): Promise<Session | undefined> {
  if (!cookie || cookie.length > 100) return undefined;
  return findLiveSession(ctx.db, hashOpaqueToken(cookie));
}

/**
 * The session after a successful sign-in. The cookie value always changes, so a planted cookie cannot be
 * carried into an authenticated session. When the browser's session belongs to the same user (a new sign-in
 * for prompt=login, max_age or the account page's re-authentication), it is renewed and keeps its `sid`: the
 * applications signed in through it stay signed in, and their ID tokens keep naming it. Any other session
 * the browser had (another user's, or an expired one) ends first, and its clients are told (OIDC
 * Back-Channel Logout 1.0 section 2.5).
 */
export async function startSession(
  ctx: ServiceContext,
  userId: string,
  previousCookie: string | undefined,
  proof: { amr: readonly AuthMethod[]; acr?: string } = { amr: ['pwd'] },
): Promise<{ cookie: string; session: Session }> {
  const { value, hash } = newOpaqueToken();
  const authTime = new Date(Math.floor(Date.now() / 1000) * 1000);
  const expiresAt = secondsFromNow(ctx.config.sessionTtlSeconds);
  const amr = [...proof.amr];
  const acr = proof.acr ?? null;
  const fields = { idHash: hash, userId, authTime, expiresAt, amr, acr };
  if (previousCookie) {
    const renewed = await renewSession(ctx.db, hashOpaqueToken(previousCookie), fields);
    if (renewed) return { cookie: value, session: { sid: renewed.sid, userId, authTime, createdAt: renewed.createdAt, expiresAt, amr, acr } };
    await deleteSession(ctx.db, hashOpaqueToken(previousCookie), sessionEnding(ctx));
  }
  const sid = randomToken(16);
  await insertSession(ctx.db, { ...fields, sid });
  return { cookie: value, session: { sid, userId, authTime, createdAt: authTime, expiresAt, amr, acr } };
}
