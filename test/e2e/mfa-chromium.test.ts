import { existsSync } from 'node:fs';
import * as client from 'openid-client';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClientApp, startE2eServer, type ClientAppServer, type E2eServer } from '../helpers/e2e-server.js';
import { createClient, createUser, TEST_PASSWORD, type TestClient } from '../helpers/fixtures.js';
import { TestClock, totpCode } from '../http/mfa/mfa-helpers.js';
import { discover } from './openid-client-support.js';
import { axeViolationLines, CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/axe.js';

/**
 * TOTP in a real browser: enrol on the account page (QR code, key, first code, recovery codes), then sign
 * in with the password and a code, with the server's TOTP clock pinned by the test; and a TOTP set-up
 * inside the sign-in for a client that requires a factor. axe-core checks every MFA page (desktop and
 * mobile width). Needs Chromium at /usr/bin/chromium (or AUTHLY_CHROMIUM_PATH); AUTHLY_SKIP_BROWSER=1 skips.
 */
const SKIP_BROWSER = process.env.AUTHLY_SKIP_BROWSER === '1';
const isCspViolation = (text: string) => /Content Security Policy|Refused to (send form data|execute|load|apply|navigate)/i.test(text);

describe.skipIf(SKIP_BROWSER)('TOTP in headless Chromium', () => {
  const clock = new TestClock();
  let server: E2eServer;
  let clientApp: ClientAppServer;
  let browser: Browser;
  let registered: TestClient;
  let strict: TestClient;
  let config: client.Configuration;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH} (AUTHLY_SKIP_BROWSER=1 skips the browser tests explicitly)`);
    server = await startE2eServer({}, { now: clock.now });
    clientApp = await startClientApp();
    registered = await createClient(server.app, { redirectUris: [clientApp.callbackUrl], skipConsent: true });
    strict = await createClient(server.app, { redirectUris: [clientApp.callbackUrl], skipConsent: true, mfaPolicy: 'required' });
    config = await discover(server.issuer, registered.clientId, client.ClientSecretBasic(registered.clientSecret!));
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
  });
  afterAll(async () => {
    await browser?.close();
    await clientApp?.close();
    await server?.close();
  });

  /** A fresh context (no cookies); bypassCSP only so that axe-core can be injected. */
  async function freshPage(): Promise<{ page: Page; console: string[] }> {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const messages: string[] = [];
    page.on('console', (message) => messages.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => messages.push(`pageerror: ${error.message}`));
    return { page, console: messages };
  }

  /** axe-core on the current page at desktop and mobile width: no violations. */
  async function expectAccessible(page: Page): Promise<void> {
    for (const viewport of [{ width: 1280, height: 900 }, { width: 375, height: 740 }]) {
      await page.setViewportSize(viewport);
      expect(await axeViolationLines(page), `${page.url()} at ${viewport.width}px`).toEqual([]);
    }
  }

  async function authorizationRequest(clientId: string) {
    const verifier = client.randomPKCECodeVerifier();
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: clientApp.callbackUrl,
      scope: 'openid',
      state: client.randomState(),
      nonce: client.randomNonce(),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    return { url: `${server.issuer}/oauth/authorize?${q}`, verifier, state: q.get('state')!, nonce: q.get('nonce')! };
  }

  async function password(page: Page, username: string): Promise<void> {
    await page.locator('input[name="username"]').waitFor();
    await page.fill('#username', username);
    await page.fill('#password', TEST_PASSWORD);
    await page.click('button[type="submit"]');
  }

  it('enrols TOTP on the account page, then signs in with the password and a code; the ID token says amr pwd otp mfa', async () => {
    const user = await createUser(server.app);
    const { page, console } = await freshPage();
    const first = await authorizationRequest(registered.clientId);
    await page.goto(first.url);
    await password(page, user.username);
    await page.waitForURL((url) => url.href.startsWith(`${clientApp.callbackUrl}?`));

    await page.goto(`${server.issuer}/account/security/totp`);
    expect(await page.textContent('h1')).toBe('Authenticator app');
    expect(await page.locator('img[alt="QR code to add this account to an authenticator app"]').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    await expectAccessible(page);
    const secret = (await page.textContent('#totp-secret'))!.replace(/ /g, '');
    await page.fill('#code', totpCode(secret, clock.now()));
    await page.click('button[type="submit"]');
    await page.locator('p.notice').waitFor();
    expect(await page.locator('ul.recovery-codes li').count()).toBe(10);
    await expectAccessible(page);
    expect(console.filter(isCspViolation)).toEqual([]);
    await page.context().close();

    clock.advance(30);
    const { page: signIn, console: signInConsole } = await freshPage();
    const request = await authorizationRequest(registered.clientId);
    await signIn.goto(request.url);
    await password(signIn, user.username);
    await signIn.locator('#code').waitFor();
    expect(new URL(signIn.url()).pathname).toMatch(/^\/interaction\/[^/]+\/mfa$/);
    expect(await signIn.textContent('h1')).toBe('Two-step verification');
    await expectAccessible(signIn);
    await signIn.fill('#code', totpCode(secret, clock.now()));
    await signIn.click('button[type="submit"]');
    await signIn.waitForURL((url) => url.href.startsWith(`${clientApp.callbackUrl}?`));
    const tokens = await client.authorizationCodeGrant(config, new URL(signIn.url()), {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    expect(tokens.claims()).toMatchObject({ sub: user.id, amr: ['pwd', 'otp', 'mfa'], acr: 'urn:authly:acr:mfa' });
    expect(signInConsole.filter(isCspViolation)).toEqual([]);
    await signIn.context().close();
  });

  it('sets up TOTP inside the sign-in when the client requires a factor (German pages too)', async () => {
    const user = await createUser(server.app);
    const { page, console } = await freshPage();
    const request = await authorizationRequest(strict.clientId);
    await page.goto(`${request.url}&ui_locales=de`);
    await password(page, user.username);
    await page.locator('#totp-secret').waitFor();
    expect(await page.getAttribute('html', 'lang')).toBe('de');
    expect(await page.textContent('h1')).toBe('Bestätigung in zwei Schritten einrichten');
    await expectAccessible(page);
    const secret = (await page.textContent('#totp-secret'))!.replace(/ /g, '');
    await page.fill('#code', totpCode(secret, clock.now()));
    await page.click('button[type="submit"]');
    await page.locator('ul.recovery-codes').waitFor();
    await expectAccessible(page);
    await page.click('button[type="submit"]');
    await page.waitForURL((url) => url.href.startsWith(`${clientApp.callbackUrl}?`));
    expect(new URL(page.url()).searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(console.filter(isCspViolation)).toEqual([]);
    await page.context().close();
  });
});
