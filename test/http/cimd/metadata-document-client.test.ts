import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findClient, upsertMetadataDocumentClient } from '../../../src/repositories/clients-repository.js';
import { insertScope } from '../../../src/repositories/scopes-repository.js';
import type { User } from '../../../src/repositories/users-repository.js';
import { adminCall, adminToken, ADMIN_ENV } from '../admin/admin-helpers.js';
import { csrfToken, formAction, InjectBrowser, redirectParams } from '../../helpers/browser.js';
import { createUser, pkcePair, TEST_PASSWORD } from '../../helpers/fixtures.js';
import { MetadataDocumentServer } from '../../helpers/metadata-document-server.js';
import { authorizeUrl, FORM, isInteractionRedirect } from '../../helpers/oauth-flow.js';
import { logEvents, metricValue } from '../../helpers/redis.js';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { escapeHtml } from '../../../src/views/html.js';

const UNTRUSTED_REQUEST =
  'The application sent a sign-in request that cannot be accepted. Return to the application; if this keeps happening, tell its support.';

/**
 * Client ID Metadata Documents end to end: real documents served over HTTP by a server in the test
 * (CIMD_ALLOW_LOOPBACK=true), fetched by the real fetcher, through the authorization, token and
 * revocation endpoints.
 */
const MCP_REDIRECT = 'https://mcp-client.example.com/callback';

let counter = 0;
const uniquePath = (name: string) => `/clients/${name}-${++counter}.json`;

function expectUnverified(res: LightMyRequestResponse, message: string): void {
  expect(res.statusCode).toBe(400);
  expect(res.headers.location).toBeUndefined();
  expect(res.headers['content-type']).toMatch(/^text\/html/);
  // The person reads what to do; the reason is kept below for the developer (issue 12 §5).
  expect(res.body).toContain(`<p class="error" role="alert">${UNTRUSTED_REQUEST}</p>`);
  expect(res.body).toContain(`<details><summary>Technical details</summary><p><code>${escapeHtml(message)}</code></p></details>`);
}

const refused = (description: string) => `The application could not be verified. ${description}`;

describe('client ID metadata documents', () => {
  let t: TestApp;
  let docs: MetadataDocumentServer;
  let user: User;

  beforeAll(async () => {
    docs = await MetadataDocumentServer.start();
    t = await createTestApp({ CIMD_ALLOW_LOOPBACK: 'true', ...ADMIN_ENV });
    user = await createUser(t.app);
  });
  afterAll(async () => {
    await t.close();
    await docs.close();
  });

  const authorize = (browser: InjectBrowser, clientId: string, overrides: Record<string, string | undefined> = {}) =>
    browser.get(authorizeUrl(clientId, { redirect_uri: MCP_REDIRECT, scope: 'openid', ...overrides }));

  /** Follows the interaction: signs in if asked, and returns the consent page. */
  async function consentPageFor(browser: InjectBrowser, start: LightMyRequestResponse): Promise<LightMyRequestResponse> {
    expect(isInteractionRedirect(start)).toBe(true);
    let page = await browser.get(start.headers.location as string);
    if (page.body.includes('name="password"')) {
      const login = await browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), username: user.username, password: TEST_PASSWORD });
      expect(isInteractionRedirect(login)).toBe(true);
      page = await browser.get(login.headers.location as string);
    }
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('name="decision"');
    return page;
  }

  async function allow(browser: InjectBrowser, consent: LightMyRequestResponse): Promise<URLSearchParams> {
    return redirectParams(await browser.post(formAction(consent.body), { csrf_token: csrfToken(consent.body), decision: 'allow' }));
  }

  const token = (form: Record<string, string>) =>
    t.app.inject({ method: 'POST', url: '/oauth/token', headers: FORM, payload: new URLSearchParams(form).toString() });

  /** Makes the stored copy stale, as if its cache lifetime had passed. */
  async function expire(clientId: string): Promise<void> {
    await t.testDb.db.query(`UPDATE clients SET metadata_expires_at = now() - interval '1 second' WHERE client_id = $1`, [clientId]);
    await t.app.ctx.clients.invalidate(clientId);
  }

  it('never gives a document an admin scope; without scope, the client may ask for any other registered scope', async () => {
    await insertScope(t.testDb.db, { name: 'mcp:tools', description: 'Use the tools', isDefault: false });
    const greedy = docs.document(uniquePath('greedy'), { scope: 'openid authly:admin admin:users:write' });
    const refusedAdmin = redirectParams(await authorize(new InjectBrowser(t.app), greedy, { scope: 'openid authly:admin' }));
    expect(refusedAdmin.get('error')).toBe('invalid_scope');
    expect((await findClient(t.testDb.db, greedy))?.scope).toBe('openid');

    const plain = docs.document(uniquePath('no-scope'), {});
    const pkce = { code_challenge: pkcePair().challenge, code_challenge_method: 'S256' };
    expect(isInteractionRedirect(await authorize(new InjectBrowser(t.app), plain, { scope: 'openid mcp:tools', ...pkce }))).toBe(true);
    const stored = (await findClient(t.testDb.db, plain))!.scope.split(' ');
    expect(stored).toEqual(expect.arrayContaining(['openid', 'profile', 'mcp:tools']));
    expect(stored.filter((s) => s.startsWith('admin:') || s === 'authly:admin')).toEqual([]);
  });

  it('runs the code flow with PKCE, refresh and revocation for a client named by its document URL', async () => {
    const path = uniquePath('flow');
    const clientId = docs.document(path, { grant_types: ['authorization_code', 'refresh_token'], scope: 'openid offline_access' });
    const browser = new InjectBrowser(t.app);
    const { verifier, challenge } = pkcePair();
    const consent = await consentPageFor(browser, await authorize(browser, clientId, { code_challenge: challenge, scope: 'openid offline_access' }));
    expect(consent.body).toContain('<strong>MCP Test Client</strong>');
    expect(consent.body).toContain('After you answer, you go to <strong class="destination">mcp-client.example.com</strong>');
    expect(consent.body).toContain(`<code>${clientId}</code>`);
    expect(consent.body).not.toContain('class="warning"');
    const params = await allow(browser, consent);
    expect(params.get('iss')).toBe(TEST_ISSUER);

    const exchanged = await token({ grant_type: 'authorization_code', code: params.get('code')!, redirect_uri: MCP_REDIRECT, client_id: clientId, code_verifier: verifier });
    expect(exchanged.statusCode).toBe(200);
    const tokens = exchanged.json() as { access_token: string; refresh_token: string; scope: string };
    expect(tokens.scope).toBe('openid offline_access');

    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId });
    expect(refreshed.statusCode).toBe(200);
    const revoked = await t.app.inject({
      method: 'POST',
      url: '/oauth/revoke',
      headers: FORM,
      payload: new URLSearchParams({ token: (refreshed.json() as { refresh_token: string }).refresh_token, client_id: clientId }).toString(),
    });
    expect(revoked.statusCode).toBe(200);

    // One fetch served the authorization, the token requests and the revocation.
    expect(docs.count(path)).toBe(1);
    expect(await findClient(t.testDb.db, clientId)).toMatchObject({
      clientName: 'MCP Test Client',
      clientType: 'public',
      tokenEndpointAuthMethod: 'none',
      clientSecretHash: null,
      redirectUris: [MCP_REDIRECT],
      grantTypes: ['authorization_code', 'refresh_token'],
      scope: 'openid offline_access',
      requirePkce: true,
      skipConsent: false,
      isActive: true,
      registrationType: 'metadata_document',
    });
  });

  it('requires PKCE of a metadata-document client', async () => {
    const clientId = docs.document(uniquePath('pkce'));
    const res = await authorize(new InjectBrowser(t.app), clientId, { code_challenge: undefined, code_challenge_method: undefined });
    expect(res.statusCode).toBe(303);
    expect(Object.fromEntries(redirectParams(res))).toEqual({
      error: 'invalid_request',
      error_description: 'code_challenge is required (PKCE with S256)',
      state: 'st-123',
      iss: TEST_ISSUER,
    });
  });

  it('never skips consent for a metadata-document client, not even after the user allowed it once', async () => {
    const clientId = docs.document(uniquePath('consent'));
    const browser = new InjectBrowser(t.app);
    await allow(browser, await consentPageFor(browser, await authorize(browser, clientId)));
    // Signed in, same scopes, already allowed once: still the consent page.
    const again = await authorize(browser, clientId);
    const page = await consentPageFor(browser, again);
    expect(page.body).toContain(`<code>${clientId}</code>`);
    // prompt=none cannot be answered without asking.
    const silent = await authorize(browser, clientId, { prompt: 'none' });
    expect(Object.fromEntries(redirectParams(silent))).toMatchObject({ error: 'consent_required' });
  });

  it('warns on the consent page when every redirect URI is on this device', async () => {
    const clientId = docs.document(uniquePath('local'), { redirect_uris: ['http://127.0.0.1/callback', 'http://localhost:7777/cb'] });
    const browser = new InjectBrowser(t.app);
    const consent = await consentPageFor(browser, await authorize(browser, clientId, { redirect_uri: 'http://127.0.0.1/callback' }));
    expect(consent.body).toContain('<strong class="destination">127.0.0.1</strong>');
    expect(consent.body).toContain(
      '<p class="warning" role="alert">Warning: this application returns only to a program on this device (localhost). Any program on your computer can use this name. Allow only if you have just started this application yourself.</p>',
    );
  });

  it('matches redirect URIs exactly: another URI, or another loopback port, is refused on a page', async () => {
    const clientId = docs.document(uniquePath('redirects'), { redirect_uris: [MCP_REDIRECT, 'http://127.0.0.1/callback'] });
    const browser = new InjectBrowser(t.app);
    expectUnverified(await authorize(browser, clientId, { redirect_uri: 'https://mcp-client.example.com/other' }), 'The redirect_uri is not registered for this application.');
    expectUnverified(await authorize(browser, clientId, { redirect_uri: 'http://127.0.0.1:5555/callback' }), 'The redirect_uri is not registered for this application.');
    expect(isInteractionRedirect(await authorize(browser, clientId, { redirect_uri: 'http://127.0.0.1/callback' }))).toBe(true);
  });

  describe('refuses a document that breaks the rules, shows why, and stores nothing', () => {
    const CASES: [string, (path: string) => string, string][] = [
      ['a redirect', (p) => docs.serve(p, { status: 302, headers: { location: docs.document('/clients/target.json') } }), 'The client metadata document URL redirects; redirects are not followed.'],
      ['a 404', (p) => docs.serve(p, { status: 404, body: { error: 'nope' } }), 'Fetching the client metadata document returned HTTP 404.'],
      ['a 500', (p) => docs.serve(p, { status: 500 }), 'Fetching the client metadata document returned HTTP 500.'],
      ['a 201', (p) => docs.serve(p, { status: 201, body: {} }), 'Fetching the client metadata document returned HTTP 201.'],
      ['another client_id', (p) => docs.document(p, { client_id: `${docs.base}/clients/someone-else.json` }), 'The client_id in the client metadata document is not the URL it was fetched from.'],
      ['no client_id', (p) => docs.document(p, { client_id: undefined }), 'The client_id in the client metadata document is not the URL it was fetched from.'],
      ['6 KB', (p) => docs.document(p, { padding: 'x'.repeat(6 * 1024) }), 'The client metadata document is larger than 5120 bytes.'],
      ['6 KB without a Content-Length', (p) => docs.document(p, { padding: 'x'.repeat(6 * 1024) }, { chunked: true }), 'The client metadata document is larger than 5120 bytes.'],
      ['bad JSON', (p) => docs.serve(p, { body: '{"client_id": ' }), 'The client metadata document is not valid JSON.'],
      ['a JSON array', (p) => docs.serve(p, { body: '[]' }), 'The client metadata document is not a JSON object.'],
      ['HTML', (p) => docs.document(p, {}, { headers: { 'content-type': 'text/html' } }), 'The client metadata document is not served as application/json.'],
      ['client_secret_basic', (p) => docs.document(p, { token_endpoint_auth_method: 'client_secret_basic' }), 'The client metadata document asks for a token endpoint auth method other than none.'],
      ['client_secret_post', (p) => docs.document(p, { token_endpoint_auth_method: 'client_secret_post' }), 'The client metadata document asks for a token endpoint auth method other than none.'],
      ['private_key_jwt', (p) => docs.document(p, { token_endpoint_auth_method: 'private_key_jwt' }), 'The client metadata document asks for a token endpoint auth method other than none.'],
      ['a client_secret', (p) => docs.document(p, { client_secret: 'shh' }), 'The client metadata document contains a client secret.'],
      ['a private key', (p) => docs.document(p, { jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'private' }] } }), 'The client metadata document contains private key material.'],
      ['no redirect_uris', (p) => docs.document(p, { redirect_uris: undefined }), 'The client metadata document is not valid: redirect_uris is required.'],
      ['empty redirect_uris', (p) => docs.document(p, { redirect_uris: [] }), 'The client metadata document is not valid: redirect_uris is not valid.'],
      ['an http redirect URI off loopback', (p) => docs.document(p, { redirect_uris: ['http://mcp-client.example.com/cb'] }), 'The client metadata document is not valid: redirect_uris.0 http is allowed only for loopback hosts (RFC 8252 section 7.3); use https.'],
      ['a redirect URI with a fragment', (p) => docs.document(p, { redirect_uris: ['https://mcp-client.example.com/cb#x'] }), 'The client metadata document is not valid: redirect_uris.0 must not contain a fragment (RFC 6749 section 3.1.2).'],
      ['client_credentials', (p) => docs.document(p, { grant_types: ['client_credentials'] }), 'The client metadata document is not valid: grant_types.0 is not valid.'],
      ['refresh_token alone', (p) => docs.document(p, { grant_types: ['refresh_token'] }), 'The client metadata document is not valid: grant_types refresh_token requires authorization_code.'],
      ['a javascript: logo_uri', (p) => docs.document(p, { logo_uri: 'javascript:alert(1)' }), 'The client metadata document is not valid: logo_uri is not valid.'],
      ['a client_name that is not text', (p) => docs.document(p, { client_name: 42 }), 'The client metadata document is not valid: client_name is not valid.'],
    ];

    it.each(CASES)('%s', async (_name, serve, description) => {
      const path = uniquePath('refused');
      const clientId = serve(path);
      expectUnverified(await authorize(new InjectBrowser(t.app), clientId), refused(description));
      expect(docs.count(path)).toBe(1);
      expect(await findClient(t.testDb.db, clientId)).toBeUndefined();
    });

    it('follows no redirect', () => {
      expect(docs.count('/clients/target.json')).toBe(0);
    });
  });

  describe('refuses client_id URLs before any request', () => {
    const CASES: [string, string][] = [
      ['https://10.0.0.1/client.json', 'The client_id URL host is not a public internet address.'],
      ['https://192.168.1.20/client.json', 'The client_id URL host is not a public internet address.'],
      ['https://169.254.169.254/latest/meta-data', 'The client_id URL host is not a public internet address.'],
      ['https://100.64.0.1/client.json', 'The client_id URL host is not a public internet address.'],
      ['https://[fd00::1]/client.json', 'The client_id URL host is not a public internet address.'],
      ['https://[::ffff:a00:1]/client.json', 'The client_id URL host is not a public internet address.'],
      // Loopback is allowed only as http://127.0.0.1, [::1] or localhost, not through another spelling.
      ['https://[::ffff:7f00:1]/client.json', 'The client_id URL host is not a public internet address.'],
      ['https://0.0.0.0/client.json', 'The client_id URL host is not a public internet address.'],
      ['https://example.com/', 'The client_id URL must contain a path.'],
      ['https://example.com', 'The client_id URL must contain a path.'],
      ['https://example.com/a/../client.json', 'The client_id URL must be written in its normal form (no dot segments, lower-case host, no default port).'],
      ['https://EXAMPLE.com/client.json', 'The client_id URL must be written in its normal form (no dot segments, lower-case host, no default port).'],
      ['https://example.com:443/client.json', 'The client_id URL must be written in its normal form (no dot segments, lower-case host, no default port).'],
      ['https://user:pw@example.com/client.json', 'The client_id URL must not contain a user name or password.'],
      ['https://example.com/client.json#x', 'The client_id URL must not contain a fragment.'],
      ['https://exa mple.com/client.json', 'The client_id URL is not a URL.'],
    ];

    it.each(CASES)('%s', async (clientId, description) => {
      expectUnverified(await authorize(new InjectBrowser(t.app), clientId), refused(description));
      expect(await findClient(t.testDb.db, clientId)).toBeUndefined();
    });
  });

  it('serves a fresh document from its stored copy: no request on a cache hit, and concurrent misses share one fetch', async () => {
    const path = uniquePath('cache');
    const clientId = docs.document(path);
    const results = await Promise.all(Array.from({ length: 5 }, () => authorize(new InjectBrowser(t.app), clientId)));
    for (const res of results) expect(isInteractionRedirect(res)).toBe(true);
    expect(docs.count(path)).toBe(1);
    for (let i = 0; i < 3; i++) expect(isInteractionRedirect(await authorize(new InjectBrowser(t.app), clientId))).toBe(true);
    expect(await token({ grant_type: 'authorization_code', code: 'x', redirect_uri: MCP_REDIRECT, client_id: clientId, code_verifier: 'v'.repeat(43) })).toMatchObject({ statusCode: 400 });
    expect(docs.count(path)).toBe(1);
  });

  it('keeps a document as long as its cache headers say, within CIMD_CACHE_MIN_SECONDS and CIMD_CACHE_MAX_SECONDS', async () => {
    const cases: [Record<string, string>, number][] = [
      [{ 'cache-control': 'public, max-age=3600' }, 3600],
      [{ 'cache-control': 'max-age=30' }, 300],
      [{ 'cache-control': 'max-age=9999999' }, 86400],
      [{ 'cache-control': 'no-store' }, 300],
      [{ expires: new Date(Date.now() + 7200_000).toUTCString() }, 7200],
      [{}, 300],
    ];
    for (const [headers, seconds] of cases) {
      const clientId = docs.document(uniquePath('ttl'), {}, { headers });
      const before = Date.now();
      expect(isInteractionRedirect(await authorize(new InjectBrowser(t.app), clientId))).toBe(true);
      const stored = await findClient(t.testDb.db, clientId);
      const ttl = (stored!.metadataExpiresAt!.getTime() - before) / 1000;
      expect(ttl, JSON.stringify(headers)).toBeGreaterThan(seconds - 60);
      expect(ttl, JSON.stringify(headers)).toBeLessThanOrEqual(seconds + 60);
    }
  });

  it('fetches again once the stored copy is stale, and stores what the document says now', async () => {
    const path = uniquePath('refresh');
    const clientId = docs.document(path);
    expect(isInteractionRedirect(await authorize(new InjectBrowser(t.app), clientId))).toBe(true);
    docs.document(path, { client_name: 'Renamed', redirect_uris: ['https://mcp-client.example.com/new'] });
    await expire(clientId);
    expectUnverified(await authorize(new InjectBrowser(t.app), clientId), 'The redirect_uri is not registered for this application.');
    expect(docs.count(path)).toBe(2);
    expect(await findClient(t.testDb.db, clientId)).toMatchObject({ clientName: 'Renamed', redirectUris: ['https://mcp-client.example.com/new'] });
  });

  it('never caches an error: the next request fetches again', async () => {
    const path = uniquePath('error');
    const clientId = docs.serve(path, { status: 503 });
    expectUnverified(await authorize(new InjectBrowser(t.app), clientId), refused('Fetching the client metadata document returned HTTP 503.'));
    expectUnverified(await authorize(new InjectBrowser(t.app), clientId), refused('Fetching the client metadata document returned HTTP 503.'));
    expect(docs.count(path)).toBe(2);
    docs.document(path);
    expect(isInteractionRedirect(await authorize(new InjectBrowser(t.app), clientId))).toBe(true);
    expect(docs.count(path)).toBe(3);
  });

  it('answers invalid_client at the token endpoint when the document can no longer be used', async () => {
    const path = uniquePath('token');
    const clientId = docs.document(path);
    const browser = new InjectBrowser(t.app);
    const { verifier, challenge } = pkcePair();
    const params = await allow(browser, await consentPageFor(browser, await authorize(browser, clientId, { code_challenge: challenge })));
    docs.serve(path, { status: 404 });
    await expire(clientId);
    const res = await token({ grant_type: 'authorization_code', code: params.get('code')!, redirect_uri: MCP_REDIRECT, client_id: clientId, code_verifier: verifier });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: 'invalid_client', error_description: 'Fetching the client metadata document returned HTTP 404.' });
    const revoke = await t.app.inject({ method: 'POST', url: '/oauth/revoke', headers: FORM, payload: new URLSearchParams({ token: 'x', client_id: clientId }).toString() });
    expect(revoke.statusCode).toBe(401);
    expect(revoke.json()).toEqual({ error: 'invalid_client', error_description: 'Fetching the client metadata document returned HTTP 404.' });
    // A public client does not authenticate with a secret, metadata document or not.
    docs.document(path);
    const withSecret = await token({ grant_type: 'authorization_code', code: params.get('code')!, redirect_uri: MCP_REDIRECT, client_id: clientId, client_secret: 'guess', code_verifier: verifier });
    expect(withSecret.statusCode).toBe(401);
    expect(withSecret.json()).toEqual({ error: 'invalid_client', error_description: 'public clients do not authenticate with a secret' });
  });

  it('keeps a client an administrator disabled disabled, without fetching its document again', async () => {
    const path = uniquePath('disabled');
    const clientId = docs.document(path);
    expect(isInteractionRedirect(await authorize(new InjectBrowser(t.app), clientId))).toBe(true);
    const call = adminCall(t.app, await adminToken(t.app));
    const patched = await call('PATCH', `/admin/clients/${encodeURIComponent(clientId)}`, { is_active: false });
    expect(patched.statusCode).toBe(200);
    expectUnverified(await authorize(new InjectBrowser(t.app), clientId), 'The application is unknown.');
    await expire(clientId);
    expectUnverified(await authorize(new InjectBrowser(t.app), clientId), 'The application is unknown.');
    expect(docs.count(path)).toBe(1);
    expect((await findClient(t.testDb.db, clientId))!.isActive).toBe(false);
  });

  it('a refresh of the stored row never turns a disabled client back on, nor overwrites an admin client', async () => {
    const clientId = `${docs.base}/clients/row-${++counter}.json`;
    const row = {
      clientId,
      clientSecretHash: null,
      clientName: 'First',
      clientType: 'public' as const,
      tokenEndpointAuthMethod: 'none' as const,
      redirectUris: [MCP_REDIRECT],
      postLogoutRedirectUris: [],
      grantTypes: ['authorization_code'],
      responseTypes: ['code'],
      scope: 'openid',
      clientUri: null,
      logoUri: null,
      tosUri: null,
      policyUri: null,
      contacts: [],
      skipConsent: false,
      requirePkce: true,
      idTokenSignedResponseAlg: 'RS256' as const,
      accessTokenFormat: null,
      metadataExpiresAt: new Date(Date.now() + 60_000),
    };
    await upsertMetadataDocumentClient(t.testDb.db, row);
    await t.testDb.db.query('UPDATE clients SET is_active = false WHERE client_id = $1', [clientId]);
    const refreshed = await upsertMetadataDocumentClient(t.testDb.db, { ...row, clientName: 'Second' });
    expect(refreshed).toMatchObject({ clientName: 'Second', isActive: false, registrationType: 'metadata_document' });
    await t.testDb.db.query(`UPDATE clients SET registration_type = 'admin' WHERE client_id = $1`, [clientId]);
    expect(await upsertMetadataDocumentClient(t.testDb.db, { ...row, clientName: 'Third' })).toBeUndefined();
    expect((await findClient(t.testDb.db, clientId))!.clientName).toBe('Second');
  });

  it('logout: a client_id whose document cannot be used is an error page, never a redirect', async () => {
    const clientId = docs.serve(uniquePath('logout'), { status: 404 });
    const res = await t.app.inject({
      method: 'GET',
      url: `/oidc/logout?${new URLSearchParams({ client_id: clientId, post_logout_redirect_uri: 'https://mcp-client.example.com/bye' })}`,
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.body).toContain(refused('Fetching the client metadata document returned HTTP 404.'));
  });

  it('records refusals in the audit log', async () => {
    const clientId = docs.serve(uniquePath('audited'), { status: 302, headers: { location: 'https://example.com/' } });
    await authorize(new InjectBrowser(t.app), clientId);
    expect(logEvents(t.logs, 'client.metadata_refused').filter((line) => line.client_id === clientId)).toEqual([
      expect.objectContaining({ log: 'audit', event: 'client.metadata_refused', client_id: clientId, reason: 'redirect' }),
    ]);
  });
});

describe('client ID metadata documents: metrics', () => {
  let t: TestApp;
  let docs: MetadataDocumentServer;

  beforeAll(async () => {
    docs = await MetadataDocumentServer.start();
    t = await createTestApp({ CIMD_ALLOW_LOOPBACK: 'true' });
  });
  afterAll(async () => {
    await t.close();
    await docs.close();
  });

  it('counts fetches by result, refusals by reason, and cache hits and misses', async () => {
    const get = (clientId: string) => t.app.inject({ method: 'GET', url: authorizeUrl(clientId, { redirect_uri: MCP_REDIRECT }) });
    const good = docs.document('/good.json');
    await get(good);
    await get(good);
    await get(docs.serve('/moved.json', { status: 301, headers: { location: good } }));
    await get('https://10.1.2.3/client.json');
    await get('https://example.com/');
    const value = (name: string, labels: Record<string, string>) => metricValue(t.app, name, labels);
    expect(await value('authly_client_metadata_fetches_total', { result: 'ok' })).toBe(1);
    expect(await value('authly_client_metadata_fetches_total', { result: 'redirect' })).toBe(1);
    expect(await value('authly_client_metadata_fetches_total', { result: 'forbidden_address' })).toBe(1);
    expect(await value('authly_client_metadata_fetches_total', { result: 'invalid_url' })).toBeUndefined();
    expect(await value('authly_client_metadata_refusals_total', { reason: 'redirect' })).toBe(1);
    expect(await value('authly_client_metadata_refusals_total', { reason: 'forbidden_address' })).toBe(1);
    expect(await value('authly_client_metadata_refusals_total', { reason: 'invalid_url' })).toBe(1);
    expect(await value('authly_client_metadata_refusals_total', { reason: 'timeout' })).toBe(0);
    expect(await value('authly_cache_requests_total', { cache: 'client_metadata', result: 'hit' })).toBe(1);
    expect(await value('authly_cache_requests_total', { cache: 'client_metadata', result: 'miss' })).toBe(4);
  });
});

describe('client ID metadata documents: switched off, or loopback not allowed', () => {
  let docs: MetadataDocumentServer;

  beforeAll(async () => {
    docs = await MetadataDocumentServer.start();
  });
  afterAll(() => docs.close());

  it('CIMD_ENABLED=false: not advertised, URL client_ids are unknown and never fetched, stored ones are not served', async () => {
    const t = await createTestApp({ CIMD_ENABLED: 'false', CIMD_ALLOW_LOOPBACK: 'true' });
    try {
      const discovery = (await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json() as Record<string, unknown>;
      expect(discovery).not.toHaveProperty('client_id_metadata_document_supported');
      const clientId = docs.document('/off.json');
      await upsertMetadataDocumentClient(t.testDb.db, {
        clientId,
        clientSecretHash: null,
        clientName: 'Stored',
        clientType: 'public',
        tokenEndpointAuthMethod: 'none',
        redirectUris: [MCP_REDIRECT],
        postLogoutRedirectUris: [],
        grantTypes: ['authorization_code'],
        responseTypes: ['code'],
        scope: 'openid',
        clientUri: null,
        logoUri: null,
        tosUri: null,
        policyUri: null,
        contacts: [],
        skipConsent: false,
        requirePkce: true,
        idTokenSignedResponseAlg: 'RS256',
        accessTokenFormat: null,
        metadataExpiresAt: new Date(Date.now() + 3600_000),
      });
      const res = await t.app.inject({ method: 'GET', url: authorizeUrl(clientId, { redirect_uri: MCP_REDIRECT }) });
      expectUnverified(res, 'The application is unknown.');
      expect(docs.count('/off.json')).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('advertises client_id_metadata_document_supported by default; http loopback URLs need CIMD_ALLOW_LOOPBACK', async () => {
    const t = await createTestApp();
    try {
      const discovery = (await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json() as Record<string, unknown>;
      expect(discovery.client_id_metadata_document_supported).toBe(true);
      const clientId = docs.document('/no-loopback.json');
      expectUnverified(await t.app.inject({ method: 'GET', url: authorizeUrl(clientId, { redirect_uri: MCP_REDIRECT }) }), 'The application is unknown.');
      expect(docs.count('/no-loopback.json')).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('CIMD_ALLOWED_DOMAINS and CIMD_DENIED_DOMAINS refuse other domains before any request', async () => {
    const t = await createTestApp({ CIMD_ALLOW_LOOPBACK: 'true', CIMD_ALLOWED_DOMAINS: 'mcp.example.com' });
    const u = await createTestApp({ CIMD_ALLOW_LOOPBACK: 'true', CIMD_DENIED_DOMAINS: '127.0.0.1' });
    try {
      const clientId = docs.document('/policy.json');
      for (const app of [t.app, u.app]) {
        expectUnverified(
          await app.inject({ method: 'GET', url: authorizeUrl(clientId, { redirect_uri: MCP_REDIRECT }) }),
          refused('This server does not accept clients from the domain of this client_id URL.'),
        );
      }
      expect(docs.count('/policy.json')).toBe(0);
    } finally {
      await t.close();
      await u.close();
    }
  });
});
