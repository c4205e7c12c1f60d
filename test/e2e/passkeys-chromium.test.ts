import { existsSync } from 'node:fs';
import * as client from 'openid-client';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordInteractionFactors } from '../../src/repositories/interactions-repository.js';
import type { User } from '../../src/repositories/users-repository.js';
import { startClientApp, startE2eServer, type ClientAppServer, type E2eServer } from '../helpers/e2e-server.js';
import { createClient, createUser, TEST_PASSWORD, type TestClient } from '../helpers/fixtures.js';
import { discover } from './openid-client-support.js';
import { axeViolationLines, CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/axe.js';

/**
 * Passkeys in real Chromium with the DevTools protocol's virtual authenticator (CTAP2, internal transport,
 * resident keys, user verification): sign in with a password through an authorization, register a passkey
 * on the account page, sign out, sign in with the passkey button, and the client gets a code whose
 * session says how the user signed in. axe-core checks the passkey pages (login, account) on the way.
 *
 * Needs Chromium at /usr/bin/chromium (or AUTHLY_CHROMIUM_PATH); AUTHLY_SKIP_BROWSER=1 skips explicitly,
 * as in browser-chromium.test.ts. The issuer is http://localhost:<port>: WebAuthn needs a secure
 * context and an RP ID that is a domain, which an IP address is not.
 */
const SKIP_BROWSER = process.env.AUTHLY_SKIP_BROWSER === '1';
const STEP_TIMEOUT_MS = 15_000;

const isCspViolation = (text: string) => /Content Security Policy|Refused to (send form data|execute|load|apply|navigate|connect)/i.test(text);

describe.skipIf(SKIP_BROWSER)('passkeys in headless Chromium (virtual authenticator)', () => {
  let server: E2eServer;
  let clientApp: ClientAppServer;
  let browser: Browser;
  let user: User;
  let registered: TestClient;
  let config: client.Configuration;
  /** The passkey registered by the first test, exported from its virtual authenticator (with its private key). */
  let savedCredential: object | undefined;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(`Chromium not found at ${CHROMIUM_PATH}. Install it, set AUTHLY_CHROMIUM_PATH, or AUTHLY_SKIP_BROWSER=1 to skip explicitly.`);
    }
    server = await startE2eServer({}, { issuerHost: 'localhost' });
    clientApp = await startClientApp();
    user = await createUser(server.app);
    registered = await createClient(server.app, { redirectUris: [clientApp.callbackUrl] });
    config = await discover(server.issuer, registered.clientId, client.ClientSecretBasic(registered.clientSecret!));
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
  });
  afterAll(async () => {
    await browser?.close();
    await clientApp?.close();
    await server?.close();
  });

  async function authorizationRequest() {
    const state = client.randomState();
    const nonce = client.randomNonce();
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: clientApp.callbackUrl,
      scope: 'openid profile',
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, state, nonce, verifier };
  }

  /** axe-core on the current page (the context bypasses CSP so the test may inject it): no violations. */
  async function expectAccessible(page: Page, what: string) {
    expect(await axeViolationLines(page), what).toEqual([]);
  }

  async function redeem(page: Page, request: Awaited<ReturnType<typeof authorizationRequest>>) {
    await page.waitForURL((url) => url.href.startsWith(`${clientApp.callbackUrl}?`));
    const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    return tokens.claims()!;
  }

  /** The methods of the user's latest session: what its sign-in used (RFC 8176). */
  async function latestAmr() {
    const { rows } = await server.testDb.db.query<{ amr: string[] }>('SELECT amr FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, sid LIMIT 1', [user.id]);
    return rows[0]!.amr;
  }

  it('registers a passkey on the account page, signs out, signs in with the passkey button, then with the passkey autofill', async () => {
    const context: BrowserContext = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    const messages: string[] = [];
    page.on('console', (message) => messages.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => messages.push(`pageerror: ${error.message}`));

    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });

    // 1. A password sign-in through an authorization: Authly's session is set.
    const first = await authorizationRequest();
    await page.goto(first.url);
    await page.locator('#username').waitFor();
    expect(await page.getAttribute('#username', 'autocomplete')).toBe('username webauthn');
    await page.locator('button[data-passkey-start]').waitFor({ state: 'visible' });
    await expectAccessible(page, 'login page');
    await page.fill('#username', user.username);
    await page.fill('#password', TEST_PASSWORD);
    await page.click('button[type="submit"]:not([data-passkey-start])');
    const allow = page.locator('button[name="decision"][value="allow"]');
    await allow.waitFor();
    await allow.click();
    expect((await redeem(page, first)).sub).toBe(user.id);

    // 2. The account page: add a passkey.
    await page.goto(`${server.issuer}/account/security/passkeys`);
    expect(await page.textContent('h1')).toBe('Passkeys');
    await expectAccessible(page, 'account passkeys page, empty');
    await page.fill('#passkey-new-name', 'Chromium virtual key');
    await page.click('button[data-passkey-start]');
    await page.waitForURL((url) => url.search === '?done=added');
    expect(await page.textContent('p.notice')).toBe('The passkey was added.');
    expect(await page.textContent('ul.passkeys h3')).toBe('Chromium virtual key');
    await expectAccessible(page, 'account passkeys page with a passkey');
    // The same page in German at a phone's width.
    await page.setViewportSize({ width: 375, height: 740 });
    await page.setExtraHTTPHeaders({ 'accept-language': 'de' });
    await page.reload();
    expect(await page.getAttribute('html', 'lang')).toBe('de');
    expect(await page.textContent('main h2')).toBe('Ihre Passkeys');
    await expectAccessible(page, 'account passkeys page, German, mobile width');
    await page.setExtraHTTPHeaders({});
    await page.setViewportSize({ width: 1280, height: 800 });
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]!.isResidentCredential).toBe(true);

    // 3. Sign out (the session cookie goes), then sign in again with the passkey button, without a
    // username. The virtual authenticator would answer the autofill request by itself, so this page
    // reports no conditional mediation: the button is what signs in here (the autofill has step 4).
    await context.clearCookies();
    await page.addInitScript(() => {
      (globalThis as unknown as { PublicKeyCredential: { isConditionalMediationAvailable(): Promise<boolean> } }).PublicKeyCredential.isConditionalMediationAvailable =
        async () => false;
    });
    const second = await authorizationRequest();
    await page.goto(second.url);
    const button = page.locator('button[data-passkey-start]');
    await button.waitFor({ state: 'visible' });
    expect(await button.textContent()).toBe('Sign in with a passkey');
    await button.click();
    expect((await redeem(page, second)).sub).toBe(user.id);
    expect(await latestAmr()).toEqual(['hwk', 'user', 'mfa']);
    const { rows: used } = await server.testDb.db.query<{ used: boolean }>(
      'SELECT last_used_at IS NOT NULL AS used FROM webauthn_credentials WHERE user_id = $1',
      [user.id],
    );
    expect(used).toEqual([{ used: true }]);

    // 4. Signed out again, in a new tab whose authenticator holds the same passkey: the passkey autofill
    // (conditional mediation on the username field) signs in as soon as the page loads.
    await context.clearCookies();
    const { credentials: after } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    const tab = await context.newPage();
    tab.setDefaultTimeout(STEP_TIMEOUT_MS);
    tab.on('console', (message) => messages.push(`${message.type()}: ${message.text()}`));
    tab.on('pageerror', (error) => messages.push(`pageerror: ${error.message}`));
    const tabCdp = await context.newCDPSession(tab);
    await tabCdp.send('WebAuthn.enable', { enableUI: false });
    const { authenticatorId: tabAuthenticator } = await tabCdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    await tabCdp.send('WebAuthn.addCredential', { authenticatorId: tabAuthenticator, credential: after[0]! });
    const third = await authorizationRequest();
    await tab.goto(third.url);
    expect((await redeem(tab, third)).sub).toBe(user.id);
    expect(await latestAmr()).toEqual(['hwk', 'user', 'mfa']);
    // Kept with its latest signature counter: an older copy would be refused as a clone.
    savedCredential = (await tabCdp.send('WebAuthn.getCredentials', { authenticatorId: tabAuthenticator })).credentials[0];
    expect(messages.filter(isCspViolation)).toEqual([]);
    expect(messages.filter((m) => m.startsWith('pageerror'))).toEqual([]);
    await context.close();
  });

  it('as the second factor: a failed attempt shows the passkey step (accessible), and the user’s passkey finishes the sign-in', async () => {
    expect(savedCredential).toBeDefined();
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    await cdp.send('WebAuthn.addCredential', { authenticatorId, credential: savedCredential as never });
    // No autofill on this page: what signs in here is the second-factor step.
    await page.addInitScript(() => {
      (globalThis as unknown as { PublicKeyCredential: { isConditionalMediationAvailable(): Promise<boolean> } }).PublicKeyCredential.isConditionalMediationAvailable =
        async () => false;
    });
    const request = await authorizationRequest();
    await page.goto(request.url);
    await page.locator('#username').waitFor();
    const uid = new URL(page.url()).pathname.split('/')[2]!;
    // What the MFA step records once the password passed (the "mfa" part's page leads here after merge).
    await recordInteractionFactors(server.testDb.db, uid, user.id, ['pwd']);
    await page.evaluate(() => {
      const form = (globalThis as unknown as { document: { querySelector(s: string): { elements: { namedItem(n: string): { value: string } }; submit(): void } } }).document.querySelector('form[data-passkey]');
      form.elements.namedItem('credential').value = '{}';
      form.submit();
    });
    await page.locator('h1', { hasText: 'Confirm it is you' }).waitFor();
    expect(await page.textContent('p.error')).toBe('Sign-in failed. Try again with a passkey of your account, or with your username and password.');
    await expectAccessible(page, 'second-factor passkey step');
    const button = page.locator('button[data-passkey-start]');
    await button.waitFor({ state: 'visible' });
    expect(await button.textContent()).toBe('Use a passkey');
    await button.click();
    expect((await redeem(page, request)).sub).toBe(user.id);
    expect(await latestAmr()).toEqual(['pwd', 'hwk', 'user', 'mfa']);
    await context.close();
  });

  it('the passkey script runs under the page’s real CSP (no bypass): the button appears, no violation', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    const messages: string[] = [];
    page.on('console', (message) => messages.push(`${message.type()}: ${message.text()}`));
    const request = await authorizationRequest();
    await page.goto(request.url);
    await page.locator('button[data-passkey-start]').waitFor({ state: 'visible' });
    expect(await page.textContent('button[data-passkey-start]')).toBe('Sign in with a passkey');
    expect(messages.filter(isCspViolation)).toEqual([]);
    await context.close();
  });
});
