import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../../src/repositories/users-repository.js';
import { csrfToken, formAction, InjectBrowser } from '../../helpers/browser.js';
import { createClient, createUser, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { authorizeUrl } from '../../helpers/oauth-flow.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';

/**
 * Brute-force protection on the login form (AUTHLY_LOCKOUT_*, counted in the database so that every
 * replica shares it), next to the request rate limits: the per-IP allowance (ten times the per-account
 * one) and the absence of user enumeration. The per-account lock is covered in
 * test/http/security/rate-limits.test.ts.
 */
describe('login lockout per IP, without user enumeration', () => {
  let t: TestApp;
  let client: TestClient;
  let user: User;

  beforeAll(async () => {
    t = await createTestApp({ AUTHLY_LOCKOUT_MAX_ATTEMPTS: '2', AUTHLY_LOCKOUT_DURATION_SECONDS: '600' });
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

  // The page differs per request only in its CSRF token, interaction id (also in the links) and script nonce.
  // The support reference is the request id: random per request, it tells nothing of the account.
  const normalized = (html: string) =>
    html
      .replace(/value="[^"]*"/g, 'value=""')
      .replace(/\/interaction\/[^/"]+/g, '/interaction/X')
      .replace(/interaction=[^"&]+/g, 'interaction=X')
      .replace(/nonce-[^'"]+|nonce="[^"]*"/g, 'nonce')
      .replace(/Support reference: [0-9a-f-]+/g, 'Support reference: X');

  it('answers a wrong password for an existing account exactly as for an unknown account', async () => {
    const existing = await attempt(user.username, 'wrong password');
    const unknown = await attempt('nobody-at-all', 'wrong password');
    expect(existing.statusCode).toBe(200);
    expect(unknown.statusCode).toBe(existing.statusCode);
    expect(normalized(unknown.body)).toBe(normalized(existing.body).replace(user.username, 'nobody-at-all'));
  });

  it('locks the address after ten times the per-account allowance, even for a correct password', async () => {
    // Two failures were counted above; spread the rest over fresh names so that no account locks.
    for (let i = 0; i < 18; i++) expect((await attempt(`guess-${i}`, 'wrong')).statusCode).toBe(200);
    const locked = await attempt(user.username, TEST_PASSWORD);
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(500);
    expect(locked.body).toContain('Too many failed attempts. Try again in 10 minutes.');
    expect(locked.headers['set-cookie'] ?? '').not.toContain('authly_session=');
  });
});
