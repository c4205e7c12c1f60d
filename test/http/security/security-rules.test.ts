import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { basicAuth, createClient, createUser, pkcePair, REDIRECT_URI, type TestClient } from '../../helpers/fixtures.js';
import { csrfToken, formAction, InjectBrowser } from '../../helpers/browser.js';
import { authorizeUrl, exchangeCode, FORM, obtainCode, obtainTokens, tokenRequest, userinfo } from '../../helpers/oauth-flow.js';
import { adminCall, ADMIN_ENV, tokenFor } from '../admin/admin-helpers.js';
import type { User } from '../../../src/repositories/users-repository.js';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { insertSigningKey, retireSigningKey } from '../../../src/repositories/signing-keys-repository.js';
import { insertResource } from '../../../src/repositories/resources-repository.js';
import { startSession } from '../../../src/services/session-service.js';
import { linkCsrfToken } from '../../../src/services/account-links-service.js';

const RULES_API = 'https://rules-api.example.com';

/**
 * One row per rule of ../shared/SECURITY.md that Authly implements: a request that must fail, and exactly
 * how. The detailed suites (authorize/, token/, security/, logout/, admin/, ...) test each rule in depth;
 * this table is the one place that lists them all. Rules not implemented yet have no row.
 */

type Expected =
  | { json: [status: number, error: string] }
  /** An error returned to the verified redirect URI with state and iss (RFC 6749 4.1.2.1, RFC 9207). */
  | { redirect: string }
  /** An HTML page and no redirect. */
  | { page: number };

interface Fixtures {
  t: TestApp;
  client: TestClient;
  other: TestClient;
  pub: TestClient;
  user: User;
  browser: InjectBrowser;
  get(url: string): Promise<LightMyRequestResponse>;
}

type Row = [rule: string, request: (f: Fixtures) => Promise<LightMyRequestResponse>, expected: Expected];

const form = (f: Fixtures, url: string, body: string, headers: Record<string, string> = {}) =>
  f.t.app.inject({ method: 'POST', url, headers: { ...FORM, ...headers }, payload: body });

/** A fresh interaction's login page in a new browser: its form action and CSRF token. */
async function loginForm(f: Fixtures) {
  const b = new InjectBrowser(f.t.app);
  const start = await b.get(authorizeUrl(f.client.clientId));
  const page = await b.get(start.headers.location as string);
  return { b, action: formAction(page.body), csrf: csrfToken(page.body) };
}

/** An admin API call by a fresh client_credentials client holding only `scope` (registered by authly:admin). */
async function adminCallAs(f: Fixtures, scope: string, method: 'POST' | 'PATCH', url: string, body?: unknown) {
  const admin = adminCall(f.t.app, await tokenFor(f.t.app, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_SECRET, 'authly:admin'));
  const created = (await admin('POST', '/admin/clients', { client_name: scope, grant_types: ['client_credentials'], scope })).json() as { client_id: string; client_secret: string };
  return adminCall(f.t.app, await tokenFor(f.t.app, created.client_id, created.client_secret))(method, url, body);
}

/** POST /oauth/register (RFC 7591) with a JSON body. */
const registerJson = (f: Fixtures, body: unknown) =>
  f.t.app.inject({ method: 'POST', url: '/oauth/register', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });

/** A sign-in attempt from `ip` in a fresh browser. */
async function signInFrom(f: Fixtures, ip: string, username: string, password: string) {
  const b = new InjectBrowser(f.t.app, ip);
  const start = await b.get(authorizeUrl(f.client.clientId));
  const page = await b.get(start.headers.location as string);
  return b.post(formAction(page.body), { csrf_token: csrfToken(page.body), username, password });
}

/** client_credentials with Basic credentials from `ip`. */
const clientTokenFrom = (f: Fixtures, ip: string, clientId: string, secret: string) =>
  f.t.app.inject({ method: 'POST', url: '/oauth/token', remoteAddress: ip, headers: { ...FORM, authorization: basicAuth(clientId, secret) }, payload: 'grant_type=client_credentials' });

const ROWS: Row[] = [
  // Authorization endpoint
  ['redirect_uri: exact string match (a trailing slash differs)', (f) => f.get(authorizeUrl(f.client.clientId, { redirect_uri: `${REDIRECT_URI}/` })), { page: 400 }],
  ['redirect_uri: exact match, no prefix match', (f) => f.get(authorizeUrl(f.client.clientId, { redirect_uri: `${REDIRECT_URI}?x=1` })), { page: 400 }],
  ['loopback redirect may vary only in port, not host', (f) => f.get(authorizeUrl(f.client.clientId, { redirect_uri: 'http://localhost:5000/cb' })), { page: 400 }],
  ['unknown client_id → error page, never a redirect', (f) => f.get(authorizeUrl('no-such-client')), { page: 400 }],
  ['missing redirect_uri → error page', (f) => f.get(authorizeUrl(f.client.clientId, { redirect_uri: undefined })), { page: 400 }],
  ['other errors go to the redirect URI with state and iss', (f) => f.get(authorizeUrl(f.client.clientId, { scope: 'openid no-such-scope' })), { redirect: 'invalid_scope' }],
  ['PKCE required by default', (f) => f.get(authorizeUrl(f.client.clientId, { code_challenge: undefined, code_challenge_method: undefined })), { redirect: 'invalid_request' }],
  ['PKCE plain refused', (f) => f.get(authorizeUrl(f.client.clientId, { code_challenge_method: 'plain' })), { redirect: 'invalid_request' }],
  ['PKCE exception needs a nonce', async (f) => {
    const c = await createClient(f.t.app, { requirePkce: false });
    return f.get(authorizeUrl(c.clientId, { code_challenge: undefined, code_challenge_method: undefined, nonce: undefined }));
  }, { redirect: 'invalid_request' }],
  ['public clients always use PKCE', async (f) => {
    const c = await createClient(f.t.app, { tokenEndpointAuthMethod: 'none', requirePkce: false });
    return f.get(authorizeUrl(c.clientId, { code_challenge: undefined, code_challenge_method: undefined }));
  }, { redirect: 'invalid_request' }],
  ['a sent code_challenge is enforced: no code_verifier', async (f) => {
    const { code } = await obtainCode(f.browser, f.client, f.user.username);
    return tokenRequest(f.t.app, f.client, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
  }, { json: [400, 'invalid_grant'] }],
  ['a sent code_challenge is enforced: wrong code_verifier', async (f) => {
    const { code } = await obtainCode(f.browser, f.client, f.user.username);
    return exchangeCode(f.t.app, f.client, { code, verifier: pkcePair().verifier });
  }, { json: [400, 'invalid_grant'] }],
  ['only response_type=code (implicit)', (f) => f.get(authorizeUrl(f.client.clientId, { response_type: 'token' })), { redirect: 'unsupported_response_type' }],
  ['only response_type=code (hybrid)', (f) => f.get(authorizeUrl(f.client.clientId, { response_type: 'code id_token' })), { redirect: 'unsupported_response_type' }],
  ['password grant not supported', (f) => tokenRequest(f.t.app, f.client, { grant_type: 'password', username: f.user.username, password: 'x' }), { json: [400, 'unsupported_grant_type'] }],
  ['code is single use', async (f) => {
    const code = await obtainCode(f.browser, f.client, f.user.username);
    await exchangeCode(f.t.app, f.client, code);
    return exchangeCode(f.t.app, f.client, code);
  }, { json: [400, 'invalid_grant'] }],
  ['a second use of a code revokes the tokens issued from it', async (f) => {
    const code = await obtainCode(f.browser, f.client, f.user.username);
    const first = (await exchangeCode(f.t.app, f.client, code)).json() as { access_token: string };
    await exchangeCode(f.t.app, f.client, code);
    return userinfo(f.t.app, first.access_token);
  }, { json: [401, 'invalid_token'] }],
  ['code bound to client_id', async (f) => {
    const code = await obtainCode(f.browser, f.client, f.user.username);
    return exchangeCode(f.t.app, f.other, code);
  }, { json: [400, 'invalid_grant'] }],
  ['code bound to redirect_uri', async (f) => {
    const code = await obtainCode(f.browser, f.client, f.user.username);
    return exchangeCode(f.t.app, f.client, code, { redirect_uri: 'https://app.example.com/other' });
  }, { json: [400, 'invalid_grant'] }],

  // Token endpoint
  ['confidential clients must authenticate', (f) => tokenRequest(f.t.app, f.client, { grant_type: 'client_credentials' }, { method: 'none' }), { json: [401, 'invalid_client'] }],
  ['a wrong secret (Basic) → 401 invalid_client', (f) => tokenRequest(f.t.app, f.client, { grant_type: 'client_credentials' }, { headers: { authorization: basicAuth(f.client.clientId, 'wrong') }, method: 'none' }), { json: [401, 'invalid_client'] }],
  ['a wrong secret (post) → 401 invalid_client', (f) => tokenRequest(f.t.app, { ...f.client, clientSecret: 'wrong' }, { grant_type: 'client_credentials' }, { method: 'post' }), { json: [401, 'invalid_client'] }],
  ['a rotated refresh token is refused', async (f) => {
    const tokens = await obtainTokens(f.t.app, f.browser, f.client, f.user.username, { scope: 'openid offline_access' });
    await tokenRequest(f.t.app, f.client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    return tokenRequest(f.t.app, f.client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
  }, { json: [400, 'invalid_grant'] }],
  ['a refresh token is bound to its client', async (f) => {
    const tokens = await obtainTokens(f.t.app, f.browser, f.client, f.user.username, { scope: 'openid offline_access' });
    return tokenRequest(f.t.app, f.other, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
  }, { json: [400, 'invalid_grant'] }],
  ['a refresh may narrow scope, never widen it', async (f) => {
    const tokens = await obtainTokens(f.t.app, f.browser, f.client, f.user.username, { scope: 'openid offline_access' });
    return tokenRequest(f.t.app, f.client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, scope: 'openid offline_access email' });
  }, { json: [400, 'invalid_scope'] }],
  ['resource-bound audience (RFC 8707): an unknown resource at the authorization endpoint → invalid_target, redirected', (f) => f.get(authorizeUrl(f.client.clientId, { resource: 'https://unknown-api.example.com' })), { redirect: 'invalid_target' }],
  ['resource-bound audience (RFC 8707): a refresh may not name a resource the grant lacks', async (f) => {
    const tokens = await obtainTokens(f.t.app, f.browser, f.client, f.user.username, { scope: 'openid offline_access' });
    return tokenRequest(f.t.app, f.client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, resource: RULES_API });
  }, { json: [400, 'invalid_target'] }],
  ['admin API requires the issuer audience: a token for another API, even with authly:admin → 401', async (f) => {
    const res = await f.t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { ...FORM, authorization: basicAuth(ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_SECRET) },
      payload: new URLSearchParams({ grant_type: 'client_credentials', scope: 'authly:admin', resource: RULES_API }).toString(),
    });
    return adminCall(f.t.app, (res.json() as { access_token: string }).access_token)('GET', '/admin/clients');
  }, { json: [401, 'invalid_token'] }],
  ['granted scope never exceeds what the client may have', (f) => tokenRequest(f.t.app, f.client, { grant_type: 'client_credentials', scope: 'authly:admin' }), { json: [400, 'invalid_scope'] }],

  // Sessions, login and consent
  ['login failures give one generic message', async (f) => {
    const { b, action, csrf } = await loginForm(f);
    return b.post(action, { csrf_token: csrf, username: f.user.username, password: 'wrong password' });
  }, { page: 200 }],
  ['the login form is CSRF-protected', async (f) => {
    const { b, action } = await loginForm(f);
    return b.post(action, { csrf_token: 'forged', username: f.user.username, password: 'x' });
  }, { page: 403 }],
  ['the login form is bound to the browser that started it', async (f) => {
    const { action, csrf } = await loginForm(f);
    return new InjectBrowser(f.t.app).post(action, { csrf_token: csrf, username: f.user.username, password: 'x' });
  }, { page: 400 }],
  ['the consent form is CSRF-protected', async (f) => {
    const start = await f.browser.get(authorizeUrl(f.client.clientId, { prompt: 'consent' }));
    const page = await f.browser.get(start.headers.location as string);
    return f.browser.post(formAction(page.body), { csrf_token: 'forged', decision: 'allow' });
  }, { page: 403 }],
  ['the forgot-password form is CSRF-protected', (f) => f.browser.post('/forgot-password', { login: f.user.username, csrf_token: 'forged' }), { page: 403 }],
  ['a forged password reset link is refused', (f) => f.browser.post('/reset-password', { token: 'A'.repeat(43), csrf_token: linkCsrfToken(f.t.app.ctx, 'A'.repeat(43)), password: 'a new password', password_confirm: 'a new password' }), { page: 400 }],
  ['the logout confirmation is CSRF-protected', (f) => f.browser.post('/oidc/logout', { confirm: 'yes', csrf_token: 'forged' }), { page: 403 }],
  ['prompt=none without a session → login_required', (f) => f.t.app.inject({ method: 'GET', url: authorizeUrl(f.client.clientId, { prompt: 'none' }) }), { redirect: 'login_required' }],

  // Tokens and keys
  ['a forged access token is refused', (f) => userinfo(f.t.app, 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'), { json: [401, 'invalid_token'] }],
  // Rotation (pre-publication, overlap, emergency withdrawal, all replicas agreeing) is followed step by step
  // in test/http/keys/key-rotation.test.ts and key-rotation-replicas.test.ts; encryption at rest in
  // test/unit/config/config.test.ts (production refuses to start without the key) and key-storage.test.ts.
  ['a live token re-signed by a retired key is refused (retired keys leave the JWKS and verify nothing)', async (f) => {
    const live = await obtainTokens(f.t.app, f.browser, f.client, f.user.username);
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const key = { kid, alg: 'RS256', publicJwk: publicJwk as Record<string, unknown>, privateJwk: JSON.stringify(await exportJWK(privateKey)), privateJwkEncrypted: false };
    await insertSigningKey(f.t.app.ctx.db, key, 'next', new Date());
    await retireSigningKey(f.t.app.ctx.db, kid, new Date());
    const forged = await new SignJWT(decodeJwt(live.access_token)).setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' }).sign(privateKey);
    return userinfo(f.t.app, forged);
  }, { json: [401, 'invalid_token'] }],
  ['signing keys are rotated only with authly:admin', async (f) => f.t.app.inject({ method: 'POST', url: '/admin/keys/rotate', headers: { authorization: `Bearer ${await tokenFor(f.t.app, f.client.clientId, f.client.clientSecret!)}` } }), { json: [403, 'insufficient_scope'] }],
  ['a client_credentials token has no user: userinfo refuses it', async (f) => userinfo(f.t.app, await tokenFor(f.t.app, f.client.clientId, f.client.clientSecret!)), { json: [401, 'invalid_token'] }],
  ['userinfo: a token sent by two methods (header and body) is refused (RFC 6750 section 2)', async (f) => {
    const token = (await obtainTokens(f.t.app, new InjectBrowser(f.t.app), f.client, f.user.username)).access_token;
    return form(f, '/oidc/userinfo', `access_token=${encodeURIComponent(token)}`, { authorization: `Bearer ${token}` });
  }, { json: [400, 'invalid_request'] }],

  // Everywhere
  ['non-UTF-8 input → 400 invalid_request', (f) => form(f, '/oauth/token', 'grant_type=client_credentials&scope=%FF', { authorization: basicAuth(f.client.clientId, f.client.clientSecret!) }), { json: [400, 'invalid_request'] }],
  ['wrong content type at the token endpoint → 400 invalid_request', (f) => f.t.app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/json', authorization: basicAuth(f.client.clientId, f.client.clientSecret!) }, payload: '{"grant_type":"client_credentials"}' }), { json: [400, 'invalid_request'] }],
  // Issue 13 §2: request objects are verified (RFC 9101); an unsigned one from a client not registered for it is refused.
  ['an unsigned request object is refused (never silently ignored)', (f) => f.get(authorizeUrl(f.client.clientId, { request: 'eyJhbGciOiJub25lIn0.e30.' })), { page: 400 }],
  // Issue 13 §2: a request_uri is accepted only as a pushed request's (RFC 9126); nothing is fetched by reference.
  ['a request_uri that is not a pushed request\'s → invalid_request_uri page, never fetched', (f) => f.get(authorizeUrl(f.client.clientId, { request_uri: 'https://app.example.com/r' })), { page: 400 }],
  ['request bodies are size-limited', (f) => form(f, '/oauth/token', `grant_type=client_credentials&x=${'a'.repeat(70 * 1024)}`), { json: [413, 'invalid_request'] }],
  ['repeated parameters refused at the token endpoint', (f) => form(f, '/oauth/token', 'grant_type=client_credentials&grant_type=client_credentials', { authorization: basicAuth(f.client.clientId, f.client.clientSecret!) }), { json: [400, 'invalid_request'] }],
  ['repeated parameters refused at the authorization endpoint', (f) => f.get(`${authorizeUrl(f.client.clientId)}&scope=openid`), { redirect: 'invalid_request' }],
  ['repeated client_id at the authorization endpoint → error page', (f) => f.get(`${authorizeUrl(f.client.clientId)}&client_id=${f.client.clientId}`), { page: 400 }],
  ['admin API: no token → 401', (f) => f.t.app.inject({ method: 'GET', url: '/admin/clients' }), { json: [401, 'invalid_token'] }],
  // No unauthenticated admin surface, not even the API's description; test/http/admin/openapi.test.ts checks every operation.
  ['admin API: the OpenAPI document needs an admin token too → 401', (f) => f.t.app.inject({ method: 'GET', url: '/admin/openapi.json' }), { json: [401, 'invalid_token'] }],
  ['admin API: POST /admin/keys/rotate without a token → 401', (f) => f.t.app.inject({ method: 'POST', url: '/admin/keys/rotate' }), { json: [401, 'invalid_token'] }],
  ['admin API: a token without the admin scope → 403', async (f) => f.t.app.inject({ method: 'GET', url: '/admin/clients', headers: { authorization: `Bearer ${await tokenFor(f.t.app, f.client.clientId, f.client.clientSecret!)}` } }), { json: [403, 'insufficient_scope'] }],
  ['admin API: a user named by username, without the admin scope → 403 before any lookup', async (f) => f.t.app.inject({ method: 'GET', url: '/admin/users/nobody@example.com', headers: { authorization: `Bearer ${await tokenFor(f.t.app, f.client.clientId, f.client.clientSecret!)}` } }), { json: [403, 'insufficient_scope'] }],
  ['admin API: a forged page cursor → 400 validation_failed, never a database error', async (f) => {
    const token = await tokenFor(f.t.app, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_SECRET, 'authly:admin');
    const cursor = Buffer.from('["2026-02-30T00:00:00.000000Z","not-a-uuid"]').toString('base64url');
    return f.t.app.inject({ method: 'GET', url: `/admin/users?cursor=${cursor}`, headers: { authorization: `Bearer ${token}` } });
  }, { json: [400, 'validation_failed'] }],
  ['admin API: invalid JSON → 400 validation_failed', async (f) => {
    const token = await tokenFor(f.t.app, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_SECRET, 'authly:admin');
    return f.t.app.inject({ method: 'POST', url: '/admin/clients', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: '{"client_name":' });
  }, { json: [400, 'validation_failed'] }],
  // Issue 10 §2: one input guard at the edge (src/http/input-guard.ts; detailed: security/input-guard.test.ts)
  ['a NUL in a path never reaches the database → 400 page', (f) => f.get('/interaction/abc%00'), { page: 400 }],
  ['a 3,000-character client_id is refused before any lookup or lockout key', (f) => form(f, '/oauth/token', `grant_type=client_credentials&client_id=${'c'.repeat(3000)}&client_secret=x`), { json: [400, 'invalid_request'] }],
  ['a 3,000-character login name is refused before any lookup or lockout key → 400 page', async (f) => {
    const { b, action, csrf } = await loginForm(f);
    return b.post(action, { csrf_token: csrf, username: 'u'.repeat(3000), password: 'x' });
  }, { page: 400 }],
  ['a form body in a charset other than UTF-8 → 415', (f) => f.t.app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-16', authorization: basicAuth(f.client.clientId, f.client.clientSecret!) }, payload: 'grant_type=client_credentials' }), { json: [415, 'invalid_request'] }],
  ['admin API: JSON nested 5,000 levels deep → 400 validation_failed (no stack overflow)', async (f) => {
    const token = await tokenFor(f.t.app, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_SECRET, 'authly:admin');
    return f.t.app.inject({ method: 'POST', url: '/admin/users', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: `{"username":${'['.repeat(5000)}${']'.repeat(5000)}}` });
  }, { json: [400, 'validation_failed'] }],
  ['admin API: JSON in a charset other than UTF-8 → 415', async (f) => {
    const token = await tokenFor(f.t.app, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_SECRET, 'authly:admin');
    return f.t.app.inject({ method: 'POST', url: '/admin/users', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-16' }, payload: '{"username":"x"}' });
  }, { json: [415, 'unsupported_media_type'] }],
  // Issue 14 §2: the audit trail is read with admin:audit:read only (in depth: admin/audit-events.test.ts).
  ['admin API: the audit trail without admin:audit:read → 403', async (f) => f.t.app.inject({ method: 'GET', url: '/admin/audit-events', headers: { authorization: `Bearer ${await tokenFor(f.t.app, f.client.clientId, f.client.clientSecret!)}` } }), { json: [403, 'insufficient_scope'] }],
  ['admin API: a forged audit-events cursor → 400 validation_failed, never a database error', async (f) => {
    const token = await tokenFor(f.t.app, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_SECRET, 'authly:admin');
    const cursor = Buffer.from('["2026-02-30T00:00:00.000000Z","not-a-uuid"]').toString('base64url');
    return f.t.app.inject({ method: 'GET', url: `/admin/audit-events?cursor=${cursor}`, headers: { authorization: `Bearer ${token}` } });
  }, { json: [400, 'validation_failed'] }],
  // A caller never grants more than it holds (src/services/admin/privilege-rules.ts; in depth: admin/least-privilege.test.ts).
  ['admin API: admin:clients:write cannot register authly:admin', async (f) => adminCallAs(f, 'admin:clients:write', 'POST', '/admin/clients', { client_name: 'x', grant_types: ['client_credentials'], scope: 'authly:admin' }), { json: [403, 'insufficient_privilege'] }],
  ['admin API: admin:clients:write cannot rotate the bootstrap admin client\'s secret', async (f) => adminCallAs(f, 'admin:clients:write', 'POST', `/admin/clients/${ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID}/rotate-secret`), { json: [403, 'insufficient_privilege'] }],
  ['admin API: admin:clients:write cannot deactivate an admin-capable client', async (f) => adminCallAs(f, 'admin:clients:write', 'PATCH', `/admin/clients/${ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID}`, { is_active: false }), { json: [403, 'insufficient_privilege'] }],
  ['admin API: admin:clients:write cannot add a redirect URI to an admin-capable client (it would collect admin sign-ins)', async (f) => adminCallAs(f, 'admin:clients:write', 'POST', `/admin/clients/${ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID}/redirect-uris`, { redirect_uri: 'https://attacker.example/cb' }), { json: [403, 'insufficient_privilege'] }],
  ['admin API: a redirect URI added one at a time follows the registration rules (no fragment)', async (f) => adminCallAs(f, 'admin:clients:write', 'POST', `/admin/clients/${f.client.clientId}/redirect-uris`, { redirect_uri: 'https://app.example.com/cb#x' }), { json: [400, 'validation_failed'] }],
  ['admin API: admin:users:write cannot create an administrator', async (f) => adminCallAs(f, 'admin:users:write', 'POST', '/admin/users', { username: 'would-be-root', is_admin: true }), { json: [403, 'insufficient_privilege'] }],
  ['admin API: admin:users:write cannot set an administrator\'s password', async (f) => {
    const root = await createUser(f.t.app, { isAdmin: true });
    return adminCallAs(f, 'admin:users:write', 'POST', `/admin/users/${root.id}/password`, { password: 'chosen by the caller' });
  }, { json: [403, 'insufficient_privilege'] }],
  // Resources (RFC 8707) in the admin API (in depth: admin/resources.test.ts, admin/resources-privilege.test.ts).
  ['admin API: admin:resources:write cannot register a resource whose tokens carry authly:admin', async (f) => adminCallAs(f, 'admin:resources:write', 'POST', '/admin/resources', { identifier: 'https://rules-admin.example.com', name: 'x', scopes: ['authly:admin'] }), { json: [403, 'insufficient_privilege'] }],
  ['admin API: admin:resources:write cannot make an admin-capable client act for (introspect for) a resource', async (f) => adminCallAs(f, 'admin:resources:write', 'POST', '/admin/resources', { identifier: 'https://rules-acting.example.com', name: 'x', client_ids: [ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID] }), { json: [403, 'insufficient_privilege'] }],
  ['admin API: a resource never accepts OpenID Connect user scopes (they belong to userinfo)', async (f) => adminCallAs(f, 'admin:resources:write', 'POST', '/admin/resources', { identifier: 'https://rules-openid.example.com', name: 'x', scopes: ['openid'] }), { json: [400, 'validation_failed'] }],
  ['admin API: only a confidential client acts for a resource (introspection needs client authentication)', async (f) => adminCallAs(f, 'admin:resources:write', 'POST', '/admin/resources', { identifier: 'https://rules-public.example.com', name: 'x', client_ids: [f.pub.clientId] }), { json: [400, 'validation_failed'] }],
  ['admin API: a resource identifier is an absolute URI without a fragment (RFC 8707 section 2)', async (f) => adminCallAs(f, 'admin:resources:write', 'POST', '/admin/resources', { identifier: 'https://rules.example.com/#f', name: 'x' }), { json: [400, 'validation_failed'] }],
  // One-time codes and the MFA policy (in depth: test/http/mfa/).
  ['acr_values asking for MFA is honoured: a password-only session does not satisfy it (prompt=none → login_required)', (f) => f.get(authorizeUrl(f.client.clientId, { prompt: 'none', acr_values: 'urn:authly:acr:mfa' })), { redirect: 'login_required' }],
  // Brute-force throttle (details: test/http/security/throttle.test.ts)
  ['throttle: five wrong passwords from one address do not lock the account elsewhere (200 page, not 429)', async (f) => {
    const u = await createUser(f.t.app);
    for (let i = 0; i < 5; i++) await signInFrom(f, '203.0.113.200', u.username, `wrong-${i}`);
    return signInFrom(f, '192.0.2.200', u.username, 'still wrong');
  }, { page: 200 }],
  ['throttle: keyed by the account, not the spelling (email after five wrong user names → 429)', async (f) => {
    const u = await createUser(f.t.app);
    for (let i = 0; i < 5; i++) await signInFrom(f, '203.0.113.201', u.username, `wrong-${i}`);
    return signInFrom(f, '203.0.113.201', u.email!.toUpperCase(), 'still wrong');
  }, { page: 429 }],
  ['throttle: wrong client secrets from one address do not lock the client elsewhere (401, not 429)', async (f) => {
    const c = await createClient(f.t.app, { grantTypes: ['client_credentials'], redirectUris: [], responseTypes: [], scope: '' });
    for (let i = 0; i < 5; i++) await clientTokenFrom(f, '203.0.113.202', c.clientId, `wrong-${i}`);
    return clientTokenFrom(f, '192.0.2.202', c.clientId, 'still wrong');
  }, { json: [401, 'invalid_client'] }],
  ['throttle: the address that guessed is refused with 429 rate_limited', async (f) => {
    const c = await createClient(f.t.app, { grantTypes: ['client_credentials'], redirectUris: [], responseTypes: [], scope: '' });
    for (let i = 0; i < 5; i++) await clientTokenFrom(f, '203.0.113.203', c.clientId, `wrong-${i}`);
    return clientTokenFrom(f, '203.0.113.203', c.clientId, c.clientSecret!);
  }, { json: [429, 'rate_limited'] }],
  ['throttle: a 3,000-character client_id is a 401, not a 500', (f) => clientTokenFrom(f, '203.0.113.204', randomBytes(1500).toString('hex'), 'wrong'), { json: [401, 'invalid_client'] }],
  ['revocation requires client authentication', (f) => form(f, '/oauth/revoke', 'token=abc'), { json: [401, 'invalid_client'] }],
  ['introspection requires client authentication', (f) => form(f, '/oauth/introspect', 'token=abc'), { json: [401, 'invalid_client'] }],
  // Client ID metadata documents: the SSRF guard refuses before any connection (details: test/http/cimd/).
  ['metadata document URL at a private address → error page, nothing fetched', (f) => f.get(authorizeUrl('https://10.0.0.1/client.json')), { page: 400 }],
  ['metadata document URL at the link-local cloud metadata address → error page', (f) => f.get(authorizeUrl('https://169.254.169.254/latest/meta-data/')), { page: 400 }],
  ['metadata document URL at an IPv4-mapped loopback address → error page', (f) => f.get(authorizeUrl('https://[::ffff:7f00:1]/client.json')), { page: 400 }],
  ['metadata document URL over http (loopback not allowed) → error page', (f) => f.get(authorizeUrl('http://127.0.0.1/client.json')), { page: 400 }],
  ['metadata document URL at a private address at the token endpoint → 401 invalid_client', (f) => form(f, '/oauth/token', new URLSearchParams({ grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT_URI, code_verifier: 'v'.repeat(43), client_id: 'https://192.168.0.1/client.json' }).toString()), { json: [401, 'invalid_client'] }],
  // Dynamic client registration (RFC 7591/7592; in depth: test/http/registration/). Development: REGISTRATION_POLICY=open.
  ['registration never grants an admin scope', (f) => registerJson(f, { grant_types: ['client_credentials'], scope: 'authly:admin' }), { json: [400, 'invalid_client_metadata'] }],
  ['registration: a web client redirects to https only', (f) => registerJson(f, { redirect_uris: ['http://app.example.com/cb'], application_type: 'web' }), { json: [400, 'invalid_redirect_uri'] }],
  ['registration: no implicit response type', (f) => registerJson(f, { redirect_uris: [REDIRECT_URI], response_types: ['token'] }), { json: [400, 'invalid_client_metadata'] }],
  ['a registration access token is bound to its own client', async (f) => {
    const a = (await registerJson(f, { redirect_uris: [REDIRECT_URI] })).json() as { client_id: string };
    const b = (await registerJson(f, { redirect_uris: [REDIRECT_URI] })).json() as { registration_access_token: string };
    return f.t.app.inject({ method: 'GET', url: `/oauth/register/${a.client_id}`, headers: { authorization: `Bearer ${b.registration_access_token}` } });
  }, { json: [401, 'invalid_token'] }],

  // The account page (issue 12 §4)
  ['account forms are CSRF-protected', (f) => f.browser.post('/account/profile', { csrf_token: 'forged', name: 'Mallory' }), { page: 403 }],
  ["account: another user's session cannot be signed out (no IDOR)", async (f) => {
    const victim = await createUser(f.t.app);
    const { session } = await startSession(f.t.app.ctx, victim.id, undefined);
    return f.browser.post('/account/sessions/end', { csrf_token: await accountCsrf(f), sid: session.sid });
  }, { page: 404 }],
  ["account: another user's application access cannot be revoked (no IDOR)", async (f) => {
    const victim = new InjectBrowser(f.t.app);
    await obtainCode(victim, f.other, (await createUser(f.t.app)).username);
    return f.browser.post('/account/applications/revoke', { csrf_token: await accountCsrf(f), client_id: f.other.clientId });
  }, { page: 404 }],
  ['account sign-in: return_to outside /account is refused (no open redirect)', (f) => f.get('/account/sign-in?return_to=https%3A%2F%2Fevil.example%2F'), { page: 400 }],
  ['account sign-in: a callback without the browser\'s sign-in cookie is refused (no login CSRF)', (f) => new InjectBrowser(f.t.app).get('/account/callback?code=x&state=y'), { page: 400 }],
  ['the built-in account client is changed only by authly:admin', (f) => adminCallAs(f, 'admin:clients:write', 'PATCH', '/admin/clients/authly-account', { redirect_uris: ['https://evil.example/cb'] }), { json: [403, 'insufficient_privilege'] }],
];

/** The account CSRF token of the fixtures' signed-in browser. */
async function accountCsrf(f: Fixtures): Promise<string> {
  return /name="csrf_token" value="([^"]+)"/.exec((await f.browser.get('/account')).body)![1]!;
}

describe('SECURITY.md: one failing request per rule', () => {
  const f = {} as Fixtures;

  beforeAll(async () => {
    // No reuse grace window: a replayed refresh token must fail at once.
    f.t = await createTestApp({ ...ADMIN_ENV, REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0' });
    const grantTypes = ['authorization_code', 'refresh_token', 'client_credentials'];
    f.client = await createClient(f.t.app, { grantTypes, redirectUris: [REDIRECT_URI, 'http://127.0.0.1/cb'] });
    f.other = await createClient(f.t.app, { grantTypes });
    f.pub = await createClient(f.t.app, { tokenEndpointAuthMethod: 'none' });
    f.user = await createUser(f.t.app);
    // An API that (unwisely) accepts authly:admin: its tokens must still not open the admin API.
    await insertResource(f.t.testDb.db, { identifier: RULES_API, name: 'Rules API', scopes: ['authly:admin'], accessTokenFormat: null, accessTokenTtlSeconds: null, signingAlg: null, clientIds: [] });
    f.browser = new InjectBrowser(f.t.app);
    f.get = (url) => f.browser.get(url);
    await obtainCode(f.browser, f.client, f.user.username); // signed in, consent remembered
  });
  afterAll(() => f.t.close());

  it.each(ROWS)('%s', async (_rule, request, expected) => {
    const res = await request(f);
    const summary = `${res.statusCode} ${String(res.headers.location ?? '')} ${res.body.slice(0, 200)}`;
    if ('json' in expected) {
      expect(res.statusCode, summary).toBe(expected.json[0]);
      expect((res.json() as { error: string }).error, summary).toBe(expected.json[1]);
    } else if ('redirect' in expected) {
      expect(res.statusCode, summary).toBe(303);
      const location = new URL(res.headers.location as string);
      expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
      expect(location.searchParams.get('error'), summary).toBe(expected.redirect);
      expect(location.searchParams.get('state')).toBe('st-123');
      expect(location.searchParams.get('iss')).toBe(TEST_ISSUER);
      // RFC 6749 section 5.2: a non-empty description in printable ASCII without '"' and '\\'.
      expect(location.searchParams.get('error_description')).toMatch(/^[\x20\x21\x23-\x5B\x5D-\x7E]+$/);
    } else {
      expect(res.statusCode, summary).toBe(expected.page);
      expect(res.headers.location, summary).toBeUndefined();
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      if (expected.page === 200) expect(res.body).toContain('Invalid username or password.');
      if (expected.page === 429) expect(res.body).toMatch(/Too many failed attempts\. Try again in \d+ (second|minute|hour)s?\./);
    }
  });
});

/**
 * Rules that one injected request cannot show (a database that goes away, real sockets, concurrency, a
 * process that exits): each row names the test that fails when the rule breaks. The check below keeps the
 * pointers honest: the file exists and still holds a test of that name.
 */
const RULES_TESTED_ELSEWHERE: [rule: string, file: string, test: string][] = [
  // Issue 14 §2: the audit trail as data.
  ['audit trail: an admin change and its audit row commit together; a row that cannot be stored rolls the change back', 'test/http/admin/audit-trail.test.ts', 'atomic: when the audit row cannot be stored, the change is rolled back and the request fails'],
  ['audit trail: no secret, password, hash or token value is ever stored', 'test/http/admin/audit-trail.test.ts', 'no secret, password or token value ever appears in the table'],
  ['audit trail diffs: only allowed fields; secrets only as {changed: true}; private JWK members removed', 'test/unit/lib/audit-diff.test.ts', 'never stores a secret, a hash or a password: only {changed: true}'],
  // Issue 13 §2: pushed authorization requests (RFC 9126).
  ['PAR: the request_uri is single use, short-lived and bound to the client; only its hash is stored', 'test/http/par/pushed-authorization.test.ts', 'stores only a hash of the request_uri, bound to the client, and never the client credentials'],
  ['PAR: of concurrent uses of one request_uri exactly one proceeds', 'test/http/par/pushed-authorization.test.ts', 'of concurrent uses of one request_uri exactly one proceeds'],
  ['PAR: a request_uri replayed through another replica is refused', 'test/e2e/par-two-replicas.test.ts', 'a request_uri used on one replica is refused on the other'],
  ['PAR: errors at the endpoint are JSON (400, 401 for client authentication), never a redirect', 'test/http/par/pushed-authorization.test.ts', 'request_uri inside the push (section 2.1)'],
  ['PAR: only the pushed parameters count at the authorization endpoint', 'test/http/par/pushed-authorization.test.ts', 'only the pushed parameters count: redirect_uri, state and scope outside the push are ignored'],
  ['request objects: signature against the client\'s keys, iss/aud/exp/client_id checked, alg none only when registered', 'test/http/par/request-objects.test.ts', 'a bad signature (another key under a registered kid)'],
  ['request objects: HS* only from a client_secret_jwt client, keyed with its secret; never from a client whose secret is only hashed', 'test/http/par/request-objects.test.ts', 'refuses an HS256 object signed with the secret of a client that does not use client_secret_jwt'],
  ['request objects: only the object\'s parameters count (RFC 9101 section 6.3)', 'test/http/par/request-objects.test.ts', "uses only the object's parameters (section 6.3): redirect_uri, state and scope outside it are ignored"],
  ['request objects: REQUEST_OBJECTS_ENABLED=false refuses request with request_not_supported, and discovery says so', 'test/http/par/request-objects.test.ts', 'discovery says request objects are not supported, and request is refused with request_not_supported'],
  ['PAR: REQUIRE_PUSHED_AUTHORIZATION_REQUESTS and a client\'s require_pushed_authorization_requests refuse a request that was not pushed', 'test/http/par/pushed-authorization.test.ts', 'is refused a request that was not pushed, with the error sent to its redirect URI'],
  ["resource-bound audience: a token for resource A is inactive to resource B's client", 'test/http/resources/resource-indicators.test.ts', "introspection: the resource's own client sees it active, another resource's client inactive"],
  ['a database that is down → 503 temporarily_unavailable + Retry-After (OAuth, admin and page shapes), then recovery', 'test/http/faults/database-outage.test.ts', 'answers 503 + Retry-After in each audience shape while cut, and recovers once restored'],
  ['database errors by SQLSTATE class: connection/shutdown/deadlock/lock timeout → 503, never 500', 'test/unit/http/error-handler.test.ts', 'on the token endpoint: 503 temporarily_unavailable with Retry-After'],
  ['input the database refuses (22001 too long, 22021 not UTF-8) → 400, never 5xx', 'test/unit/http/error-handler.test.ts', '(input the database refused) is 400 invalid_request, admin validation_failed'],
  ['a closed embedded database (PGlite) is a dependency fault, not a bug', 'test/unit/errors/storage-errors.test.ts', 'a driver-typed StorageUnavailable is unavailable'],
  ['bodies time out: a trickled body gets 408 and its socket is closed', 'test/e2e/slow-clients.test.ts', 'trickled bodies get 408 invalid_request and their sockets are closed by the server'],
  ['a request racing the shutdown gets an OAuth 503 with Retry-After, never a bare body', 'test/e2e/slow-clients.test.ts', 'gets 503 temporarily_unavailable with Retry-After and Connection: close'],
  ['a slow client cannot hold a SIGTERMed server past its shutdown timeout', 'test/e2e/shutdown.test.ts', 'exits 0 before the timeout although a body is still trickling in'],
  ['token and login beyond the in-flight cap → 503 + Retry-After at once', 'test/unit/http/admission-control.test.ts', 'refuses beyond the cap with 503 temporarily_unavailable and Retry-After, then admits again'],
  ['/health answers while 500 token requests are in flight', 'test/e2e/health-under-flood.test.ts', 'answers every /health probe with 200 while 500 token requests are in flight'],
  // Outbound fetches of client-supplied URLs (client ID metadata documents).
  ['outbound fetch: special-use addresses (IPv4, IPv6, IPv4-mapped, NAT64) are classified and refused', 'test/unit/lib/special-use-addresses.test.ts', 'classifyAddress'],
  ['outbound fetch: a name resolving to a private address is refused before connecting', 'test/unit/services/outbound-fetch.test.ts', 'refuses a name that resolves to a private address, before connecting'],
  ['outbound fetch: resolved once, connected to the checked address (no DNS rebinding)', 'test/unit/services/outbound-fetch.test.ts', 'resolves once and connects to the address it checked'],
  ['outbound fetch: loopback only for loopback names with CIMD_ALLOW_LOOPBACK', 'test/unit/services/outbound-fetch.test.ts', 'refuses loopback for any host but the loopback names, even with the loopback allowance'],
  ['outbound fetch: bounded in time and per host', 'test/unit/services/outbound-fetch.test.ts', 'keeps at most maxPerHost fetches in flight to one host; the others wait their turn'],
  ['outbound fetch: no redirect followed, only 200, JSON, at most 5 KB; nothing stored on a refusal', 'test/http/cimd/metadata-document-client.test.ts', 'refuses a document that breaks the rules, shows why, and stores nothing'],
  ['outbound fetch: an error is never cached', 'test/http/cimd/metadata-document-client.test.ts', 'never caches an error: the next request fetches again'],
  ['metadata-document clients never get an admin scope, whatever the document says', 'test/http/cimd/metadata-document-client.test.ts', 'never gives a document an admin scope; without scope, the client may ask for any other registered scope'],
  ['metadata-document clients are public clients: PKCE required', 'test/http/cimd/metadata-document-client.test.ts', 'requires PKCE of a metadata-document client'],
  ['metadata-document clients: consent is never skipped, and localhost-only clients carry a warning', 'test/http/cimd/metadata-document-client.test.ts', 'never skips consent for a metadata-document client, not even after the user allowed it once'],
  // Issue 13 §3: asymmetric client authentication (RFC 7523) and client keys (jwks / jwks_uri).
  ['outbound fetch of a jwks_uri: https only, public hosts only (loopback only with OUTBOUND_ALLOW_LOOPBACK), nothing fetched otherwise', 'test/unit/services/client-keys.test.ts', 'refuses a jwks_uri on a private address when loopback is not allowed'],
  ['outbound fetch of a jwks_uri: no redirect, only 200, JSON JWK Set of public keys; an error is never cached', 'test/unit/services/client-keys.test.ts', 'refuses %s and never keeps the error'],
  ['jwks_uri refetch on an unknown kid is rate-limited: a storm of made-up kids fetches at most once per interval', 'test/unit/services/client-keys.test.ts', 'picks up a rotated key on an unknown kid, and a storm of unknown kids fetches once per interval'],
  ['client keys are public keys only: a private or symmetric JWK is refused at registration', 'test/http/clientauth/client-keys-registration.test.ts', 'admin API refuses %s'],
  ['client assertions: iss = sub = client_id, aud this server, exp required and bounded, alg allowed for the method, typ not another kind of token', 'test/http/clientauth/client-assertion.test.ts', 'refused with invalid_client (401)'],
  ['client assertions: a jti is used once (audited), on every replica', 'test/e2e/two-replicas-client-assertion.test.ts', 'a replayed private_key_jwt assertion is refused by the other replica'],
  ['client authentication: exactly one method, and the registered one (a secret never stands in for an assertion)', 'test/http/clientauth/client-assertion.test.ts', 'a private_key_jwt client trying a secret'],
  ['client assertions count in the brute-force throttle of the client they name', 'test/http/clientauth/client-assertion.test.ts', 'counts failed assertions in the brute-force throttle of the client it names'],
  ['registration access tokens and client secrets of registered clients are stored only as hashes', 'test/http/registration/registration.test.ts', 'registers a confidential web client: secret once, registration access token, defaults filled in'],
  ['initial access tokens are shown once and stored only as hashes', 'test/http/registration/registration-policy.test.ts', 'mints a token through the admin API (shown once, stored hashed) and lists it without the token'],
  ['initial access token use count: N+1 racing registrations with max_uses N register exactly N (PostgreSQL)', 'test/http/registration/registration-policy.test.ts', 'a race of N+1 registrations with max_uses N registers exactly N'],
  ['dynamic registration is closed by default in production', 'test/unit/config/config.test.ts', 'REGISTRATION_POLICY: closed by default in production, open in development; explicit values win'],
  // Issue 12 §2: mailed single-use links, recovery without enumeration, revocation after a reset.
  ['mailed links (reset, confirmation, invitation) are stored only as SHA-256 hashes', 'test/http/recovery/password-recovery.test.ts', 'stores only the hash of the link token'],
  ['mailed links are single use: of concurrent uses exactly one wins', 'test/http/recovery/password-recovery.test.ts', 'two concurrent uses of one link: exactly one wins'],
  ['mailed links expire (GET and POST refused)', 'test/http/recovery/password-recovery.test.ts', 'refuses an expired link (expires_at moved into the past) on GET and POST'],
  ['a GET of a mailed link (a mail scanner) does not use it up', 'test/http/recovery/email-verification.test.ts', 'The GET (what a mail scanner does) did not use the link.'],
  ['no enumeration on recovery: the same page, status and time whether or not the account exists', 'test/http/recovery/password-recovery.test.ts', 'answers an existing and an unknown account with the same page and status, and mails only the real one'],
  ['no enumeration on resend and sign-up: an address in use answers like a fresh one', 'test/http/recovery/sign-up-and-email-change.test.ts', 'an address already in use answers like a fresh one and mails its owner a reset link instead'],
  ['after a password reset every session, refresh token and access token of the user is revoked', 'test/http/recovery/password-recovery.test.ts', 'resets the password: sessions, refresh and access tokens revoked, throttle cleared, mail sent; the link works once'],
  ['resend limits live in the database (per account and address), not in process memory', 'test/http/recovery/email-verification.test.ts', 'the sign-in page resend form answers the same whatever the address, and mails only a real unverified one'],
  // Pages (issue 12 §5).
  ["pages: strict CSP, style-src 'self' (the served, integrity-checked stylesheet), no inline style or script except a nonce'd one", 'test/http/pages/pages.test.ts', 'are served under content-hashed names, cached for a year, and linked with their integrity hash'],
  ['pages: no third-party origins (only the operator logo origin and, on consent, the client logo)', 'test/e2e/pages-accessibility.test.ts', 'the page loads nothing from another origin'],
  ['pages: every browser-facing answer is a page with a support reference (404, 429, GET on a form URL, expired sign-in)', 'test/http/pages/pages.test.ts', '404: a page for a browser, JSON for an API client'],
  ['pages: template overrides cannot carry script, inline style, event handlers or foreign CSS', 'test/unit/views/brand.test.ts', 'refuses an unsafe template at start-up'],
  ['open registration is rate-limited per address, shared by replicas through Redis', 'test/http/registration/registration-policy.test.ts', 'three registrations on either replica use up the address, the fourth is refused on both'],
  ['a dependency that is down (mail) gives no 5xx: requests only queue, readiness stays 200 and reports it; nothing is lost, nothing sent twice', 'test/http/mail/mail-delivery.test.ts', 'a server that is down and comes back: nothing lost, nothing sent twice; readiness and metrics report the queue meanwhile'],
  ['a hung SMTP server costs the worker its timeout, never a request', 'test/http/mail/mail-delivery.test.ts', 'a hung server (no greeting) times out: the message is deferred, readiness stays 200 and names the timeout'],
  ['mail replicas share one outbox: each message is sent once (SKIP LOCKED, PostgreSQL)', 'test/http/mail/mail-replicas.test.ts', 'delivers each of 40 messages exactly once, by both workers'],
  ["a mail's single-use link never reaches the log, and leaves the outbox once sent", 'test/http/mail/mail-dev-files.test.ts', 'writes <time>-<id>.eml into AUTHLY_DATA_DIR/mail and logs where, without the link'],
  ['production refuses a feature that sends mail without SMTP, and a password sent in clear text', 'test/unit/config/mail-config.test.ts', 'production without SMTP: a one-line reason naming the feature variable'],
  // Passkeys (issue 12 §3): ceremonies need a software authenticator, so their suites hold the cases.
  ['passkeys: a challenge is random, stored server-side and serves one attempt', 'test/http/passkeys/passkey-sign-in.test.ts', 'a challenge serves one attempt: after a failed assertion, a good one with the same challenge is refused'],
  ['passkeys: a sign-in challenge is bound to its interaction', 'test/http/passkeys/passkey-sign-in.test.ts', 'a challenge is bound to its interaction: options of one, assertion to another, is refused'],
  ['passkeys: a registration challenge is bound to its session', 'test/http/passkeys/account-passkeys.test.ts', 'a registration challenge is bound to its session: options of one session, attestation from another, refused'],
  ['passkeys: the RP ID (issuer host) and origin (issuer origin) are checked at sign-in', 'test/http/passkeys/passkey-sign-in.test.ts', "['another RP ID', { rpId: 'evil.example' }]"],
  ['passkeys: the RP ID and origin are checked at registration', 'test/http/passkeys/account-passkeys.test.ts', "['another origin', { origin: 'https://evil.example' }]"],
  ['passkeys as the second factor: only a credential of the user whose password passed', 'test/http/passkeys/passkey-sign-in.test.ts', 'another user’s passkey is refused, on the passkey step with the generic failure'],
  ['passkeys: an unknown credential gets the generic failure and is counted by the login throttle', 'test/http/passkeys/passkey-sign-in.test.ts', 'an unknown credential gets the same answer, and is counted by the login throttle'],
  ['passkeys: a signature counter that does not grow (a cloned authenticator) is refused and audited', 'test/http/passkeys/passkey-sign-in.test.ts', 'a signature counter that does not grow (a cloned authenticator) is refused and audited'],
  ['account passkey forms are CSRF-protected and reach only the user’s own passkeys (no IDOR)', 'test/http/passkeys/account-passkeys.test.ts', 'renames its own passkey; another user’s id is answered as not found (no IDOR)'],
  // One-time codes (src/services/mfa-service.ts) and the MFA policy (src/services/mfa-policy.ts).
  ['TOTP: a code (time step) is used once; an earlier step after a later one is refused', 'test/http/mfa/totp-sign-in.test.ts', 'refuses a code used once, and an earlier step after a later one; accepts one step of drift either side, not two'],
  ['TOTP and recovery codes: wrong codes are throttled per account and address (429 + Retry-After)', 'test/http/mfa/totp-sign-in.test.ts', 'throttles wrong codes per account and address: past the allowance even the right code gets 429 with Retry-After'],
  ['TOTP: the secret is stored only encrypted (AES-256-GCM), recovery codes only as keyed hashes, neither logged', 'test/http/mfa/totp-sign-in.test.ts', 'enrols on the account page: QR code and key, confirmed by a code, ten recovery codes shown once, secret stored encrypted, mail queued'],
  ['recovery codes: racing sign-ins with one code, exactly one passes (PostgreSQL)', 'test/http/mfa/totp-sign-in.test.ts', 'two sign-ins racing with one recovery code: exactly one passes (PostgreSQL)'],
  ['acr_values and client mfa_policy are honoured; a session without mfa does not satisfy a client requiring it', 'test/http/mfa/mfa-policy.test.ts', 'a session without mfa does not satisfy a client that requires it: a new sign-in, or login_required with prompt=none'],
  ['prompt=login re-runs the factors the policy asks for', 'test/http/mfa/mfa-policy.test.ts', 'prompt=login re-runs the factors; single sign-on with an mfa session needs no new step and keeps its amr'],
  ['a change of the account factors needs a recent sign-in (prompt=login after ACCOUNT_REAUTH_MINUTES)', 'test/http/account/account-reauth.test.ts', 'after it, the pages send to a new sign-in with prompt=login that returns to them; the overview does not ask'],
  ['a factor change posted with a stale sign-in changes nothing', 'test/http/account/account-reauth.test.ts', 'a form posted after the window changes nothing and sends to the new sign-in'],
  // DPoP (issue 13 §1, RFC 9449).
  ['DPoP: every section 4.3 check of a proof (typ, asymmetric alg, public jwk, signature, htm, htu, iat window) refuses with invalid_dpop_proof', 'test/unit/services/dpop/dpop-proof.test.ts', '$name: 400 invalid_dpop_proof'],
  ['DPoP: a proof jti is single use across replicas (Redis, else PostgreSQL)', 'test/e2e/two-replicas-dpop.test.ts', 'a nonce from replica A is accepted by replica B, and a proof used at A is refused at B'],
  ['DPoP: server nonces rotate (current and previous slot) without shared state', 'test/unit/services/dpop/dpop-proof.test.ts', 'the current and the previous slot are accepted, the one before is not (rotation)'],
  ["DPoP: a public client's refresh token is bound to its key; another key or none gets invalid_grant", 'test/http/dpop/dpop-token.test.ts', 'public client: access and refresh tokens bound; refresh with another key or none → invalid_grant; successors keep the binding'],
  ['DPoP: a DPoP-bound access token is never accepted as a Bearer token', 'test/http/dpop/dpop-token.test.ts', 'refuses a DPoP-bound token presented as Bearer, with a DPoP challenge'],
  ['DPoP: at a resource the proof must be by the bound key and carry ath', 'test/http/dpop/dpop-token.test.ts', 'refuses a proof without ath: 401 invalid_dpop_proof with a DPoP challenge'],
  ['DPoP: dpop_jkt binds the authorization code to the key', 'test/http/dpop/dpop-token.test.ts', 'dpop_jkt binds the code: another key → invalid_grant; the right key → DPoP tokens'],
  ['DPoP: a dpop_bound_access_tokens client is refused without a proof', 'test/http/dpop/dpop-token.test.ts', 'dpop_bound_access_tokens: a token request without a proof is refused with invalid_request'],
  ['DPoP: in discovery exactly when enabled; DPOP_ENABLED=false ignores the header', 'test/http/dpop/dpop-token.test.ts', 'ignores DPoP headers (Bearer tokens) and is absent from discovery'],
  ['DPoP: random DPoP headers and DPoP-scheme tokens never give a 5xx', 'test/http/security/fuzz-dpop-no-5xx.test.ts', 'the DPoP authorization scheme with random tokens'],
  // OpenID Connect Back-Channel Logout 1.0 (issue 13 §4): delivery is an outbound call to a client-registered URL.
  ['back-channel logout: delivered through the SSRF guard (private, link-local, loopback without OUTBOUND_ALLOW_LOOPBACK, plain http refused)', 'test/http/logout/backchannel-logout.test.ts', 'refuses %s, at once and for good'],
  ['back-channel logout: no redirect followed', 'test/http/logout/backchannel-logout.test.ts', 'follows no redirect: a 3xx is a failed attempt, the Location is never called'],
  ['back-channel logout: bounded time per delivery', 'test/http/logout/backchannel-logout.test.ts', 'bounds the time of a delivery: a client that never answers times out and is retried'],
  ['backchannel_logout_uri: https only (loopback only with OUTBOUND_ALLOW_LOOPBACK, development), no fragment, no credentials', 'test/http/logout/backchannel-logout-metadata.test.ts', 'refuses %s with invalid_client_metadata'],
  ['back-channel logout: a client that is down loses nothing (durable outbox, retries), readiness stays 200', 'test/http/logout/backchannel-logout.test.ts', 'a client that is down gets its logout once it is back up'],
  ['back-channel logout: a pending logout survives a restart of Authly', 'test/e2e/backchannel-logout.test.ts', 'a logout queued while the client is down is delivered by the next instance after a restart'],
  ['back-channel logout: replicas share the outbox, each logout is sent once (SKIP LOCKED)', 'test/e2e/backchannel-logout.test.ts', 'two replicas delivering side by side send each logout once'],
  ['logout tokens: typ logout+jwt, signed like the ID tokens, sid as in the ID token, never a nonce, never logged', 'test/http/logout/backchannel-logout.test.ts', 'RP-initiated logout: each client of the session gets one verified logout token; others get none'],
  ['every way a session ends tells its clients (logout, account page, admin, disable, delete, password reset and change)', 'test/http/logout/backchannel-logout.test.ts', "the account page: sign out, end one session, end the others, change the password"],
  // Device authorization grant (RFC 8628, issue 13 §5).
  ['device grant: device codes and user codes are stored only as hashes (the user code keyed)', 'test/http/device/device-grant.test.ts', 'stores only hashes of the device code and the user code'],
  ['device grant: user code guessing is throttled per address (429 + Retry-After) and counted in metrics', 'test/http/device/device-grant.test.ts', 'after 10 N lookups from one address the next waits (429 with Retry-After), even with a right code'],
  ['device grant: polling faster than the interval is slow_down and raises the interval by 5 s in the row (replicas agree)', 'test/http/device/device-grant.test.ts', 'pending → authorization_pending; too fast → slow_down and the interval grows by 5 s, in the row'],
  ['device grant: an approved device code issues tokens once; a second poll is invalid_grant', 'test/http/device/device-grant.test.ts', 'two polls at once after approval: tokens exactly once'],
  ['device grant: a device code is bound to its client', 'test/http/device/device-grant.test.ts', "another client's device_code, an unknown one, or none → invalid_grant / invalid_request"],
  ['device grant: the person confirms who asks and for what before signing in; a prefilled code is not submitted (RFC 8628 section 5.4)', 'test/http/device/device-grant.test.ts', 'verification_uri_complete prefills the code, formatted, but the person still confirms'],
  ['device grant: the /device forms are CSRF-protected', 'test/http/device/device-grant.test.ts', 'a form without its CSRF token → 403, nothing looked up'],
  ['device grant: admin scopes reach only administrators', 'test/http/device/device-grant.test.ts', 'admin scopes reach only an administrator (the grant keeps what the person may grant)'],
  ['device grant: absent from discovery, routes and grant types while DEVICE_GRANT_ENABLED=false', 'test/http/device/device-grant.test.ts', 'is absent from discovery, its endpoint and page are not served, and the grant is unsupported'],
  ['device grant: tokens issued once across two replicas on one database', 'test/e2e/device-two-replicas.test.ts', 'slow_down and a single issue of tokens hold across two replicas'],
  ['the built-in CLI client (authly admin login) is changed only by authly:admin and restored at every start', 'test/http/device/cli-client.test.ts', 'only authly:admin changes it through the admin API, and every start restores it'],
  ['the built-in console client (authly-console) is changed only by authly:admin and restored at every start', 'test/http/console/console.test.ts', 'only authly:admin changes the console client through the admin API, and every start restores it'],
  ['the console gets admin scopes only for an administrator; any other user gets none and the admin API refuses them', 'test/http/console/console.test.ts', 'gives an administrator authly:admin and a user who is not one no admin scope (the admin API refuses them)'],
  ["the console's shell has a strict CSP (its own scripts and styles only, no inline code, connect-src 'self', no framing)", 'test/http/console/console.test.ts', 'serves one HTML shell with the strict CSP, the stylesheet of the sign-in pages and the console module'],
  ['authly admin login stores its token in a 0600 file and a non-administrator gets no admin token', 'test/cli/admin-login-cli.test.ts', 'a user who is not an administrator gets no admin token, and nothing is stored'],
  ['DPoP at the PAR endpoint binds the code to the proof key; a dpop_jkt naming another key is refused (RFC 9449 section 10.1)', 'test/e2e/high-assurance-profile.test.ts', 'the DPoP proof at the push binds the code: the same key gets DPoP tokens and userinfo; another key cannot use the code'],
];

describe('SECURITY.md: rules tested by their own suites', () => {
  it.each(RULES_TESTED_ELSEWHERE)('%s (%s)', (_rule, file, test) => {
    expect(existsSync(file), file).toBe(true);
    expect(readFileSync(file, 'utf8'), `${file} has no test named "${test}"`).toContain(test);
  });
});
