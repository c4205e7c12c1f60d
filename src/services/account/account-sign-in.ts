import { constantTimeEqual, hmacSha256Base64url, randomToken } from '../../lib/crypto.js';
import { s256, verifyS256 } from '../../lib/pkce.js';
import { consumeAuthorizationCode } from '../../repositories/authorization-codes-repository.js';
import { revokeGrant } from '../../repositories/grants-repository.js';
import { hashOpaqueToken } from '../../tokens/opaque-token.js';
import type { ServiceContext } from '../context.js';
import { ACCOUNT_CLIENT_ID, accountCallbackUri } from './account-client.js';

/**
 * The account page's sign-in: an authorization code flow of the built-in client `authly-account` through
 * Authly's own authorization endpoint (so passwords, passkeys, MFA, throttles and lockout pages apply
 * unchanged), finished at /account/callback. The browser carries a short-lived cookie with the state and
 * the page to return to, MACed under the server's CSRF key; the PKCE verifier is derived from the state
 * with the same key, so it never leaves the server and the code is useless to anyone but this callback.
 * The callback uses the code up and revokes its grant at once: the account page needs the session the
 * sign-in started, not tokens.
 */

/** The page asked for: an /account path of plain segments only (no scheme, host, `//`, dots or query). */
const ACCOUNT_PATH = /^\/account(?:\/[A-Za-z0-9_-]{1,64}){0,4}$/;
export const DEFAULT_RETURN_TO = '/account';

/**
 * `return_to` when it is an account path (a trailing slash dropped, as the router ignores it); undefined
 * (refused) for anything else, so it cannot redirect away.
 */
export function accountReturnPath(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return DEFAULT_RETURN_TO;
  const path = value.length > 1 && value.endsWith('/') ? value.slice(0, -1) : value;
  return ACCOUNT_PATH.test(path) ? path : undefined;
}

export const ACCOUNT_SIGN_IN_TTL_SECONDS = 600;

const mac = (ctx: Pick<ServiceContext, 'csrfKey'>, purpose: string, value: string) => hmacSha256Base64url(ctx.csrfKey, `account-sign-in:${purpose}:${value}`);
const verifierFor = (ctx: Pick<ServiceContext, 'csrfKey'>, state: string) => mac(ctx, 'pkce', state);

export interface AccountSignInStart {
  /** Where to send the browser: Authly's authorization endpoint. */
  authorizationUrl: string;
  /** The value of the sign-in cookie (state, return path, MAC). */
  cookie: string;
}

/**
 * Starts the flow: `returnTo` must already have passed accountReturnPath. `reauthenticate` asks for a new
 * sign-in even when a session exists (prompt=login, OIDC Core section 3.1.2.1): a change of the account's
 * factors needs a recent one (requireRecentSignIn).
 */
export function startAccountSignIn(
  ctx: Pick<ServiceContext, 'csrfKey' | 'config'>,
  authorizationEndpoint: string,
  returnTo: string,
  options: { uiLocales?: string; reauthenticate?: boolean } = {},
): AccountSignInStart {
  const { uiLocales, reauthenticate } = options;
  const state = randomToken(16);
  const url = new URL(authorizationEndpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: ACCOUNT_CLIENT_ID,
    redirect_uri: accountCallbackUri(ctx.config.issuer),
    scope: 'openid',
    state,
    code_challenge: s256(verifierFor(ctx, state)),
    code_challenge_method: 'S256',
    ...(uiLocales ? { ui_locales: uiLocales } : {}),
    ...(reauthenticate ? { prompt: 'login' } : {}),
  }).toString();
  const payload = `${state}.${Buffer.from(returnTo).toString('base64url')}`;
  return { authorizationUrl: url.href, cookie: `${payload}.${mac(ctx, 'cookie', payload)}` };
}

/** The sign-in cookie's state and return path, when its MAC is ours. */
export function readAccountSignInCookie(ctx: Pick<ServiceContext, 'csrfKey'>, cookie: string | undefined): { state: string; returnTo: string } | undefined {
  if (!cookie || cookie.length > 400) return undefined;
  const [state, path, tag, ...rest] = cookie.split('.');
  if (!state || !path || !tag || rest.length > 0) return undefined;
  if (!constantTimeEqual(tag, mac(ctx, 'cookie', `${state}.${path}`))) return undefined;
  const returnTo = accountReturnPath(Buffer.from(path, 'base64url').toString('utf8'));
  return returnTo ? { state, returnTo } : undefined;
}

export type AccountCallbackFailure = 'unknown_code' | 'replayed_code' | 'state_mismatch' | 'invalid_code' | 'other_session';

export type AccountCallbackResult = { ok: true; userId: string; sid: string } | { ok: false; reason: AccountCallbackFailure };

/**
 * Uses the code up whatever else is wrong (it is never left usable), revokes its grant (the account page
 * holds no tokens), then checks it against this browser: the state of its cookie, the PKCE verifier derived
 * from that state, the redirect URI, the expiry, and that the code's sign-in is the browser's current
 * session. A replayed code revokes its grant too, as at the token endpoint (RFC 6749 section 4.1.2).
 */
export async function finishAccountSignIn(
  ctx: Pick<ServiceContext, 'db' | 'csrfKey' | 'config'>,
  input: { code: string; state: string | undefined; expectedState: string | undefined; sessionSid: string | undefined },
): Promise<AccountCallbackResult> {
  if (input.code.length > 200) return { ok: false, reason: 'unknown_code' };
  const consumed = await consumeAuthorizationCode(ctx.db, hashOpaqueToken(input.code), ACCOUNT_CLIENT_ID);
  if (consumed.outcome === 'unknown') return { ok: false, reason: 'unknown_code' };
  if (consumed.outcome === 'replayed') {
    await ctx.db.transaction((tx) => revokeGrant(tx, consumed.grantId));
    return { ok: false, reason: 'replayed_code' };
  }
  const { code, grant } = consumed;
  await ctx.db.transaction((tx) => revokeGrant(tx, grant.id));
  const { state, expectedState } = input;
  if (state === undefined || expectedState === undefined || !constantTimeEqual(state, expectedState)) return { ok: false, reason: 'state_mismatch' };
  const valid =
    code.redirectUri === accountCallbackUri(ctx.config.issuer) &&
    new Date(code.expiresAt).getTime() > Date.now() &&
    code.codeChallenge !== null &&
    code.codeChallengeMethod === 'S256' &&
    verifyS256(verifierFor(ctx, expectedState), code.codeChallenge) &&
    grant.revokedAt === null &&
    grant.userActive;
  if (!valid) return { ok: false, reason: 'invalid_code' };
  if (grant.sid === null || input.sessionSid === undefined || grant.sid !== input.sessionSid) return { ok: false, reason: 'other_session' };
  return { ok: true, userId: grant.userId, sid: grant.sid };
}
