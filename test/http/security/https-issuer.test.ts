import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { createClient, createUser, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { csrfToken, formAction, InjectBrowser } from '../../helpers/browser.js';
import { authorizeUrl, setCookieLine } from '../../helpers/oauth-flow.js';
import type { User } from '../../../src/repositories/users-repository.js';

const ISSUER = 'https://auth.example.com';

/** On an https issuer every cookie is Secure, HSTS is on, and iss and discovery use the https issuer. */
describe('https issuer', () => {
  let t: TestApp;
  let client: TestClient;
  let user: User;

  beforeAll(async () => {
    t = await createTestApp({ DEFAULT_ISSUER_URL: ISSUER });
    client = await createClient(t.app);
    user = await createUser(t.app);
  });
  afterAll(() => t.close());

  it('the interaction and session cookies are Secure, HttpOnly, SameSite=Lax', async () => {
    const browser = new InjectBrowser(t.app);
    const start = await browser.get(authorizeUrl(client.clientId));
    const interactionCookie = setCookieLine(start, 'authly_interaction')!;
    expect(interactionCookie).toBeDefined();
    for (const attr of ['Secure', 'HttpOnly', 'SameSite=Lax']) expect(interactionCookie).toContain(attr);

    const page = await browser.get(start.headers.location as string);
    const login = await browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), username: user.username, password: TEST_PASSWORD });
    expect(login.statusCode).toBe(303);
    const session = setCookieLine(login, 'authly_session')!;
    const attrs = session.split(';').map((a) => a.trim().toLowerCase());
    expect(attrs).toContain('secure');
    expect(attrs).toContain('httponly');
    expect(attrs).toContain('samesite=lax');
    expect(attrs).toContain('path=/');
  });

  it('sends Strict-Transport-Security', async () => {
    const res = await t.app.inject('/health');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
  });

  it('returns iss with the https issuer and advertises https endpoints', async () => {
    const res = await t.app.inject(authorizeUrl(client.clientId, { response_type: 'token' }));
    expect(new URL(res.headers.location as string).searchParams.get('iss')).toBe(ISSUER);
    const doc = (await t.app.inject('/.well-known/openid-configuration')).json() as Record<string, unknown>;
    expect(doc.issuer).toBe(ISSUER);
    expect(doc.token_endpoint).toBe(`${ISSUER}/oauth/token`);
  });
});
