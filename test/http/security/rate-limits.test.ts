import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { basicAuth, createClient, createUser, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { csrfToken, formAction, InjectBrowser } from '../../helpers/browser.js';
import { authorizeUrl, FORM } from '../../helpers/oauth-flow.js';
import type { User } from '../../../src/repositories/users-repository.js';

/**
 * SECURITY.md: "repeated failures are throttled per account and per IP" and "Rate limits protect login,
 * token and admin endpoints". The thresholds are the implementation's to choose; these tests only demand
 * that some limit exists within a generous number of attempts, answered with 429.
 */
describe('throttling', () => {
  let t: TestApp;
  let client: TestClient;
  let user: User;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app);
    user = await createUser(t.app);
  });
  afterAll(() => t.close());

  it('repeated login failures for one account are throttled (429 within 30 failures)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 30 && !statuses.includes(429); i++) {
      // A fresh browser each time, as an attacker rotating sessions would.
      const browser = new InjectBrowser(t.app);
      const start = await browser.get(authorizeUrl(client.clientId));
      const page = await browser.get(start.headers.location as string);
      const res = await browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), username: user.username, password: `wrong-${i}` });
      statuses.push(res.statusCode);
    }
    expect(statuses).toContain(429);
  });

  it('repeated failed client authentications at the token endpoint are throttled (429 within 200 attempts)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 200 && !statuses.includes(429); i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { ...FORM, authorization: basicAuth(client.clientId, `wrong-${i}`) },
        payload: 'grant_type=client_credentials',
      });
      statuses.push(res.statusCode);
    }
    expect(statuses).toContain(429);
  });
});

describe('lockout details', () => {
  let t: TestApp;
  let client: TestClient;
  let user: User;

  beforeAll(async () => {
    t = await createTestApp({ AUTHLY_LOCKOUT_MAX_ATTEMPTS: '3', AUTHLY_LOCKOUT_DURATION_SECONDS: '600' });
    client = await createClient(t.app);
    user = await createUser(t.app);
  });
  afterAll(() => t.close());

  async function attempt(username: string, password: string) {
    const browser = new InjectBrowser(t.app);
    const start = await browser.get(authorizeUrl(client.clientId));
    const page = await browser.get(start.headers.location as string);
    return browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), username, password });
  }

  it('locks an account after AUTHLY_LOCKOUT_MAX_ATTEMPTS failures, even for the right password, with Retry-After', async () => {
    for (let i = 0; i < 3; i++) expect((await attempt(user.username, `wrong-${i}`)).statusCode).toBe(200);
    const locked = await attempt(user.username, TEST_PASSWORD);
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(500);
    expect(locked.body).toMatch(/Too many failed attempts\. Try again in \d+ (second|minute|hour)s?\./);
    expect(locked.headers['set-cookie'] ?? '').not.toContain('authly_session=');
  });

  it('locks unknown accounts the same way (no enumeration through the lock)', async () => {
    for (let i = 0; i < 3; i++) expect((await attempt('nobody-here', `wrong-${i}`)).statusCode).toBe(200);
    expect((await attempt('nobody-here', 'anything')).statusCode).toBe(429);
  });

  it('a failed client authentication burst locks the client_id with 429 and Retry-After', async () => {
    const confidential = await createClient(t.app, { grantTypes: ['client_credentials'], redirectUris: [], responseTypes: [], scope: '' });
    const post = (secret: string) =>
      t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { ...FORM, authorization: basicAuth(confidential.clientId, secret) },
        payload: 'grant_type=client_credentials',
      });
    for (let i = 0; i < 3; i++) expect((await post(`wrong-${i}`)).statusCode).toBe(401);
    const locked = await post(confidential.clientSecret!);
    expect(locked.statusCode).toBe(429);
    expect(locked.json()).toEqual({ error: 'rate_limited', error_description: 'too many failed attempts; try again later' });
    expect(locked.headers['retry-after']).toBeDefined();
  });
});
