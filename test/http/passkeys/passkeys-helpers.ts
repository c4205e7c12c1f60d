import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { csrfToken, InjectBrowser } from '../../helpers/browser.js';
import type { TestClient } from '../../helpers/fixtures.js';
import { authorizeUrl, obtainCode } from '../../helpers/oauth-flow.js';
import { SoftwareAuthenticator, type CeremonyOverrides } from '../../helpers/software-authenticator.js';
import type { TestApp } from '../../helpers/test-app.js';

/** A browser signed in (password) through an authorization, so Authly's session cookie is set. */
export async function signedInBrowser(t: TestApp, client: TestClient, username: string): Promise<InjectBrowser> {
  const browser = new InjectBrowser(t.app);
  await obtainCode(browser, client, username);
  return browser;
}

/** The account page's CSRF token for this browser. */
export async function accountCsrf(browser: InjectBrowser): Promise<string> {
  const page = await browser.get('/account/security/passkeys');
  expect(page.statusCode).toBe(200);
  return csrfToken(page.body);
}

/** Registers a passkey of `authenticator` on the account page; returns the final response of the POST. */
export async function registerPasskey(
  browser: InjectBrowser,
  authenticator: SoftwareAuthenticator,
  name = 'My laptop',
  overrides: CeremonyOverrides = {},
): Promise<{ res: LightMyRequestResponse; credentialId: string }> {
  const csrf = await accountCsrf(browser);
  const options = await browser.post('/account/security/passkeys/options', { csrf_token: csrf });
  expect(options.statusCode).toBe(200);
  const response = authenticator.create(options.json(), overrides);
  const res = await browser.post('/account/security/passkeys', { csrf_token: csrf, name, credential: JSON.stringify(response) });
  return { res, credentialId: response.id as string };
}

let addresses = 0;

/**
 * A browser from an address of its own, so that the failures one test provokes on purpose do not
 * throttle the next test's attempts (the login throttle counts per account and address).
 */
export function freshBrowser(t: TestApp): InjectBrowser {
  addresses++;
  return new InjectBrowser(t.app, `10.${addresses >> 8}.${addresses & 255}.7`);
}

/** A fresh authorization in a fresh browser, at its login page: the interaction's uid and CSRF token. */
export async function atLoginPage(t: TestApp, client: TestClient, browser = freshBrowser(t)) {
  const start = await browser.get(authorizeUrl(client.clientId));
  const location = start.headers.location as string;
  const page = await browser.get(location);
  expect(page.statusCode).toBe(200);
  const uid = location.split('/')[2]!;
  return { browser, uid, csrf: csrfToken(page.body), page };
}

/** POST the options request of an interaction; the parsed options. */
export async function signInOptions(browser: InjectBrowser, uid: string, csrf: string) {
  const res = await browser.post(`/interaction/${uid}/passkey/options`, { csrf_token: csrf });
  expect(res.statusCode).toBe(200);
  return res.json() as { challenge: string; rpId: string; allowCredentials?: { id: string }[]; userVerification: string };
}

/** Asks for options and answers them with `authenticator` (credential and overrides as given). */
export async function passkeySignIn(
  browser: InjectBrowser,
  uid: string,
  csrf: string,
  authenticator: SoftwareAuthenticator,
  credentialId?: string,
  overrides: CeremonyOverrides = {},
): Promise<LightMyRequestResponse> {
  const options = await signInOptions(browser, uid, csrf);
  const assertion = authenticator.get(options, credentialId, overrides);
  return browser.post(`/interaction/${uid}/passkey`, { csrf_token: csrf, credential: JSON.stringify(assertion) });
}

export const SIGN_IN_FAILED = 'Sign-in failed. Try again with a passkey of your account, or with your username and password.';
