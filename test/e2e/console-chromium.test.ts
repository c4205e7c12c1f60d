import { mkdirSync } from 'node:fs';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findClient } from '../../src/repositories/clients-repository.js';
import { verifyClientSecret } from '../../src/services/client-authentication.js';
import type { User } from '../../src/repositories/users-repository.js';
import { startSession } from '../../src/services/session-service.js';
import { axeViolationLines, launchChromium } from '../helpers/axe.js';
import { startE2eServer, type E2eServer } from '../helpers/e2e-server.js';
import { createUser, TEST_PASSWORD } from '../helpers/fixtures.js';

/**
 * The web console (issue 14 §3) in real Chromium: an operator signs in through Authly (code + PKCE by the
 * built-in client authly-console), creates a client and sees its secret once, adds and removes a redirect
 * URI, rotates the secret, finds the audit event and follows its request id, and signs out; a user who is
 * not an administrator is told so in words; axe-core finds no violation on any console page, light and dark.
 *
 * Robust on a loaded two-core machine: one browser for the file, the server listening before the first
 * navigation (startE2eServer returns after listen), generous timeouts, and only waits for conditions.
 */
const SKIP_BROWSER = process.env.AUTHLY_SKIP_BROWSER === '1';
const STEP_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = 600_000;
const isCspViolation = (text: string) => /Content Security Policy|Refused to (send form data|execute|load|apply|navigate|connect)/i.test(text);

describe.skipIf(SKIP_BROWSER)('the web console in headless Chromium', () => {
  let server: E2eServer;
  let browser: Browser;
  let operator: User;

  beforeAll(async () => {
    server = await startE2eServer();
    browser = await launchChromium();
    operator = await createUser(server.app, { isAdmin: true, username: 'grace' });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function openPage(options: { bypassCSP?: boolean; colorScheme?: 'light' | 'dark' } = {}) {
    const context = await browser.newContext({ bypassCSP: options.bypassCSP ?? false, colorScheme: options.colorScheme ?? 'light', locale: 'en-US', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    page.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
    const messages: string[] = [];
    page.on('console', (message) => messages.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => messages.push(`pageerror: ${error.message}`));
    return { context, page, messages };
  }

  const heading = (page: Page, text: string | RegExp) => page.locator('main h1', { hasText: text }).waitFor();

  /** Opens a console address; the console sends the browser to Authly's sign-in and comes back to it. */
  async function signIn(page: Page, user: User, path = '/console') {
    await page.goto(`${server.issuer}${path}`);
    await page.locator('input[name="username"]').waitFor();
    expect(new URL(page.url()).pathname).toMatch(/^\/interaction\/[^/]+$/);
    await page.fill('#username', user.username);
    await page.fill('#password', TEST_PASSWORD);
    await Promise.all([page.waitForURL((url) => url.pathname === path.split('?')[0]), page.click('button[type="submit"]')]);
  }

  it('an operator signs in, creates a client, edits its redirect URIs, rotates its secret, finds the audit event, and signs out', async () => {
    const { context, page, messages } = await openPage();
    await signIn(page, operator, '/console/clients');
    await heading(page, 'Clients');
    expect(await page.textContent('#console-user')).toBe('Signed in as grace');
    // Tokens stay in this tab's sessionStorage: no cookie of the console, nothing in localStorage.
    expect(await page.evaluate('Object.keys(sessionStorage)')).toEqual(['authly-console.tokens']);
    expect(await page.evaluate('localStorage.length')).toBe(0);

    // Create: the secret is shown once.
    await page.fill('#client_name', 'Photo Printer');
    await page.fill('#redirect_uri', 'https://photos.example.com/cb');
    await page.click('button:has-text("Create client")');
    await heading(page, 'Client Photo Printer');
    const clientId = new URL(page.url()).pathname.split('/').pop()!;
    const secret = (await page.textContent('[data-secret="client secret"]'))!;
    expect(await page.textContent('main')).toContain('The client secret is shown only this once.');
    const stored = await findClient(server.testDb.db, clientId);
    expect(stored?.redirectUris).toEqual(['https://photos.example.com/cb']);
    expect(verifyClientSecret(server.app.ctx.clientSecretKey, secret, stored!.clientSecretHash)).toBe(true);
    await page.reload();
    await heading(page, 'Client Photo Printer');
    expect(await page.locator('[data-secret]').count()).toBe(0);

    // Redirect URIs one at a time.
    await page.fill('#new_redirect_uri', 'https://photos.example.com/cb2');
    await page.click('button:has-text("Add redirect URI")');
    await page.locator('main p.notice', { hasText: 'The redirect URI https://photos.example.com/cb2 was added.' }).waitFor();
    expect((await findClient(server.testDb.db, clientId))?.redirectUris).toEqual(['https://photos.example.com/cb', 'https://photos.example.com/cb2']);
    await page.click('button[aria-label="Remove https://photos.example.com/cb"]');
    await page.locator('main p.notice', { hasText: 'The redirect URI https://photos.example.com/cb was removed.' }).waitFor();
    expect((await findClient(server.testDb.db, clientId))?.redirectUris).toEqual(['https://photos.example.com/cb2']);

    // Rotate: asked again, then the new secret once.
    await page.click('button:has-text("Rotate secret")');
    await page.click('button:has-text("Yes, rotate secret")');
    await page.locator('main p.notice', { hasText: 'The client secret was rotated' }).waitFor();
    const rotated = (await page.textContent('[data-secret="client secret"]'))!;
    expect(rotated).not.toBe(secret);
    const after = await findClient(server.testDb.db, clientId);
    expect(verifyClientSecret(server.app.ctx.clientSecretKey, rotated, after!.clientSecretHash)).toBe(true);
    expect(verifyClientSecret(server.app.ctx.clientSecretKey, secret, after!.clientSecretHash)).toBe(false);

    // The audit trail: the client's events, then everything of the rotation's request.
    await page.click('a:has-text("Audit events about this client")');
    await heading(page, 'Audit events');
    expect(new URL(page.url()).searchParams.get('subject')).toBe(clientId);
    const row = page.locator('tbody tr', { hasText: 'secret_rotated' }).first();
    await row.waitFor();
    const requestLink = row.locator('td').nth(6).locator('a');
    const requestId = (await requestLink.textContent())!;
    await requestLink.click();
    await page.waitForURL((url) => url.searchParams.get('request_id') === requestId);
    // The address changes before the filtered page replaces the old one: wait for the filtered page itself.
    await page.locator(`#filter-request_id[value="${requestId}"]`).waitFor();
    await page.locator('tbody tr', { hasText: 'secret_rotated' }).first().waitFor();
    const requestIds = await page.locator('tbody tr td:nth-child(7)').allTextContents();
    expect(requestIds.length).toBeGreaterThan(0);
    expect(new Set(requestIds)).toEqual(new Set([requestId]));

    // Sign-out: RP-initiated logout, back to the console, signed out.
    await page.click('#sign-out');
    await heading(page, 'You are signed out');
    expect(new URL(page.url()).pathname).toBe('/console');
    const sessions = await server.testDb.db.query('SELECT 1 FROM sessions WHERE user_id = $1', [operator.id]);
    expect(sessions.rows).toHaveLength(0);
    expect(messages.filter(isCspViolation)).toEqual([]);
    expect(messages.filter((m) => m.startsWith('pageerror'))).toEqual([]);

    if (process.env.AUTHLY_SCREENSHOTS === '1') {
      await signIn(page, operator, '/console/clients');
      await heading(page, 'Clients');
      mkdirSync('docs/images', { recursive: true });
      await page.screenshot({ path: 'docs/images/console.png', fullPage: true });
    }
    await context.close();
  }, TEST_TIMEOUT_MS);

  it('tells a user who is not an administrator so, in words', async () => {
    const user = await createUser(server.app, { username: 'not-an-admin' });
    const { context, page, messages } = await openPage();
    await signIn(page, user, '/console/clients');
    await heading(page, 'You are not an administrator');
    expect(await page.textContent('main p.error')).toBe(
      'You are signed in as not-an-admin, who is not an administrator of this server. The console is for administrators only.',
    );
    expect(messages.filter(isCspViolation)).toEqual([]);
    await context.close();
  }, TEST_TIMEOUT_MS);

  it('axe-core reports a violation when there is one (control: the checks below can fail)', async () => {
    const { context, page } = await openPage({ bypassCSP: true });
    await page.setContent('<!doctype html><html lang="en"><head><title>probe</title></head><body><main><form><input type="text" name="x"></form></main></body></html>');
    expect((await axeViolationLines(page)).some((v) => v.startsWith('label:'))).toBe(true);
    await context.close();
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`axe-core finds no violation on any console page (${colorScheme})`, async () => {
      const user = await createUser(server.app, { username: `someone-${colorScheme}`, email: `someone-${colorScheme}@example.com` });
      await startSession(server.app.ctx, user.id, undefined);
      const { context, page } = await openPage({ bypassCSP: true, colorScheme });
      await signIn(page, operator, '/console');
      const pages: [string, string][] = [
        ['/console', 'Overview'],
        ['/console/clients', 'Clients'],
        ['/console/clients/authly-console', 'Client Authly console'],
        ['/console/users', 'Users'],
        [`/console/users/${user.id}`, `User ${user.username}`],
        ['/console/audit', 'Audit events'],
        ['/console/keys', 'Signing keys'],
        ['/console/scopes', 'Scopes and resources'],
        ['/console/registration', 'Registration'],
        ['/console/nowhere', 'Page not found'],
      ];
      const found: Record<string, string[]> = {};
      for (const [path, title] of pages) {
        await page.goto(`${server.issuer}${path}`);
        await heading(page, title);
        found[path] = await axeViolationLines(page);
      }
      // A result and an error in the live region.
      await page.goto(`${server.issuer}/console/scopes`);
      await heading(page, 'Scopes and resources');
      await page.fill('#scope_name', `reports-${colorScheme}`);
      await page.click('button:has-text("Create scope")');
      await page.locator('main p.notice').waitFor();
      found['/console/scopes (created)'] = await axeViolationLines(page);
      await page.fill('#scope_name', 'not a scope');
      await page.click('button:has-text("Create scope")');
      await page.locator('main p.error').waitFor();
      found['/console/scopes (error)'] = await axeViolationLines(page);
      expect(found).toEqual(Object.fromEntries(Object.keys(found).map((k) => [k, []])));

      await page.click('#sign-out');
      await heading(page, 'You are signed out');
      expect(await axeViolationLines(page)).toEqual([]);
      await context.close();
    }, TEST_TIMEOUT_MS);
  }
});
