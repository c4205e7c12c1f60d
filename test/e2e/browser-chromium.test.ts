import { existsSync } from 'node:fs';
import * as client from 'openid-client';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/repositories/users-repository.js';
import { startClientApp, startE2eServer, type ClientAppServer, type E2eServer } from '../helpers/e2e-server.js';
import { createClient, createUser, TEST_PASSWORD, type TestClient } from '../helpers/fixtures.js';
import { discover } from './openid-client-support.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/axe.js';

/**
 * The login, consent and form_post pages in a real browser (headless Chromium through playwright-core).
 * Chromium applies the CSP form-action directive to the redirect that follows a form POST and enforces
 * script nonces, so only a real browser proves those pages let the response reach the client.
 *
 * Needs Chromium at /usr/bin/chromium (Debian: `apt-get install -y chromium`), or at the path in
 * AUTHLY_CHROMIUM_PATH. Without it these tests FAIL, so CI cannot pass by silently skipping them; set
 * AUTHLY_SKIP_BROWSER=1 to skip them explicitly on a machine without a browser.
 */
const SKIP_BROWSER = process.env.AUTHLY_SKIP_BROWSER === '1';
const STEP_TIMEOUT_MS = 10_000;
const LOGIN_SCREENSHOT = '/tmp/authly-login.png';

/** Console messages in which Chromium reports a Content Security Policy violation. */
const isCspViolation = (text: string) => /Content Security Policy|Refused to (send form data|execute|load|apply|navigate)/i.test(text);

describe.skipIf(SKIP_BROWSER)('the authorization pages in headless Chromium', () => {
  let server: E2eServer;
  let clientApp: ClientAppServer;
  let browser: Browser;
  let users: User[];
  let registered: TestClient;
  let config: client.Configuration;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM_PATH}. Install it (Debian: apt-get install -y chromium), point ` +
          'AUTHLY_CHROMIUM_PATH at a Chromium binary, or set AUTHLY_SKIP_BROWSER=1 to skip the browser tests explicitly.',
      );
    }
    server = await startE2eServer();
    clientApp = await startClientApp({
      // Negative control for the CSP check: a page whose form-action forbids where its POST redirects.
      '/csp-probe': (_request, response) => {
        response
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "form-action 'self'" })
          .end('<!doctype html><title>probe</title><form method="post" action="/csp-probe/submit"><button id="go">Go</button></form>');
      },
      '/csp-probe/submit': (_request, response) => {
        response.writeHead(303, { location: `${server.issuer}/health` }).end();
      },
    });
    // One user per test: consent is remembered per user and client, and each test should see the consent page.
    users = [await createUser(server.app), await createUser(server.app)];
    registered = await createClient(server.app, { redirectUris: [clientApp.callbackUrl] });
    config = await discover(server.issuer, registered.clientId, client.ClientSecretBasic(registered.clientSecret!));
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
  });
  afterAll(async () => {
    await browser?.close();
    await clientApp?.close();
    await server?.close();
  });

  /** A page in a fresh browser context (no cookies) that records every console message. */
  async function freshPage(): Promise<{ page: Page; console: string[] }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    const messages: string[] = [];
    page.on('console', (message) => messages.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => messages.push(`pageerror: ${error.message}`));
    return { page, console: messages };
  }

  async function authorizationRequest(extra: Record<string, string> = {}) {
    const state = client.randomState();
    const nonce = client.randomNonce();
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: clientApp.callbackUrl,
      scope: 'openid profile email',
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...extra,
    });
    return { url: url.href, state, nonce, verifier };
  }

  async function signInAndAllow(page: Page, user: User, screenshot?: string): Promise<void> {
    await page.locator('input[name="username"]').waitFor();
    expect(new URL(page.url()).pathname).toMatch(/^\/interaction\/[^/]+$/);
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    await page.fill('#username', user.username);
    await page.fill('#password', TEST_PASSWORD);
    await page.click('button[type="submit"]');
    const allow = page.locator('button[name="decision"][value="allow"]');
    await allow.waitFor();
    expect(await page.textContent('h1')).toBe('Allow access?');
    await allow.click();
  }

  it('logs in, consents and lands on the client redirect URI with code, state and iss', async () => {
    const { page, console } = await freshPage();
    const request = await authorizationRequest();
    await page.goto(request.url);
    expect(await page.title()).toBe('Sign in – Authly');
    const user = users[0]!;
    await signInAndAllow(page, user, LOGIN_SCREENSHOT);

    await page.waitForURL((url) => url.href.startsWith(`${clientApp.callbackUrl}?`));
    const landed = new URL(page.url());
    expect([...landed.searchParams.keys()].sort()).toEqual(['code', 'iss', 'state']);
    expect(landed.searchParams.get('state')).toBe(request.state);
    expect(landed.searchParams.get('iss')).toBe(server.issuer);
    expect(await page.textContent('#done')).toBe('Signed in');
    expect(clientApp.callbacks.at(-1)).toMatchObject({ method: 'GET' });

    const tokens = await client.authorizationCodeGrant(config, landed, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    expect(tokens.claims()).toMatchObject({ sub: user.id, nonce: request.nonce });
    expect(console.filter(isCspViolation)).toEqual([]);
    await page.context().close();
  });

  it('auto-submits the response_mode=form_post page as a POST to the client', async () => {
    const { page, console } = await freshPage();
    const request = await authorizationRequest({ response_mode: 'form_post' });
    const before = clientApp.callbacks.length;
    const user = users[1]!;
    await page.goto(request.url);
    await signInAndAllow(page, user);

    await page.waitForURL(clientApp.callbackUrl);
    expect(await page.textContent('#done')).toBe('Signed in');
    expect(clientApp.callbacks).toHaveLength(before + 1);
    const callback = clientApp.callbacks.at(-1)!;
    expect(callback.method).toBe('POST');
    expect(callback.url.search).toBe('');
    expect([...callback.body.keys()].sort()).toEqual(['code', 'iss', 'state']);
    expect(callback.body.get('state')).toBe(request.state);
    expect(callback.body.get('iss')).toBe(server.issuer);

    const tokens = await client.authorizationCodeGrant(
      config,
      new Request(clientApp.callbackUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: callback.body.toString(),
      }),
      { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce },
    );
    expect(tokens.claims()).toMatchObject({ sub: user.id, nonce: request.nonce });
    expect(console.filter(isCspViolation)).toEqual([]);
    await page.context().close();
  });

  it('reports a form-action violation on the console (control: the CSP check above can fail)', async () => {
    const { page, console } = await freshPage();
    await page.goto(`${clientApp.origin}/csp-probe`);
    await page.click('#go');
    await expect.poll(() => console.filter(isCspViolation).length, { timeout: STEP_TIMEOUT_MS }).toBeGreaterThan(0);
    expect(console.filter(isCspViolation).join('\n')).toContain('form-action');
    expect(page.url()).not.toContain('/health');
    await page.context().close();
  });
});
