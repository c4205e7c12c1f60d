// Pre-minting through the real flows: the browser signs in and consents once on the server's own
// pages; later authorizations ride on that single sign-on session, each with a fresh PKCE pair.
import { randomBytes } from 'node:crypto';
import { Browser, authorize, basicAuth, pkcePair } from './browser.mjs';

const SCOPE = 'openid profile email offline_access';

function authorizeUrl(t, client, challenge) {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: client.id,
    redirect_uri: t.clients.redirectUri,
    scope: SCOPE,
    state: randomBytes(8).toString('base64url'),
    nonce: randomBytes(8).toString('base64url'),
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  return `${t.discovery.authorization_endpoint}?${q}`;
}

/** A signed-in browser for the `web` client (login and consent done once). */
export async function signedInBrowser(t) {
  const browser = new Browser(t.issuer);
  const { challenge } = pkcePair();
  await authorize(browser, authorizeUrl(t, t.clients.web, challenge), t.clients.redirectUri, t.user);
  return browser;
}

/**
 * `count` codes (with their verifiers) for the web client, one authorization at a time per browser. Each
 * worker has its own signed-in browser: a session cookie re-issued by one response must not race another.
 */
export async function mintCodes(t, browsers, count) {
  const codes = [];
  const worker = async (browser) => {
    while (codes.length + active < count) {
      active++;
      const { verifier, challenge } = pkcePair();
      const { code } = await authorize(browser, authorizeUrl(t, t.clients.web, challenge), t.clients.redirectUri, t.user);
      active--;
      codes.push({ code, verifier });
    }
  };
  let active = 0;
  await Promise.all(browsers.map(worker));
  return codes;
}

export async function exchangeCode(t, { code, verifier }) {
  const res = await fetch(t.discovery.token_endpoint, {
    method: 'POST',
    headers: { authorization: basicAuth(t.clients.web.id, t.clients.web.secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: t.clients.redirectUri }),
  });
  const body = await res.json();
  if (res.status !== 200 || !body.access_token || !body.refresh_token) throw new Error(`code exchange failed: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Token sets from full code flows: access tokens for introspection/userinfo, refresh tokens to rotate. */
export async function mintTokens(t, browsers, count) {
  const codes = await mintCodes(t, browsers, count);
  const out = [];
  for (const c of codes) out.push(await exchangeCode(t, c));
  return out;
}

/** The login form of a fresh authorization by the `login` client (never consented, so each sign-in goes on to consent). */
export async function loginForm(t) {
  const browser = new Browser(t.issuer);
  const { challenge } = pkcePair();
  const result = await authorize(browser, authorizeUrl(t, t.clients.login, challenge), t.clients.redirectUri, t.user, { stopAtLogin: true });
  if (!result.login) throw new Error('expected a login form');
  return result.login;
}

export async function revoke(t, token) {
  const res = await fetch(t.discovery.revocation_endpoint, {
    method: 'POST',
    headers: { authorization: basicAuth(t.clients.web.id, t.clients.web.secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
  });
  await res.arrayBuffer();
  return res.status;
}
