import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findClient, updateClient } from '../../../src/repositories/clients-repository.js';
import { CONSOLE_CLIENT_ID } from '../../../src/services/admin/console-client.js';
import { bootstrap } from '../../../src/services/bootstrap.js';
import { CONSOLE_DIR } from '../../../src/routes/console/console-route.js';
import { adminCall, adminToken, ADMIN_ENV, tokenFor } from '../admin/admin-helpers.js';
import { InjectBrowser, redirectParams } from '../../helpers/browser.js';
import { createUser } from '../../helpers/fixtures.js';
import { completeInteraction, FORM } from '../../helpers/oauth-flow.js';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { pkcePair } from '../../helpers/fixtures.js';

/** The web console at /console (issue 14 §3): its shell, its files, and its built-in client. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

describe('the web console', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
  });
  afterAll(() => t.close());

  const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });

  it('serves one HTML shell with the strict CSP, the stylesheet of the sign-in pages and the console module', async () => {
    const res = await get('/console');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(CSP);
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['cache-control']).toBe('no-store');
    const stylesheet = /<link rel="stylesheet" href="(\/assets\/[^"]+\.css)" integrity="sha256-[^"]+">/.exec(res.body);
    expect(stylesheet).not.toBeNull();
    expect((await get(stylesheet![1]!)).statusCode).toBe(200);
    expect(res.body).toContain('<script type="module" src="/console/assets/index.js"></script>');
    expect(res.body).toContain('<a class="skip-link" href="#main">Skip to content</a>');
    expect(res.body).toContain('<main class="wide" id="main" tabindex="-1">');
    expect(res.body).toContain('role="status" aria-live="polite"');
    // No inline script or style: the CSP allows none.
    expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(res.body).not.toMatch(/<style|style="/);
  });

  it.each(['/console/', '/console/clients', '/console/clients/abc', '/console/users/alice%40example.com', '/console/audit?request_id=r-1', '/console/callback?code=x&state=y&iss=z'])(
    'answers the deep link %s with the same shell (a reload stays on the page)',
    async (url) => {
      const shell = (await get('/console')).body;
      const res = await get(url);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-security-policy']).toBe(CSP);
      expect(res.body).toBe(shell);
    },
  );

  it('serves every console file with an ETag, revalidated (304 when unchanged)', async () => {
    const files = readdirSync(CONSOLE_DIR, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(js|css)$/.test(f));
    expect(files).toEqual(expect.arrayContaining(['index.js', 'api.js', 'auth.js', 'dom.js', 'console.css', path.join('pages', 'clients.js')]));
    for (const file of files) {
      const url = `/console/assets/${file.split(path.sep).join('/')}`;
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.body).toBe(readFileSync(path.join(CONSOLE_DIR, file), 'utf8'));
      expect(res.headers['content-type']).toMatch(file.endsWith('.js') ? /^(text|application)\/javascript; charset=utf-8$/ : /^text\/css; charset=utf-8$/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      const etag = res.headers.etag;
      expect(etag).toMatch(/^(W\/)?"[^"]+"$/);
      const again = await get(url, { 'if-none-match': String(etag) });
      expect(again.statusCode).toBe(304);
      expect(again.body).toBe('');
    }
  });

  it.each(['/console/assets/nope.js', '/console/assets/pages/nope.js', '/console/assets/', '/console/assets/pages/', '/console/assets/x.ts', '/console/assets/..%2fpackage.json', '/console/assets/..%2f..%2fpackage.json'])(
    'answers an unknown asset %s with the HTML 404 page, not JSON',
    async (url) => {
      const res = await get(url);
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('<!doctype html>');
      expect(res.body).not.toContain('"name"');
    },
  );

  it.each(['/console/assets/../package.json', '/console/assets/%2e%2e/package.json', '/console/assets/pages/%2e%2e/%2e%2e/package.json'])(
    'serves nothing outside console/ for %s',
    async (url) => {
      const res = await get(url);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).not.toContain('"dependencies"');
    },
  );

  it('has the built-in client authly-console: public, PKCE, code flow, its redirect and post-logout URIs on the issuer', async () => {
    expect(await findClient(t.testDb.db, CONSOLE_CLIENT_ID)).toMatchObject({
      clientName: 'Authly console',
      clientType: 'public',
      clientSecretHash: null,
      tokenEndpointAuthMethod: 'none',
      redirectUris: [`${TEST_ISSUER}/console/callback`],
      postLogoutRedirectUris: [`${TEST_ISSUER}/console`],
      grantTypes: ['authorization_code'],
      responseTypes: ['code'],
      scope: 'openid profile authly:admin',
      skipConsent: true,
      requirePkce: true,
      isActive: true,
    });
  });

  /** The console's sign-in as the browser app does it: code + PKCE S256, state and nonce; returns the token response. */
  async function consoleSignIn(username: string) {
    const browser = new InjectBrowser(t.app);
    const { verifier, challenge } = pkcePair();
    const params = new URLSearchParams({
      response_type: 'code',
      client_id: CONSOLE_CLIENT_ID,
      redirect_uri: `${TEST_ISSUER}/console/callback`,
      scope: 'openid profile authly:admin',
      state: 's-1',
      nonce: 'n-1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const done = await completeInteraction(browser, await browser.get(`/oauth/authorize?${params}`), { username });
    expect(String(done.headers.location)).toMatch(new RegExp(`^${TEST_ISSUER}/console/callback\\?`));
    const back = redirectParams(done);
    // RFC 9207: the browser app checks iss before it redeems the code.
    expect(back.get('iss')).toBe(TEST_ISSUER);
    expect(back.get('state')).toBe('s-1');
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: FORM,
      payload: new URLSearchParams({ grant_type: 'authorization_code', code: back.get('code')!, redirect_uri: `${TEST_ISSUER}/console/callback`, client_id: CONSOLE_CLIENT_ID, code_verifier: verifier }).toString(),
    });
    expect(res.statusCode).toBe(200);
    return res.json() as { access_token: string; scope: string; id_token: string };
  }

  it('gives an administrator authly:admin and a user who is not one no admin scope (the admin API refuses them)', async () => {
    const operator = await createUser(t.app, { isAdmin: true });
    const admin = await consoleSignIn(operator.username);
    expect(admin.scope.split(' ').sort()).toEqual(['authly:admin', 'openid', 'profile']);
    expect((await adminCall(t.app, admin.access_token)('GET', '/admin/clients')).statusCode).toBe(200);

    const user = await createUser(t.app);
    const plain = await consoleSignIn(user.username);
    expect(plain.scope.split(' ').sort()).toEqual(['openid', 'profile']);
    const refused = await adminCall(t.app, plain.access_token)('GET', '/admin/status');
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual({ error: 'insufficient_scope', error_description: 'the access token has no admin scope' });
  });

  it('only authly:admin changes the console client through the admin API, and every start restores it', async () => {
    const admin = adminCall(t.app, await adminToken(t.app));
    const created = await admin('POST', '/admin/clients', { client_name: 'Operator', grant_types: ['client_credentials'], scope: 'admin:clients:write' });
    const { client_id, client_secret } = created.json() as { client_id: string; client_secret: string };
    const operator = adminCall(t.app, await tokenFor(t.app, client_id, client_secret));
    const refused = await operator('PATCH', `/admin/clients/${CONSOLE_CLIENT_ID}`, { redirect_uris: ['https://evil.example/cb'] });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: 'insufficient_privilege', message: 'changing the built-in console client requires authly:admin' });
    expect((await operator('DELETE', `/admin/clients/${CONSOLE_CLIENT_ID}`)).statusCode).toBe(403);
    expect((await operator('POST', `/admin/clients/${CONSOLE_CLIENT_ID}/rotate-secret`)).statusCode).toBe(403);

    await updateClient(t.testDb.db, CONSOLE_CLIENT_ID, { isActive: false, redirectUris: ['https://evil.example/cb'], scope: 'openid authly:admin admin:users:write', clientName: 'Phish' });
    await bootstrap(t.app.ctx);
    expect(await findClient(t.testDb.db, CONSOLE_CLIENT_ID)).toMatchObject({
      isActive: true,
      redirectUris: [`${TEST_ISSUER}/console/callback`],
      scope: 'openid profile authly:admin',
      clientName: 'Authly console',
    });
    await t.testDb.db.query('DELETE FROM clients WHERE client_id = $1', [CONSOLE_CLIENT_ID]);
    await bootstrap(t.app.ctx);
    expect(await findClient(t.testDb.db, CONSOLE_CLIENT_ID)).toMatchObject({ clientType: 'public', redirectUris: [`${TEST_ISSUER}/console/callback`] });
  });
});
