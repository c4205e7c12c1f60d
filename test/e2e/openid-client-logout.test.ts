import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/repositories/users-repository.js';
import { FetchBrowser, formActionOf, hiddenInputs, startClientApp, startE2eServer, type ClientAppServer, type E2eServer } from '../helpers/e2e-server.js';
import { createClient, createUser, REDIRECT_URI, TEST_PASSWORD } from '../helpers/fixtures.js';
import { codeFlow, discover } from './openid-client-support.js';

/**
 * RP-Initiated Logout as openid-client drives it: the end_session_endpoint from discovery, the URL from
 * buildEndSessionUrl, and the browser following it over real HTTP, with and without an id_token_hint.
 */
describe('openid-client RP-initiated logout against a running Authly', () => {
  let server: E2eServer;
  let rp: ClientAppServer;
  let user: User;
  let postLogoutRedirectUri: string;

  beforeAll(async () => {
    server = await startE2eServer();
    rp = await startClientApp();
    postLogoutRedirectUri = `${rp.origin}/logged-out`;
    user = await createUser(server.app);
  });
  afterAll(async () => {
    await rp?.close();
    await server?.close();
  });

  async function signIn() {
    const registered = await createClient(server.app, { postLogoutRedirectUris: [postLogoutRedirectUri] });
    const config = await discover(server.issuer, registered.clientId, client.ClientSecretBasic(registered.clientSecret!));
    const browser = new FetchBrowser(server.issuer);
    const { tokens } = await codeFlow(config, browser, { redirectUri: REDIRECT_URI, username: user.username, password: TEST_PASSWORD, scope: 'openid' });
    return { config, browser, idToken: tokens.id_token! };
  }

  /** prompt=none in the same browser: the error it lands with, or 'code'. */
  async function silentAuthorization(config: client.Configuration, browser: FetchBrowser): Promise<string> {
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      prompt: 'none',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const walk = await browser.authorize(url);
    if (walk.landing.mode !== 'query') throw new Error('expected a query response');
    return walk.landing.url.searchParams.get('code') ? 'code' : walk.landing.url.searchParams.get('error')!;
  }

  it('discovery advertises the end_session_endpoint', async () => {
    const { config } = await signIn();
    expect(config.serverMetadata().end_session_endpoint).toBe(`${server.issuer}/oidc/logout`);
  });

  it('with the id_token_hint: signs out at once and returns to the RP with state; prompt=none then needs a login', async () => {
    const { config, browser, idToken } = await signIn();
    expect(await silentAuthorization(config, browser)).toBe('code');
    const state = client.randomState();
    const url = client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: postLogoutRedirectUri, state });

    const res = await browser.get(url);
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(postLogoutRedirectUri);
    expect(location.searchParams.get('state')).toBe(state);
    expect((await fetch(location)).status).toBe(204);
    expect(browser.hasCookie('authly_session')).toBe(false);
    expect(await silentAuthorization(config, browser)).toBe('login_required');
  });

  it('without a hint: the user confirms, then returns to the RP with state', async () => {
    const { config, browser } = await signIn();
    const state = client.randomState();
    const page = await browser.get(client.buildEndSessionUrl(config, { post_logout_redirect_uri: postLogoutRedirectUri, state }));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain(`form-action 'self' ${rp.origin};`);
    const text = await page.text();
    expect(text).toContain('Sign out of Authly?');

    const done = await browser.post(formActionOf(text), Object.fromEntries(hiddenInputs(text)));
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(`${postLogoutRedirectUri}?state=${state}`);
    expect(await silentAuthorization(config, browser)).toBe('login_required');
  });

  it('with no parameters at all: signs out after confirmation and does not redirect', async () => {
    const { config, browser } = await signIn();
    const page = await browser.get('/oidc/logout');
    const text = await page.text();
    expect(page.status).toBe(200);
    const done = await browser.post(formActionOf(text), Object.fromEntries(hiddenInputs(text)));
    expect(done.status).toBe(200);
    expect(done.headers.get('location')).toBeNull();
    expect(await done.text()).toContain('You are signed out');
    expect(await silentAuthorization(config, browser)).toBe('login_required');
  });
});
