import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/repositories/users-repository.js';
import { axeViolations, CLEAN, launchChromium, openSession, VARIANTS, type AuditResult, type Session, type Variant } from '../helpers/axe.js';
import { startClientApp, startE2eServer, type ClientAppServer, type E2eServer } from '../helpers/e2e-server.js';
import { createClient, createUser, TEST_PASSWORD } from '../helpers/fixtures.js';
import { MetadataDocumentServer } from '../helpers/metadata-document-server.js';
import { NGINX_DIR } from '../helpers/nginx.js';
import { createDeviceClient, startDevice } from '../helpers/device-flow.js';

/**
 * Every page a person can reach (the account, passkey and MFA pages have their own Chromium suites), in real Chromium at desktop and
 * phone width, in English and German (the phone in dark mode): axe-core finds no violation, the page
 * loads nothing from another origin (the consent page may load its client's own logo), the stylesheet
 * passes its integrity check (a refused one is a console error), and the page is in the right language.
 *
 * Needs Chromium at /usr/bin/chromium (or AUTHLY_CHROMIUM_PATH); set AUTHLY_SKIP_BROWSER=1 to skip.
 */
const SKIP_BROWSER = process.env.AUTHLY_SKIP_BROWSER === '1';

describe.skipIf(SKIP_BROWSER)('every page is accessible (axe-core in Chromium)', () => {
  let server: E2eServer;
  /** A second server whose sign-in form is rate limited at one post per minute (the 429 page). */
  let limited: E2eServer;
  let clientApp: ClientAppServer;
  let docs: MetadataDocumentServer;
  let browser: Browser;
  let clientId: string;
  let limitedClientId: string;
  let documentClientId: string;
  let deviceClient: Awaited<ReturnType<typeof createDeviceClient>>;

  beforeAll(async () => {
    const brand = {
      BRAND_PRODUCT_NAME: 'Example ID',
      BRAND_LOGO_FILE: 'test/fixtures/brand/logo.svg',
      BRAND_SUPPORT_URL: 'https://help.example.com/',
      BRAND_SUPPORT_EMAIL: 'help@example.com',
    };
    server = await startE2eServer({ ...brand, AUTHLY_LOCKOUT_MAX_ATTEMPTS: '2', CIMD_ALLOW_LOOPBACK: 'true', REGISTRATION_ENABLED: 'true', MAIL_WORKER_ENABLED: 'false' });
    limited = await startE2eServer({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_LOGIN_PER_MINUTE: '1' });
    clientApp = await startClientApp({
      '/logo.svg': (_request, response) => {
        response
          .writeHead(200, { 'content-type': 'image/svg+xml' })
          .end('<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48"><circle cx="24" cy="24" r="20" fill="#a33"/></svg>');
      },
    });
    docs = await MetadataDocumentServer.start();
    const registered = {
      redirectUris: [clientApp.callbackUrl],
      clientName: 'Photo Album',
      clientUri: `${clientApp.origin}/`,
      logoUri: `${clientApp.origin}/logo.svg`,
      policyUri: `${clientApp.origin}/privacy`,
      tosUri: `${clientApp.origin}/terms`,
    };
    clientId = (await createClient(server.app, registered)).clientId;
    limitedClientId = (await createClient(limited.app, registered)).clientId;
    documentClientId = docs.document('/clients/mcp.json', { redirect_uris: [clientApp.callbackUrl] });
    deviceClient = await createDeviceClient(server.app);
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await docs?.close();
    await clientApp?.close();
    await limited?.close();
    await server?.close();
  });

  function authorizeUrl(issuer: string, client: string, extra: Record<string, string> = {}): string {
    const verifier = randomBytes(32).toString('base64url');
    const params = new URLSearchParams({
      response_type: 'code',
      client_id: client,
      redirect_uri: clientApp.callbackUrl,
      scope: 'email openid profile offline_access',
      state: randomBytes(8).toString('hex'),
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      ...extra,
    });
    return `${issuer}/oauth/authorize?${params}`;
  }

  async function signIn(page: Page, user: User, password = TEST_PASSWORD): Promise<void> {
    await page.fill('#username', user.username);
    await page.fill('#password', password);
    await page.click('button[type="submit"]');
    await page.waitForLoadState('load');
  }

  async function consentPage(session: Session, client = clientId): Promise<User> {
    const user = await createUser(server.app);
    await session.page.goto(authorizeUrl(server.issuer, client));
    await signIn(session.page, user);
    await session.page.locator('button[name="decision"]').first().waitFor();
    return user;
  }

  /** The reset link the last "Forgot password?" of `user` queued (the mail worker is off here, so the row stays). */
  async function resetLinkOf(user: User): Promise<string> {
    const { rows } = await server.testDb.db.query<{ link: string }>(
      "SELECT data->>'link' AS link FROM mail_outbox WHERE template = 'password_reset' AND recipient = $1 ORDER BY created_at DESC LIMIT 1",
      [user.email],
    );
    return rows[0]!.link;
  }

  async function askForReset(page: Page, user: User): Promise<void> {
    await page.goto(`${server.issuer}/forgot-password`);
    await page.fill('#login', user.username);
    // The answer to the POST, not the load state of the form page that is still showing.
    const answered = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/forgot-password');
    await page.click('button[type="submit"]');
    await answered;
    await page.waitForLoadState('load');
  }

  /** RFC 8628: a new device request, and its code entered on /device (the confirmation page). */
  async function deviceConfirmation(page: Page): Promise<void> {
    const started = await startDevice(server.app, deviceClient, { scope: 'openid email' });
    await page.goto(started.verification_uri_complete);
    await page.click('button[type="submit"]');
    await page.locator('button[name="decision"]').first().waitFor();
  }

  /** The pages, each reached the way a person reaches it; `allowed`: other origins it may load from. */
  const PAGES: { name: string; open(session: Session, variant: Variant): Promise<void>; status?: number; allowed?: () => string[] }[] = [
    {
      name: 'sign-in',
      async open({ page }) {
        await page.goto(authorizeUrl(server.issuer, clientId));
        await page.locator('#username').waitFor();
      },
    },
    {
      name: 'sign-in error',
      async open({ page }) {
        await page.goto(authorizeUrl(server.issuer, clientId));
        await signIn(page, await createUser(server.app), 'wrong password');
        // The passkey form keeps its own (hidden) status line.
        await page.locator('p.error:not([data-passkey-status])').waitFor();
      },
    },
    {
      name: 'lockout',
      async open({ page }) {
        const user = await createUser(server.app);
        await page.goto(authorizeUrl(server.issuer, clientId));
        for (let i = 0; i < 3; i++) await signIn(page, user, 'wrong password');
        expect(await page.textContent('p.error:not([data-passkey-status])')).toMatch(/Too many failed attempts|Zu viele Fehlversuche/);
      },
    },
    {
      name: 'consent',
      async open(session) {
        await consentPage(session);
      },
      allowed: () => [clientApp.origin],
    },
    {
      name: 'consent of a metadata-document client',
      async open(session) {
        await consentPage(session, documentClientId);
      },
    },
    {
      name: 'sign-out confirmation',
      async open(session) {
        await consentPage(session);
        await session.page.goto(`${server.issuer}/oidc/logout`);
        await session.page.locator('input[name="confirm"]').waitFor({ state: 'attached' });
      },
    },
    {
      name: 'signed out',
      async open(session) {
        await consentPage(session);
        await session.page.goto(`${server.issuer}/oidc/logout`);
        await session.page.click('button[type="submit"]');
        await session.page.waitForLoadState('load');
      },
    },
    {
      name: 'invalid authorization request',
      async open({ page }) {
        await page.goto(authorizeUrl(server.issuer, 'no-such-client'));
      },
      status: 400,
    },
    {
      name: 'expired interaction',
      async open({ page }) {
        await page.goto(`${server.issuer}/interaction/expired-or-unknown`);
      },
      status: 400,
    },
    {
      name: 'GET on the sign-in form URL',
      async open({ page }) {
        await page.goto(authorizeUrl(server.issuer, clientId));
        const uid = new URL(page.url()).pathname.split('/')[2]!;
        await page.goto(`${server.issuer}/interaction/${uid}/login`);
        expect(new URL(page.url()).pathname).toBe(`/interaction/${uid}`);
        await page.locator('#username').waitFor();
      },
    },
    {
      name: 'forgot password',
      async open({ page }) {
        await page.goto(`${server.issuer}/forgot-password`);
        await page.locator('#login').waitFor();
      },
    },
    {
      name: 'forgot password: the same answer for every address',
      async open({ page }) {
        await askForReset(page, await createUser(server.app));
      },
    },
    {
      name: 'new password (the mailed link)',
      async open({ page }) {
        const user = await createUser(server.app);
        await askForReset(page, user);
        await page.goto(await resetLinkOf(user));
        await page.locator('#password').waitFor();
      },
    },
    {
      name: 'new confirmation link',
      async open({ page }) {
        await page.goto(`${server.issuer}/verify-email/resend`);
        await page.locator('#login').waitFor();
      },
    },
    {
      name: 'sign-up',
      async open({ page }) {
        await page.goto(`${server.issuer}/sign-up`);
        await page.locator('#email').waitFor();
      },
    },
    {
      name: 'account sign-in',
      async open({ page }) {
        await page.goto(`${server.issuer}/account`);
        await page.locator('#username').waitFor();
      },
    },
    {
      name: 'account: email address',
      async open({ page }) {
        await page.goto(`${server.issuer}/account/email`);
        await signIn(page, await createUser(server.app));
        await page.locator('#email').waitFor();
      },
    },
    {
      name: 'device: enter the code',
      async open({ page }) {
        await page.goto(`${server.issuer}/device`);
        await page.locator('#user_code').waitFor();
      },
    },
    {
      name: 'device: a wrong code',
      async open({ page }) {
        await page.goto(`${server.issuer}/device`);
        await page.fill('#user_code', 'BCDF-GHJK');
        await page.click('button[type="submit"]');
        await page.locator('p.error').waitFor();
      },
      status: 400,
    },
    {
      name: 'device: is this your device?',
      async open({ page }) {
        await deviceConfirmation(page);
      },
    },
    {
      name: 'device: connected',
      async open({ page }) {
        await deviceConfirmation(page);
        await page.click('button[value="allow"]');
        await signIn(page, await createUser(server.app));
        await page.click('button[value="allow"]');
        await page.locator('p.notice').waitFor();
      },
    },
    {
      name: 'device: denied',
      async open({ page }) {
        await deviceConfirmation(page);
        await page.click('button[value="deny"]');
        await page.locator('p.notice').waitFor();
      },
    },
    {
      name: '404',
      async open({ page }) {
        await page.goto(`${server.issuer}/no/such/page`);
      },
      status: 404,
    },
    {
      name: '405: the token endpoint opened in the browser',
      async open({ page }) {
        await page.goto(`${server.issuer}/oauth/token`);
      },
      status: 405,
    },
  ];

  for (const variant of VARIANTS) {
    describe(variant.name, () => {
      it.each(PAGES.map((p) => [p.name, p] as const))('%s: no axe violation, and the page loads nothing from another origin', async (_name, spec) => {
        const session = await openSession(browser, server.issuer, variant);
        try {
          const statuses: number[] = [];
          session.page.on('response', (response) => {
            if (response.request().isNavigationRequest()) statuses.push(response.status());
          });
          await spec.open(session, variant);
          if (spec.status) expect(statuses.at(-1)).toBe(spec.status);
          expect(await session.page.getAttribute('html', 'lang')).toBe(variant.locale.slice(0, 2));
          const result: AuditResult = await session.audit(spec.allowed?.() ?? []);
          expect(result).toEqual(CLEAN);
        } finally {
          await session.close();
        }
      }, 60_000);

      it('429 from the rate limiter on the sign-in form', async () => {
        const session = await openSession(browser, limited.issuer, variant);
        try {
          const { page } = session;
          await page.goto(authorizeUrl(limited.issuer, limitedClientId));
          const user = await createUser(limited.app);
          // The first post of this minute may pass; from the second on, the login policy answers 429.
          for (let i = 0; i < 2; i++) {
            if ((await page.locator('#username').count()) === 0) break;
            await signIn(page, user, 'wrong password');
          }
          expect(await page.textContent('h1')).toBe(variant.locale === 'de-DE' ? 'Zu viele Anfragen' : 'Too many requests');
          expect(await session.audit()).toEqual(CLEAN);
        } finally {
          await session.close();
        }
      }, 60_000);

      it("429 from nginx in front of Authly (its static page, nginx/errors/)", async () => {
        const session = await openSession(browser, server.issuer, variant);
        try {
          const language = variant.locale.slice(0, 2);
          const html = readFileSync(path.join(NGINX_DIR, 'errors', `rate-limited-${language}.html`), 'utf8').replace('__REQUEST_ID__', 'a1b2c3');
          await session.page.setContent(html);
          expect(await session.page.getAttribute('html', 'lang')).toBe(language);
          expect(await axeViolations(session.page)).toEqual([]);
        } finally {
          await session.close();
        }
      }, 60_000);
    });
  }

  it('the consent page shows the client logo and links, sign-in scopes first, "Not you?" and where to revoke', async () => {
    const session = await openSession(browser, server.issuer, VARIANTS[0]!);
    try {
      const user = await consentPage(session);
      const { page } = session;
      expect(await page.getAttribute('.client img', 'alt')).toBe('Logo of Photo Album');
      expect(await page.locator('main ul.links a').allTextContents()).toEqual(['Website', 'Privacy policy', 'Terms of service']);
      expect(await page.locator('ul.scopes li').allTextContents()).toEqual([
        'Sign you in with your account',
        'Read your name and basic profile',
        'Read your email address',
        'Stay signed in to the application while you are away',
      ]);
      expect(await page.getAttribute('a[href="/account/applications"]', 'href')).toBe('/account/applications');
      // "Not you?": signed out, and the same authorization asks who signs in.
      const uid = new URL(page.url()).pathname.split('/')[2]!;
      await page.click('text=Sign in as someone else');
      await page.locator('#username').waitFor();
      expect(new URL(page.url()).pathname).toBe(`/interaction/${uid}`);
      const other = await createUser(server.app);
      await signIn(page, other);
      await page.locator('button[name="decision"]').first().waitFor();
      expect(await page.textContent('form.account-user strong')).toBe(other.username);
      expect(other.username).not.toBe(user.username);
      await page.click('button[name="decision"][value="allow"]');
      await page.waitForURL((url) => url.href.startsWith(`${clientApp.callbackUrl}?`));
      expect(new URL(page.url()).searchParams.get('code')).toMatch(/.+/);
    } finally {
      await session.close();
    }
  }, 60_000);
});
