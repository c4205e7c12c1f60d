import type { AuthMethod } from '../lib/auth-methods.js';
import { randomToken } from '../lib/crypto.js';
import { secondsFromNow } from '../lib/time.js';
import { deleteSession, findLiveSession, insertSession, type Session, type SessionEnding } from '../repositories/sessions-repository.js';
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
 * Starts a new session after a successful login. Any session the browser had is ended first: the cookie
 * value always changes at login, so a planted cookie cannot be carried into an authenticated session.
 */
export async function startSession(
  ctx: ServiceContext,
  userId: string,
  previousCookie: string | undefined,
  proof: { amr: readonly AuthMethod[]; acr?: string } = { amr: ['pwd'] },
): Promise<{ cookie: string; session: Session }> {
  // The replaced session ends like any other: its clients are told (OIDC Back-Channel Logout 1.0 section 2.5).
  if (previousCookie) await deleteSession(ctx.db, hashOpaqueToken(previousCookie), sessionEnding(ctx));
  const { value, hash } = newOpaqueToken();
  const authTime = new Date(Math.floor(Date.now() / 1000) * 1000);
  const expiresAt = secondsFromNow(ctx.config.sessionTtlSeconds);
  const sid = randomToken(16);
  const amr = [...proof.amr];
  const acr = proof.acr ?? null;
  await insertSession(ctx.db, { idHash: hash, sid, userId, authTime, expiresAt, amr, acr });
  return { cookie: value, session: { sid, userId, authTime, createdAt: authTime, expiresAt, amr, acr } };
}
