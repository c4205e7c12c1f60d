// @ts-check
/**
 * The operator's sign-in: authorization code + PKCE S256 (OAuth 2.1 §4.1) by the built-in public client
 * authly-console, with state and nonce. Tokens live in sessionStorage only (this tab, gone when it closes);
 * the console holds no secret. Sign-out is RP-Initiated Logout 1.0 at the end_session_endpoint.
 */

export const CLIENT_ID = 'authly-console';
const SCOPE = 'openid profile authly:admin';
const PENDING_KEY = 'authly-console.pending';
const TOKENS_KEY = 'authly-console.tokens';
const SIGNED_OUT_KEY = 'authly-console.signed-out';

/**
 * @typedef {{ issuer: string, authorization_endpoint: string, token_endpoint: string, userinfo_endpoint: string, end_session_endpoint?: string }} Discovery
 * @typedef {{ access_token: string, id_token: string, expires_at: number, username: string }} Tokens
 */

/** @type {Promise<Discovery> | undefined} */
let discovery;

/** The server's metadata (OpenID Connect Discovery 1.0), fetched once. */
export function metadata() {
  discovery ??= fetch('/.well-known/openid-configuration').then(async (res) => {
    if (!res.ok) throw new Error(`discovery answered ${res.status}`);
    return /** @type {Promise<Discovery>} */ (res.json());
  });
  return discovery;
}

/** @param {Uint8Array} bytes */
function base64url(bytes) {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomValue() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** @param {string} verifier RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))) */
async function s256(verifier) {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

/** @returns {Tokens | undefined} */
export function currentTokens() {
  const stored = sessionStorage.getItem(TOKENS_KEY);
  if (!stored) return undefined;
  const tokens = /** @type {Tokens} */ (JSON.parse(stored));
  return tokens.expires_at > Date.now() ? tokens : undefined;
}

/** True once after a sign-out came back to the console, so that it does not sign in again at once. */
export function takeSignedOut() {
  const signedOut = sessionStorage.getItem(SIGNED_OUT_KEY) === '1';
  sessionStorage.removeItem(SIGNED_OUT_KEY);
  return signedOut;
}

/**
 * Starts the sign-in; the console comes back to `returnTo` (a /console path) after the callback.
 * @param {string} returnTo
 */
export async function signIn(returnTo) {
  const meta = await metadata();
  const pending = { state: randomValue(), nonce: randomValue(), verifier: randomValue(), returnTo: returnTo.startsWith('/console') ? returnTo : '/console' };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  sessionStorage.removeItem(TOKENS_KEY);
  const url = new URL(meta.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: `${meta.issuer}/console/callback`,
    scope: SCOPE,
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await s256(pending.verifier),
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
}

export class SignInError extends Error {}

/** @param {string} jwt */
function claimsOf(jwt) {
  const payload = jwt.split('.')[1] ?? '';
  const text = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
  return /** @type {Record<string, unknown>} */ (JSON.parse(decodeURIComponent(escape(text))));
}

/**
 * The redirect back from the authorization endpoint: checks state and iss (RFC 9207 §2.4), redeems the code
 * with the verifier, checks the ID token's iss, aud and nonce (OIDC Core §3.1.3.7; it came straight from
 * the token endpoint over this origin's TLS, so its signature need not be checked here), and returns the
 * /console path to go back to.
 * @returns {Promise<string>}
 */
export async function completeSignIn() {
  const meta = await metadata();
  const params = new URLSearchParams(location.search);
  const stored = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  if (!stored) throw new SignInError('This sign-in was not started in this tab. Sign in again.');
  const pending = /** @type {{ state: string, nonce: string, verifier: string, returnTo: string }} */ (JSON.parse(stored));
  if (params.get('state') !== pending.state) throw new SignInError('The sign-in response does not belong to this sign-in (state). Sign in again.');
  if (params.get('iss') !== meta.issuer) throw new SignInError('The sign-in response does not come from this server (iss). Sign in again.');
  const error = params.get('error');
  if (error) throw new SignInError(`The sign-in did not complete: ${params.get('error_description') ?? error}.`);
  const code = params.get('code');
  if (!code) throw new SignInError('The sign-in response has no code. Sign in again.');
  const res = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: `${meta.issuer}/console/callback`, client_id: CLIENT_ID, code_verifier: pending.verifier }),
  });
  const body = /** @type {Record<string, unknown>} */ (await res.json());
  if (!res.ok) throw new SignInError(`The token endpoint refused the sign-in: ${String(body.error_description ?? body.error)}.`);
  const idToken = String(body.id_token ?? '');
  const claims = claimsOf(idToken);
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.iss !== meta.issuer || !audience.includes(CLIENT_ID) || claims.nonce !== pending.nonce) {
    throw new SignInError('The ID token is not for this sign-in (iss, aud or nonce). Sign in again.');
  }
  const accessToken = String(body.access_token);
  // The ID token of a code flow carries no profile claims (OIDC Core §5.4): the username comes from UserInfo.
  const info = await fetch(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${accessToken}` } });
  const profile = info.ok ? /** @type {Record<string, unknown>} */ (await info.json()) : {};
  /** @type {Tokens} */
  const tokens = {
    access_token: accessToken,
    id_token: idToken,
    expires_at: Date.now() + Number(body.expires_in ?? 0) * 1000,
    username: String(profile.preferred_username ?? claims.sub),
  };
  sessionStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
  return pending.returnTo;
}

/** Forgets the tokens and ends the Authly session (RP-Initiated Logout 1.0 §2), back to /console. */
export async function signOut() {
  const meta = await metadata();
  const tokens = currentTokens();
  sessionStorage.removeItem(TOKENS_KEY);
  sessionStorage.setItem(SIGNED_OUT_KEY, '1');
  if (!meta.end_session_endpoint) {
    location.assign('/console');
    return;
  }
  const url = new URL(meta.end_session_endpoint);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    post_logout_redirect_uri: `${meta.issuer}/console`,
    ...(tokens ? { id_token_hint: tokens.id_token } : {}),
  }).toString();
  location.assign(url.toString());
}
