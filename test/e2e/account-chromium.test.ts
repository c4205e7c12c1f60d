import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addConsentedScopes } from '../../src/repositories/consents-repository.js';
import { insertGrant } from '../../src/repositories/grants-repository.js';
import { findUserById, type User } from '../../src/repositories/users-repository.js';
import { startSession } from '../../src/services/session-service.js';
import { startE2eServer, type E2eServer } from '../helpers/e2e-server.js';
import { createClient, createUser, TEST_PASSWORD } from '../helpers/fixtures.js';
import { axeViolationLines, CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/axe.js';

/**
 * The account page in a real browser (issue 12 §4): sign in through the account client's flow, change the
 * name, sign out another session, revoke an application; axe-core finds no violation on any account page
 * at desktop and mobile width, in English and German. Needs Chromium like test/e2e/browser-chromium.test.ts.
 */
const SKIP_BROWSER = process.env.AUTHLY_SKIP_BROWSER === '1';
const STEP_TIMEOUT_MS = 10_000;
const VIEWPORTS = { desktop: { width: 1280, height: 800 }, mobile: { width: 375, height: 740 } } as const;
const isCspViolation = (text: string) => /Content Security Policy|Refused to (send form data|execute|load|apply|navigate)/i.test(text);

describe.skipIf(SKIP_BROWSER)('the account page in headless Chromium', () => {
  let server: E2eServer;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it, set AUTHLY_CHROMIUM_PATH, or AUTHLY_SKIP_BROWSER=1 to skip explicitly.`);
    }
    server = await startE2eServer();
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** A context that lets axe-core be injected (bypassCSP: the pages allow no script) and records the console. */
  async function freshContext(options: { locale?: string; viewport?: { width: number; height: number } } = {}) {
    const context = await browser.newContext({ bypassCSP: true, locale: options.locale ?? 'en-US', viewport: options.viewport ?? VIEWPORTS.desktop });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    const messages: string[] = [];
    page.on('console', (message) => messages.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => messages.push(`pageerror: ${error.message}`));
    return { context, page, console: messages };
  }

  /** Opens the account in a new context: the login form of the account client's authorization, then back. */
  async function signIn(user: User, options: Parameters<typeof freshContext>[0] = {}) {
    const fresh = await freshContext(options);
    await fresh.page.goto(`${server.issuer}/account`);
    await fresh.page.locator('input[name="username"]').waitFor();
    expect(new URL(fresh.page.url()).pathname).toMatch(/^\/interaction\/[^/]+$/);
    await fresh.page.fill('#username', user.username);
    await fresh.page.fill('#password', TEST_PASSWORD);
    await fresh.page.click('button[type="submit"]');
    await fresh.page.waitForURL(`${server.issuer}/account`);
    return fresh;
  }

  it('signs in, changes the name, signs out another session and revokes an application', async () => {
    const user = await createUser(server.app, { name: 'Test User' });
    const other = await startSession(server.app.ctx, user.id, undefined);
    const app = await createClient(server.app, { clientName: 'Photo Printer', clientUri: 'https://photos.example.com' });
    await addConsentedScopes(server.testDb.db, user.id, app.clientId, ['openid', 'profile']);
    await insertGrant(server.testDb.db, { clientId: app.clientId, userId: user.id, scope: 'openid profile', authTime: new Date(), sid: null, nonce: null });

    const { context, page, console } = await signIn(user);
    expect(await page.textContent('h1')).toBe('Profile');

    await page.fill('#name', 'Grace Hopper');
    await page.click('button:has-text("Save profile")');
    await expect.poll(() => page.textContent('p.notice')).toBe('Your profile was saved.');
    expect((await findUserById(server.testDb.db, user.id))?.name).toBe('Grace Hopper');

    await page.click('nav >> text=Sessions');
    await page.waitForURL(`${server.issuer}/account/sessions`);
    expect(await page.locator('ul.sessions > li').count()).toBe(2);
    await page.click('button:has-text("Sign out this session")');
    await expect.poll(() => page.textContent('p.notice')).toBe('The session was signed out.');
    const live = await server.testDb.db.query<{ sid: string }>('SELECT sid FROM sessions WHERE user_id = $1', [user.id]);
    expect(live.rows.map((r) => r.sid)).not.toContain(other.session.sid);
    expect(live.rows).toHaveLength(1);

    await page.click('nav >> text=Connected applications');
    await page.waitForURL(`${server.issuer}/account/applications`);
    expect(await page.textContent('ul.applications h2')).toBe('Photo Printer');
    await page.click('button:has-text("Revoke access for Photo Printer")');
    await expect.poll(() => page.textContent('p.notice')).toBe('Access for Photo Printer was revoked.');
    expect(await page.textContent('main')).toContain('No application has access to your account.');
    const grants = await server.testDb.db.query('SELECT 1 FROM grants WHERE user_id = $1 AND client_id = $2 AND revoked_at IS NULL', [user.id, app.clientId]);
    expect(grants.rows).toHaveLength(0);

    await page.click('nav >> text=Sign out');
    await page.click('button:has-text("Sign out")');
    await expect.poll(() => page.textContent('h1')).toBe('You are signed out');
    expect(console.filter(isCspViolation)).toEqual([]);
    await context.close();
  });

  it('axe-core reports a violation when there is one (control: the checks below can fail)', async () => {
    const { context, page } = await freshContext();
    await page.setContent('<!doctype html><html lang="en"><head><title>probe</title></head><body><main><form><input type="text" name="x"></form></main></body></html>');
    expect((await axeViolationLines(page)).some((v) => v.startsWith('label:'))).toBe(true);
    await context.close();
  });

  for (const [width, viewport] of Object.entries(VIEWPORTS)) {
    for (const locale of ['en-US', 'de-DE']) {
      it(`axe-core finds no violation on the account pages (${width}, ${locale})`, async () => {
        const user = await createUser(server.app, { emailVerified: false });
        await startSession(server.app.ctx, user.id, undefined);
        const app = await createClient(server.app, { clientName: 'Calendar', clientUri: 'https://calendar.example.com' });
        await addConsentedScopes(server.testDb.db, user.id, app.clientId, ['openid', 'email']);
        const { context, page, console } = await signIn(user, { viewport, locale });
        const found: Record<string, string[]> = {};
        for (const path of ['/account', '/account/security', '/account/sessions', '/account/applications', '/account/sign-out']) {
          await page.goto(`${server.issuer}${path}`);
          found[path] = await axeViolationLines(page);
        }
        // A page with a notice and one with an error.
        await page.goto(`${server.issuer}/account`);
        await page.click('form[action="/account/profile"] button[type="submit"]');
        await page.locator('p.notice').waitFor();
        found['/account (saved)'] = await axeViolationLines(page);
        await page.goto(`${server.issuer}/account/security`);
        await page.fill('#current_password', 'not my password');
        await page.fill('#new_password', 'a new passphrase');
        await page.fill('#confirm_password', 'a new passphrase');
        await page.click('form[action="/account/security/password"] button[type="submit"]');
        await page.locator('p.error').waitFor();
        found['/account/security (error)'] = await axeViolationLines(page);
        expect(found).toEqual(Object.fromEntries(Object.keys(found).map((k) => [k, []])));
        expect(await page.getAttribute('html', 'lang')).toBe(locale.slice(0, 2));
        // The mobile layout does not scroll sideways.
        if (width === 'mobile') expect(await page.evaluate(() => {
          const g = globalThis as unknown as { document: { documentElement: { scrollWidth: number } }; innerWidth: number };
          return g.document.documentElement.scrollWidth <= g.innerWidth;
        })).toBe(true);
        expect(console.filter(isCspViolation)).toEqual([]);
        await context.close();
      });
    }
  }
});
