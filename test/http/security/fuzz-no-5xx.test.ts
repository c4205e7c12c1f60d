import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { clientSigningKey } from '../../helpers/client-assertion.js';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { basicAuth, createClient, createUser, REDIRECT_URI, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { csrfToken, formAction, InjectBrowser } from '../../helpers/browser.js';
import { authorizeParams, authorizeUrl, ERROR_DESCRIPTION_CHARS, setCookieLine } from '../../helpers/oauth-flow.js';
import { ADMIN_ENV, adminToken } from '../admin/admin-helpers.js';
import { insertResource } from '../../../src/repositories/resources-repository.js';
import { insertScope } from '../../../src/repositories/scopes-repository.js';
import { findUserByUsername } from '../../../src/repositories/users-repository.js';
import { startSession } from '../../../src/services/session-service.js';
import { accountCsrfToken } from '../../../src/routes/account/account-context.js';
import type { ClientJwks } from '../../../src/repositories/clients-repository.js';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';

const FUZZ_API = 'https://fuzz-api.example.com';

/**
 * SECURITY.md "Everywhere" and issue 3 item 8: whatever parameters arrive — known OAuth names and random
 * ones, repeated keys, empty values, long strings, unicode, control characters, NUL, broken
 * percent-encodings, any content type, any JSON at the admin API — the answer is never a 5xx, never a
 * stack trace, and every JSON error_description stays within RFC 6749 section 5.2. A failure prints the
 * fast-check seed and path; replay with FUZZ_SEED=<seed>.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

const KNOWN_NAMES = [
  'response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method',
  'prompt', 'max_age', 'login_hint', 'id_token_hint', 'claims', 'acr_values', 'response_mode', 'request', 'request_uri',
  'display', 'ui_locales', 'grant_type', 'code', 'code_verifier', 'refresh_token', 'client_secret', 'client_assertion',
  'client_assertion_type', 'token', 'token_type_hint', 'post_logout_redirect_uri', 'csrf_token', 'username', 'password',
  'decision', 'confirm', 'access_token', 'resource', 'audience', '__proto__', 'constructor',
  'credential', 'credential_id', 'name',
  'login', 'email', 'password_confirm', 'current_password', 'action', 'interaction',
  'device_code', 'user_code',
];
const BAD_ENCODINGS = ['%', '%G1', '%FF', '%C0%AF', '%ED%A0%80', '%00', '%zz', '%E2%82', '+%'];
/** Path segments no route should choke on: NUL, bytes that are not UTF-8, overlong forms, surrogates, dots. */
const ODD_SEGMENTS = ['%00', 'a%00b', '%ff', '%FF%FE', '%C0%AF', '%C0%80', '%E0%80%AF', '%ED%A0%80', '%F4%90%80%80', '%', '%2e%2e', '..%2F..', '%2F', '%u0000'];
const CHARSETS = ['utf-16', 'UTF-16LE', 'utf-32', 'latin1', 'iso-8859-1', 'us-ascii', 'UTF-8', '"utf-8"', 'x-unknown', ''];
const CONTENT_TYPES = [
  undefined, 'application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8',
  'APPLICATION/X-WWW-FORM-URLENCODED', 'application/x-www-form-urlencoded; charset=latin1', 'application/json',
  'application/json; charset=utf-8', 'text/plain', 'multipart/form-data; boundary=x', 'application/xml',
  'application/octet-stream', 'garbage', 'application/jwt',
  ...CHARSETS.map((c) => `application/x-www-form-urlencoded; charset=${c}`),
  ...CHARSETS.map((c) => `application/json; charset=${c}`),
];
const printable = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });

/** UTF-8 percent-encoding that never throws (lone surrogates become U+FFFD bytes, as a browser would send). */
const enc = (s: string) =>
  [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');

/** A lone surrogate half (JSON can carry one as an escape; a form cannot). */
const loneSurrogate = () => fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));

/** Issue 10: strings up to ~5,000 characters, which reach length limits and index keys (40 could not). */
const longString = () =>
  fc
    .tuple(fc.integer({ min: 200, max: 5_000 }), fc.oneof(fc.string({ minLength: 1, maxLength: 3 }), fc.constantFrom('a', '\u0000', '\u00e9', '\ud83d\ude00')))
    .map(([n, s]) => s.repeat(Math.ceil(n / s.length)).slice(0, n));

/** JSON nested up to 5,000 levels, as arrays or objects, valid or cut short. */
const deepJson = () =>
  fc.tuple(fc.integer({ min: 1, max: 5_000 }), fc.boolean(), fc.boolean()).map(([depth, arrays, closed]) => {
    const open = arrays ? '['.repeat(depth) : '{"a":'.repeat(depth);
    const close = closed ? (arrays ? ']' : '}').repeat(depth) : '';
    return `{"username":${open}${arrays ? '' : '1'}${close}}`;
  });

const STACK_TRACE = /^\s*at .+:\d+:\d+\)?$|\b(?:Type|Range|Syntax|Reference)?Error: /m;

describe('fuzz: random requests never yield a 5xx or a stack trace', () => {
  let t: TestApp;
  let client: TestClient;
  /** The resource properties' own client: the admin fuzz may rotate, disable or delete `client`. */
  let resourceClient: TestClient;
  let token: string;
  let uid: string;
  let csrf: string;
  let known: fc.Arbitrary<string>;
  /** The second step of a sign-in (TOTP set-up required), and a signed-in session for the account pages. */
  let mfaUid: string;
  let mfaCsrf: string;
  let sessionCookie: string;
  let accountCsrf: string;

  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, REGISTRATION_ENABLED: 'true' });
    await insertScope(t.testDb.db, { name: 'read:fuzz', description: 'fuzz', isDefault: false });
    await insertResource(t.testDb.db, { identifier: FUZZ_API, name: 'Fuzz API', scopes: ['read:fuzz'], accessTokenFormat: null, accessTokenTtlSeconds: null, signingAlg: null, clientIds: [] });
    client = await createClient(t.app, { grantTypes: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'], scope: 'openid profile email phone address offline_access read:fuzz' });
    resourceClient = await createClient(t.app, { grantTypes: ['authorization_code', 'client_credentials'], scope: 'openid read:fuzz' });
    await createUser(t.app, { username: 'fuzzuser' });
    token = await adminToken(t.app);
    const browser = new InjectBrowser(t.app);
    const start = await browser.get(authorizeUrl(client.clientId));
    uid = (start.headers.location as string).split('/').pop()!;
    csrf = csrfToken((await browser.get(start.headers.location as string)).body);
    const mfaClient = await createClient(t.app, { skipConsent: true, mfaPolicy: 'required' });
    const mfaBrowser = new InjectBrowser(t.app);
    const mfaStart = await mfaBrowser.get(authorizeUrl(mfaClient.clientId));
    const login = await mfaBrowser.get(mfaStart.headers.location as string);
    const toMfa = await mfaBrowser.post(formAction(login.body), { csrf_token: csrfToken(login.body), username: 'fuzzuser', password: TEST_PASSWORD });
    mfaUid = (toMfa.headers.location as string).split('/')[2]!;
    mfaCsrf = csrfToken((await mfaBrowser.get(toMfa.headers.location as string)).body);
    // A signed-in browser for the account pages.
    const signedIn = new InjectBrowser(t.app);
    const started = await signedIn.get(authorizeUrl(client.clientId));
    const loginPage = await signedIn.get(started.headers.location as string);
    const signedInRes = await signedIn.post(`/interaction/${(started.headers.location as string).split('/').pop()}/login`, {
      csrf_token: csrfToken(loginPage.body),
      username: 'fuzzuser',
      password: TEST_PASSWORD,
    });
    sessionCookie = String(setCookieLine(signedInRes, 'authly_session')).split(';')[0]!;
    accountCsrf = csrfToken((await t.app.inject({ method: 'GET', url: '/account/security/passkeys', headers: { cookie: sessionCookie } })).body);
    known = fc.constantFrom(
      client.clientId, REDIRECT_URI, 'code', 'S256', 'plain', 'openid', 'openid profile email', 'none', 'login', 'consent',
      'select_account', 'authorization_code', 'client_credentials', 'refresh_token', 'form_post', 'query', '0', '-1',
      '99999999999', 'allow', 'deny', 'yes', 'fuzzuser', token, csrf, uid, 'authly:admin', 'access_token', 'a.b.c', '{}', 'null',
      FUZZ_API, `${FUZZ_API}#x`, 'read:fuzz', 'urn:ietf:params:oauth:request_uri:', `urn:ietf:params:oauth:request_uri:${'A'.repeat(43)}`,
      'urn:ietf:params:oauth:grant-type:device_code', 'BCDF-GHJK', 'bcdfghjk', 'BCDF GHJK',
    );
  });
  afterAll(() => t.close());

  const value = () =>
    fc.oneof(
      { weight: 2, arbitrary: fc.constant('') },
      { weight: 4, arbitrary: known },
      { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
      { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
      { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c)), maxLength: 8 }) },
      { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 500, max: 4096 }), fc.string({ minLength: 1, maxLength: 3 })).map(([n, s]) => s.repeat(n).slice(0, n)) },
      { weight: 2, arbitrary: longString() },
      { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })).map(([a, b]) => `${a}\u0000${b}`) },
      { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 10 }), loneSurrogate()).map(([a, s]) => `${a}${s}`) },
    );
  const name = () =>
    fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...KNOWN_NAMES) },
      { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
      { weight: 1, arbitrary: fc.oneof(longString(), fc.constant('a\u0000b')) },
    );
  /** A query string or form body: random pairs, some repeated, some with a broken percent-encoding. */
  const encodedParams = () =>
    fc
      .array(fc.tuple(name(), value(), fc.option(fc.constantFrom(...BAD_ENCODINGS), { freq: 6 }), fc.boolean()), { maxLength: 10 })
      .map((pairs) =>
        pairs
          .flatMap(([k, v, bad, repeat]) => {
            const pair = `${enc(k)}=${enc(v)}${bad ?? ''}`;
            return repeat ? [pair, pair] : [pair];
          })
          .join('&'),
      );
  const authorization = () =>
    fc.oneof(
      fc.constant(undefined),
      fc.constant(basicAuth(client.clientId, client.clientSecret!)),
      fc.constant(`Bearer ${token}`),
      fc.string({ unit: 'binary', maxLength: 30 }).map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
      printable(60).map((s) => `Bearer ${s}`),
      printable(60),
      longString().map((s) => `Basic ${Buffer.from(`${enc(s)}:wrong`).toString('base64')}`),
      longString().map((s) => `Bearer ${enc(s)}`),
    );
  const cookie = () =>
    fc.oneof(fc.constant(undefined), fc.constant(`authly_interaction=${uid}`), printable(80), printable(40).map((s) => `authly_session=${s}`));
  const contentType = () => fc.constantFrom(...CONTENT_TYPES);

  function check(res: LightMyRequestResponse, what: string) {
    expect(res.statusCode, `${what} → ${res.statusCode} ${res.body.slice(0, 300)}`).toBeLessThan(500);
    expect(res.body, what).not.toMatch(STACK_TRACE);
    if (String(res.headers['content-type'] ?? '').startsWith('application/json') && res.statusCode >= 400 && res.body !== '') {
      const body = res.json() as { error_description?: unknown };
      if (body.error_description !== undefined) expect(String(body.error_description), what).toMatch(ERROR_DESCRIPTION_CHARS);
    }
    const challenge = res.headers['www-authenticate'];
    if (typeof challenge === 'string') expect(challenge, what).toMatch(/^[\x20-\x7e]*$/);
  }

  const headersOf = (h: Record<string, string | undefined>) =>
    Object.fromEntries(Object.entries(h).filter((e): e is [string, string] => e[1] !== undefined));

  /** One property: `make` turns generated parts into a request. */
  async function fuzz<T>(arb: fc.Arbitrary<T>, make: (v: T) => InjectOptions) {
    await fc.assert(
      fc.asyncProperty(arb, async (v) => {
        const req = make(v);
        const res = await t.app.inject(req);
        check(res, `${req.method} ${String(req.url).slice(0, 200)} (${JSON.stringify(req.headers ?? {}).slice(0, 200)})`);
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
  }

  const requestParts = () => fc.record({ q: encodedParams(), auth: authorization(), cookie: cookie(), type: contentType() });

  it.each([
    ['GET', '/oauth/authorize'],
    ['GET', '/oidc/userinfo'],
    ['GET', '/oidc/logout'],
    ['GET', '/.well-known/openid-configuration'],
    ['GET', '/.well-known/oauth-authorization-server'],
    ['GET', '/.well-known/jwks.json'],
    ['GET', '/health'],
    ['GET', '/health/ready'],
    ['GET', '/assets/webauthn.js'],
  ])('%s %s with a random query', async (method, path) => {
    await fuzz(requestParts(), ({ q, auth, cookie }) => ({
      method: method as 'GET',
      url: `${path}?${q}`,
      headers: headersOf({ authorization: auth, cookie }),
    }));
  });

  it.each([
    ['/oauth/authorize'],
    ['/oauth/token'],
    ['/oauth/par'],
    ['/oauth/revoke'],
    ['/oauth/introspect'],
    ['/oauth/device_authorization'],
    ['/oidc/userinfo'],
    ['/oidc/logout'],
  ])('POST %s with a random body, content type and credentials', async (path) => {
    await fuzz(requestParts(), ({ q, auth, cookie, type }) => ({
      method: 'POST',
      url: path,
      headers: headersOf({ authorization: auth, cookie, 'content-type': type }),
      payload: q,
    }));
  });

  // Issue 13 §2: an authenticated push of random authorization parameters (sometimes a valid request), then
  // its request_uri, when one is issued, at the authorization endpoint with random parameters around it.
  it('POST /oauth/par authenticated with random parameters, then its request_uri at /oauth/authorize', async () => {
    const valid = `response_type=code&client_id=${enc(client.clientId)}&redirect_uri=${enc(REDIRECT_URI)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`;
    const body = fc.oneof(encodedParams(), encodedParams().map((q) => `${valid}&${q}`));
    await fc.assert(
      fc.asyncProperty(body, encodedParams(), async (q, outside) => {
        const headers = { authorization: basicAuth(client.clientId, client.clientSecret!), 'content-type': 'application/x-www-form-urlencoded' };
        const pushed = await t.app.inject({ method: 'POST', url: '/oauth/par', headers, payload: q });
        check(pushed, `POST /oauth/par ${q.slice(0, 200)}`);
        if (pushed.statusCode !== 201) return;
        const requestUri = (pushed.json() as { request_uri: string }).request_uri;
        const url = `/oauth/authorize?${outside}&client_id=${enc(client.clientId)}&request_uri=${enc(requestUri)}`;
        check(await t.app.inject({ method: 'GET', url }), `GET ${url.slice(0, 200)}`);
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
  });

  // Issue 13 §2 (RFC 9101): request objects with random headers and claims, signed by the client's registered
  // key or not at all, at the authorization endpoint and inside an authenticated push.
  it('request objects with random headers and claims at /oauth/authorize and /oauth/par', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'fuzz', alg: 'ES256' };
    const jarClient = await createClient(t.app, { jwks: { keys: [jwk] } as unknown as ClientJwks });
    const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
    const claimValue = fc.oneof(value(), fc.jsonValue(), fc.integer(), fc.array(value(), { maxLength: 3 }));
    const claims = fc.dictionary(name(), claimValue, { maxKeys: 8 }).map((extra) => ({
      iss: jarClient.clientId,
      aud: t.config.issuer,
      exp: Math.floor(Date.now() / 1000) + 60,
      ...Object.fromEntries(authorizeParams(jarClient.clientId)),
      ...extra,
    }));
    const header = fc.record(
      { alg: fc.oneof(fc.constantFrom('ES256', 'RS256', 'none', 'HS256', 'EdDSA', 'PS256', ''), value()), kid: fc.oneof(fc.constant('fuzz'), value()), typ: fc.oneof(fc.constant('oauth-authz-req+jwt'), value()) },
      { requiredKeys: [] },
    );
    const request = fc.oneof(
      claims.map((c) => new SignJWT(c as JWTPayload).setProtectedHeader({ alg: 'ES256', kid: 'fuzz' }).sign(privateKey)),
      fc.tuple(header, fc.oneof(claims, fc.jsonValue()), printable(90)).map(([h, c, sig]) => Promise.resolve(`${b64(h)}.${b64(c)}.${enc(sig)}`)),
      fc.oneof(value(), printable(200)).map((v) => Promise.resolve(v)),
    );
    await fc.assert(
      fc.asyncProperty(request, encodedParams(), fc.boolean(), async (pending, outside, viaPar) => {
        const jwt = await pending;
        const res = viaPar
          ? await t.app.inject({
              method: 'POST',
              url: '/oauth/par',
              headers: { authorization: basicAuth(jarClient.clientId, jarClient.clientSecret!), 'content-type': 'application/x-www-form-urlencoded' },
              payload: `${outside}&request=${enc(jwt)}`,
            })
          : await t.app.inject({ method: 'GET', url: `/oauth/authorize?${outside}&client_id=${enc(jarClient.clientId)}&request=${enc(jwt)}` });
        check(res, `${viaPar ? 'POST /oauth/par' : 'GET /oauth/authorize'} request=${jwt.slice(0, 200)}`);
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
  });

  // RFC 8628: the /device pages. Half of the posts carry a live form cookie and its CSRF token, so the user
  // code is looked up (and counted by the throttle) and the confirmation acted on.
  it.each(['/device', '/device/confirm'])('GET and POST %s with random queries, forms and cookies', async (path) => {
    const browser = new InjectBrowser(t.app);
    const page = await browser.get('/device');
    const formCookie = String(page.headers['set-cookie']).split(';')[0]!;
    const live = fc.record({
      method: fc.constant('POST'),
      q: encodedParams().map((q) => `csrf_token=${csrfToken(page.body)}&${q}`),
      cookie: fc.constant(formCookie),
      type: fc.constant('application/x-www-form-urlencoded'),
    });
    const random = fc.record({ method: fc.constantFrom('GET', 'POST'), q: encodedParams(), cookie: cookie(), type: contentType() });
    await fuzz(fc.oneof(live, random), ({ method, q, cookie, type }) => ({
      method: method as 'GET',
      url: method === 'GET' ? `${path}?${q}` : path,
      headers: headersOf({ cookie, 'content-type': type }),
      ...(method === 'GET' ? {} : { payload: q }),
    }));
  });

  const oddSegment = () => fc.constantFrom(...ODD_SEGMENTS);
  const interactionPath = () =>
    fc.oneof(
      fc.constant(uid),
      fc.string({ maxLength: 50 }).map(enc),
      fc.constant('%'),
      fc.constant('..'),
      oddSegment(),
      oddSegment().map((seg) => `${uid}${seg}`),
      longString().map(enc),
    );

  it('GET /interaction/:uid with a random uid, query and cookie', async () => {
    await fuzz(fc.record({ id: interactionPath(), q: encodedParams(), cookie: cookie() }), ({ id, q, cookie }) => ({
      method: 'GET',
      url: `/interaction/${id}?${q}`,
      headers: headersOf({ cookie }),
    }));
  });

  // Half of these carry the live interaction's cookie and CSRF token, so the form is parsed and acted on.
  it.each(['login', 'consent', 'switch-account', 'passkey', 'passkey/options'])('POST /interaction/:uid/%s with a random form', async (action) => {
    const live = fc.record({ id: fc.constant(uid), q: encodedParams().map((q) => `csrf_token=${csrf}&${q}`), cookie: fc.constant(`authly_interaction=${uid}`), type: fc.constant('application/x-www-form-urlencoded') });
    const random = fc.record({ id: interactionPath(), q: encodedParams(), cookie: cookie(), type: contentType() });
    await fuzz(fc.oneof(live, random), ({ id, q, cookie, type }) => ({
      method: 'POST',
      url: `/interaction/${id}/${action}`,
      headers: headersOf({ cookie, 'content-type': type }),
      payload: q,
    }));
  });

  /** Passkey responses (W3C WebAuthn §5.1) that look right and are not: random members, odd base64url, any JSON. */
  const b64 = () => fc.oneof(fc.base64String({ maxLength: 200 }).map((v) => v.replace(/\+/g, '-').replace(/\//g, '_').replace(/=/g, '')), printable(60), longString());
  const credentialJson = () =>
    fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc
        .record({
          id: b64(),
          rawId: b64(),
          type: fc.constantFrom('public-key', 'x'),
          response: fc.record({
            clientDataJSON: fc.oneof(b64(), fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')), fc.record({ type: fc.constantFrom('webauthn.get', 'webauthn.create'), challenge: b64(), origin: printable(30) }).map((v) => Buffer.from(JSON.stringify(v)).toString('base64url'))),
            authenticatorData: b64(),
            attestationObject: b64(),
            signature: b64(),
            userHandle: fc.option(b64(), { nil: undefined }),
            transports: fc.option(fc.array(printable(10), { maxLength: 3 }), { nil: undefined }),
          }),
        })
        .map((v) => JSON.stringify(v)),
      longString(),
    );

  it('POST /interaction/:uid/passkey with a random passkey response', async () => {
    await fuzz(credentialJson(), (credential) => ({
      method: 'POST',
      url: `/interaction/${uid}/passkey`,
      headers: { cookie: `authly_interaction=${uid}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ csrf_token: csrf, credential }).toString(),
    }));
  });

  // Signed in (half of the runs) with the account CSRF token, or not at all.
  it.each(['', '/options', '/rename', '/remove'])('/account/security/passkeys%s with random forms and methods', async (suffix) => {
    const live = fc.record({
      method: fc.constantFrom('GET', 'POST'),
      q: fc.oneof(encodedParams(), credentialJson().map((c) => new URLSearchParams({ csrf_token: accountCsrf, name: 'n', credential: c, credential_id: c.slice(0, 100) }).toString())).map((q) => `csrf_token=${accountCsrf}&${q}`),
      cookie: fc.constant(sessionCookie),
      type: fc.constant('application/x-www-form-urlencoded'),
    });
    const random = fc.record({ method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), q: encodedParams(), cookie: cookie(), type: contentType() });
    await fuzz(fc.oneof(live, random), ({ method, q, cookie, type }) => ({
      method: method as 'GET',
      url: method === 'GET' ? `/account/security/passkeys${suffix}?${q}` : `/account/security/passkeys${suffix}`,
      headers: headersOf({ cookie, 'content-type': type }),
      ...(method === 'GET' ? {} : { payload: q }),
    }));
  });
  // Issue 12 §2: recovery, confirmation and sign-up pages. Half of the posts carry a live form cookie with
  // its CSRF token, or a live link token with its CSRF token, so the forms are parsed and acted on.
  it.each(['/forgot-password', '/reset-password', '/verify-email', '/verify-email/resend', '/invitation', '/sign-up', '/account/email'])(
    'GET and POST %s with random queries, forms and cookies',
    async (path) => {
      const browser = new InjectBrowser(t.app);
      const formPage = await browser.get('/forgot-password');
      const formCookie = String(formPage.headers['set-cookie']).split(';')[0]!;
      await browser.post('/forgot-password', { csrf_token: csrfToken(formPage.body), login: 'fuzzuser' });
      const { rows } = await t.testDb.db.query<{ data: { link?: string } | string }>("SELECT data FROM mail_outbox WHERE template = 'password_reset' ORDER BY created_at DESC LIMIT 1");
      const data = rows[0] ? (typeof rows[0].data === 'string' ? (JSON.parse(rows[0].data) as { link?: string }) : rows[0].data) : {};
      const linkToken = data.link ? new URL(data.link).searchParams.get('token')! : 'none';
      const linkPage = await browser.get(`/reset-password?token=${linkToken}`);
      const linkCsrf = /name="csrf_token" value="([^"]+)"/.exec(linkPage.body)?.[1] ?? 'none';
      const live = fc.record({
        q: encodedParams().map((q) => `csrf_token=${encodeURIComponent(csrfToken(formPage.body))}&token=${linkToken}&${q}`),
        cookie: fc.constant(formCookie),
        type: fc.constant('application/x-www-form-urlencoded'),
        method: fc.constant('POST' as const),
      });
      const linkLive = fc.record({
        q: encodedParams().map((q) => `token=${linkToken}&csrf_token=${linkCsrf}&${q}`),
        cookie: cookie(),
        type: fc.constant('application/x-www-form-urlencoded'),
        method: fc.constant('POST' as const),
      });
      const random = fc.record({ q: encodedParams(), cookie: cookie(), type: contentType(), method: fc.constantFrom('GET' as const, 'POST' as const) });
      await fuzz(fc.oneof(live, linkLive, random), ({ q, cookie, type, method }) =>
        method === 'GET'
          ? { method, url: `${path}?${q}`, headers: headersOf({ cookie }) }
          : { method, url: path, headers: headersOf({ cookie, 'content-type': type }), payload: q },
      );
    },
  );

  // The second step of sign-in: half carry the pending interaction's cookie and CSRF token (a TOTP set-up).
  it.each(['mfa', 'mfa/continue'])('GET and POST /interaction/:uid/%s with a random form', async (action) => {
    const live = fc.record({
      method: fc.constantFrom('GET' as const, 'POST' as const),
      id: fc.constant(mfaUid),
      q: encodedParams().map((q) => `csrf_token=${mfaCsrf}&${q}`),
      cookie: fc.constant(`authly_interaction=${mfaUid}`),
      type: fc.constant('application/x-www-form-urlencoded'),
    });
    const random = fc.record({ method: fc.constantFrom('GET' as const, 'POST' as const), id: interactionPath(), q: encodedParams(), cookie: cookie(), type: contentType() });
    await fuzz(fc.oneof(live, random), ({ method, id, q, cookie, type }) => ({
      method,
      url: `/interaction/${id}/${action}${method === 'GET' ? `?${q}` : ''}`,
      headers: headersOf({ cookie, 'content-type': method === 'POST' ? type : undefined }),
      ...(method === 'POST' ? { payload: q } : {}),
    }));
  });

  // The account's authenticator-app pages: half signed in with the account CSRF token.
  it.each(['/account/security/totp', '/account/security/totp/disable', '/account/security/totp/recovery-codes'])(
    'GET and POST %s with a random form',
    async (path) => {
      const live = fc.record({
        method: fc.constantFrom('GET' as const, 'POST' as const),
        q: encodedParams().map((q) => `csrf_token=${accountCsrf}&${q}`),
        cookie: fc.constant(sessionCookie),
        type: fc.constant('application/x-www-form-urlencoded'),
      });
      const random = fc.record({ method: fc.constantFrom('GET' as const, 'POST' as const), q: encodedParams(), cookie: cookie(), type: contentType() });
      await fuzz(fc.oneof(live, random), ({ method, q, cookie, type }) => ({
        method,
        url: method === 'GET' ? `${path}?${q}` : path,
        headers: headersOf({ cookie, 'content-type': method === 'POST' ? type : undefined }),
        ...(method === 'POST' ? { payload: q } : {}),
      }));
    },
  );

  // A form URL opened by GET answers with a redirect to its page (issue 12 §5).
  it.each(['login', 'consent', 'switch-account'])('GET /interaction/:uid/%s with a random uid, query and cookie', async (action) => {
    await fuzz(fc.record({ id: interactionPath(), q: encodedParams(), cookie: cookie() }), ({ id, q, cookie }) => ({
      method: 'GET',
      url: `/interaction/${id}/${action}?${q}`,
      headers: headersOf({ cookie }),
    }));
  });

  it('GET /assets/:file and unknown paths, as a browser (text/html) and as an API client', async () => {
    const segment = fc.oneof(fc.string({ maxLength: 60 }).map(enc), oddSegment(), longString().map(enc), fc.constantFrom('authly-0000000000000000.css', 'logo.svg', '..'));
    const accept = fc.constantFrom(undefined, 'text/html,application/xhtml+xml,*/*;q=0.8', 'application/json', '*/*', 'text/html;q=0.1, application/json');
    await fuzz(fc.record({ prefix: fc.constantFrom('/assets/', '/', '/no/such/'), seg: segment, q: encodedParams(), accept }), ({ prefix, seg, q, accept }) => ({
      method: 'GET',
      url: `${prefix}${seg}?${q}`,
      headers: headersOf({ accept }),
    }));
  });

  const ADMIN_PATHS = [
    '/admin/status', '/admin/clients', '/admin/users', '/admin/scopes', '/admin/clients/%s', '/admin/clients/%s/rotate-secret',
    '/admin/users/%s', '/admin/users/%s/password', '/admin/scopes/%s', '/admin/resources', '/admin/resources/%s',
    '/admin/registration-tokens', '/admin/registration-tokens/%s/revoke', '/admin/users/%s/reset-factors',
    '/admin/users/%s/invite', '/admin/users/%s/send-verification', '/admin/users/%s/grants', '/admin/users/%s/sessions',
    '/admin/clients/%s/grants', '/admin/clients/%s/grants/%s', '/admin/clients/%s/redirect-uris',
  ];
  const json = () =>
    fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.dictionary(fc.constantFrom('client_name', 'redirect_uris', 'grant_types', 'scope', 'username', 'email', 'password', 'name', 'is_active', 'client_type', 'token_endpoint_auth_method', 'description', '__proto__', 'expires_in', 'max_uses'), fc.jsonValue()).map((v) => JSON.stringify(v)),
      // Back-channel logout client metadata (OIDC Back-Channel Logout 1.0 section 2.2).
      fc
        .dictionary(
          fc.constantFrom('client_name', 'redirect_uris', 'grant_types', 'backchannel_logout_uri', 'backchannel_logout_session_required'),
          fc.oneof(fc.jsonValue(), fc.constantFrom('https://rp.example.com/logout', 'https://rp.example.com/l#f', 'http://127.0.0.1:1/l', 'http://rp.example.com/', '', 'javascript:x', 'https://u:p@rp.example.com/'), fc.constant(['https://rp.example.com/cb'])),
        )
        .map((v) => JSON.stringify(v)),
      // The resources API and clients' allowed_resources: identifiers in every spelling, good and bad.
      fc.dictionary(fc.constantFrom('identifier', 'name', 'scopes', 'client_ids', 'access_token_format', 'access_token_ttl_seconds', 'signing_alg', 'allowed_resources'), fc.oneof(fc.jsonValue(), resourceValue(), fc.array(resourceValue(), { maxLength: 4 }))).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 60 }),
      fc.constantFrom('{', '{"a":', '[1,2', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', 'null', '""', '1e999'),
      deepJson(),
      fc.constantFrom('{"username":"a\\u0000b"}', '{"username":"a\\ud800b"}', '{"name":"\\udc00"}', '{"a\\u0000":1}'),
      fc.dictionary(fc.constantFrom('client_name', 'username', 'name', 'description', 'client_id', 'password', 'email'), longString()).map((v) => JSON.stringify(v)),
    );

  it('/admin/* with random methods, ids, queries and JSON bodies', async () => {
    await fuzz(
      fc.record({
        method: fc.constantFrom('GET', 'POST', 'PATCH', 'PUT', 'DELETE'),
        path: fc.constantFrom(...ADMIN_PATHS),
        id: fc.oneof(fc.constant(client.clientId), fc.uuid(), fc.string({ maxLength: 40 }).map(enc), oddSegment(), longString().map(enc), resourceValue().map(enc)),
        q: encodedParams(),
        body: fc.option(json(), { freq: 5 }),
        type: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', undefined, ...CHARSETS.map((c) => `application/json; charset=${c}`)),
        auth: fc.oneof(fc.constant(`Bearer ${token}`), fc.constant(`Bearer ${token}`), authorization()),
      }),
      ({ method, path, id, q, body, type, auth }) => ({
        method: method as 'GET',
        url: `${path.replaceAll('%s', id)}?${q}`,
        headers: headersOf({ authorization: auth, ...(body !== null ? { 'content-type': type } : {}) }),
        ...(body !== null ? { payload: body } : {}),
      }),
    );
  });

  /**
   * Keyset cursors (src/lib/page-key.ts) are client-supplied: forged keys of every shape — other lists'
   * keys, impossible timestamps, non-UUIDs, NUL, lone surrogates, any JSON, no base64url at all — are a 400.
   */
  const ADMIN_LISTS = [
    '/admin/clients', '/admin/users', '/admin/scopes', '/admin/resources', '/admin/registration-tokens',
    '/admin/users/fuzzuser/sessions', '/admin/users/fuzzuser/grants', '/admin/clients/%s/grants',
  ];
  const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
  const keyPart = () =>
    fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.uuid(),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString().replace('Z', '456Z')),
      fc.constantFrom('2026-02-30T00:00:00.000000Z', '0000-01-01T00:00:00.000000Z', '2026-12-06T24:00:00.000000Z', 'a\u0000b', '\ud800', 'x'.repeat(2000)),
    );
  const cursorValue = () =>
    fc.oneof(
      fc.array(keyPart(), { maxLength: 5 }).map(cursorOf),
      fc.jsonValue().map(cursorOf),
      fc.string({ maxLength: 60 }),
      fc.base64String({ maxLength: 80 }),
    );

  it('/admin lists with random limits and cursors', async () => {
    await fuzz(
      fc.record({ path: fc.constantFrom(...ADMIN_LISTS), cursor: cursorValue(), limit: fc.oneof(fc.integer({ min: -5, max: 300 }).map(String), fc.string({ maxLength: 5 })) }),
      (v) => ({
        method: 'GET',
        url: `${v.path.replace('%s', client.clientId)}?cursor=${enc(v.cursor)}&limit=${enc(v.limit)}`,
        headers: headersOf({ authorization: `Bearer ${token}` }),
      }),
    );
  });

  /** RFC 8707 `resource` values (also the admin API's identifiers): registered ones in odd spellings, near-URIs, fragments, long and odd input. */
  const resourceValue = () =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(FUZZ_API, 'HTTPS://FUZZ-API.example.com/', `${FUZZ_API}/`, `${FUZZ_API}#f`, `${FUZZ_API}?q=1`, 'urn:example:api', 'https://user:pw@fuzz-api.example.com', '/relative', 'api', 'https://', 'http://[::1', 'https://fuzz-api.example.com:99999', '') },
      { weight: 2, arbitrary: fc.webUrl({ withFragments: true, withQueryParameters: true }) },
      { weight: 2, arbitrary: value() },
      { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((s) => `https://fuzz-api.example.com/${s}`) },
      { weight: 1, arbitrary: fc.integer({ min: 1000, max: 4200 }).map((n) => `https://fuzz-api.example.com/${'%C3%A9é'.repeat(n).slice(0, n)}`) },
    );
  const resources = () => fc.array(resourceValue(), { maxLength: 20 }).map((values) => values.map((v) => `resource=${enc(v)}`).join('&'));
  const RESOURCE_ERRORS = new Set(['invalid_target', 'invalid_scope', 'invalid_request']);

  it('resource at the authorization endpoint: a redirect with an error or to the interaction, or the edge', async () => {
    await fuzz(fc.record({ r: resources(), scope: fc.constantFrom('openid', 'openid read:fuzz', 'read:fuzz', undefined) }), ({ r, scope }) => ({
      method: 'GET',
      url: `${authorizeUrl(resourceClient.clientId, { scope })}&${r}`,
    }));
  });

  it('resource at the token endpoint (client_credentials): 200 or an exact OAuth error', async () => {
    await fc.assert(
      fc.asyncProperty(resources(), fc.constantFrom('read:fuzz', 'openid', undefined), async (r, scope) => {
        const res = await t.app.inject({
          method: 'POST',
          url: '/oauth/token',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(resourceClient.clientId, resourceClient.clientSecret!) },
          payload: `grant_type=client_credentials${scope ? `&scope=${enc(scope)}` : ''}${r ? `&${r}` : ''}`,
        });
        check(res, `resource ${r.slice(0, 200)}`);
        const body = res.json() as { error?: string };
        // Many long values can exceed the body limit: the edge answers that (413, an OAuth error) first.
        if (res.statusCode === 413) expect(body).toEqual({ error: 'invalid_request', error_description: 'Request body is too large' });
        else if (res.statusCode !== 200) {
          expect(res.statusCode, res.body).toBe(400);
          expect(RESOURCE_ERRORS.has(body.error!), res.body).toBe(true);
        }
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
  });

  it('client assertions (RFC 7523) at token, introspection and revocation: 200 or an exact OAuth error', async () => {
    const key = await clientSigningKey('ES256');
    const pkj = await createClient(t.app, { tokenEndpointAuthMethod: 'private_key_jwt', grantTypes: ['client_credentials'], scope: 'read:fuzz', jwks: { keys: [key.publicJwk as Record<string, unknown>] } });
    const csj = await createClient(t.app, { tokenEndpointAuthMethod: 'client_secret_jwt', grantTypes: ['client_credentials'], scope: 'read:fuzz' });
    const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
    const claimValue = () => fc.oneof(fc.jsonValue(), fc.constantFrom(pkj.clientId, csj.clientId, 'http://localhost:8000', 'nobody'), fc.integer(), fc.string({ maxLength: 30 }));
    const claims = () =>
      fc.dictionary(fc.constantFrom('iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', '__proto__'), claimValue(), { maxKeys: 7 });
    const header = () =>
      fc.dictionary(fc.constantFrom('alg', 'kid', 'typ', 'jwk', 'crit', 'b64'), fc.oneof(fc.constantFrom('ES256', 'HS256', 'none', 'RS256', 'EdDSA', key.kid, 'JWT', 'dpop+jwt'), fc.jsonValue()), { maxKeys: 5 });
    const assertion = () =>
      fc.oneof(
        fc.tuple(header(), claims(), fc.string({ maxLength: 90 })).map(([h, c, sig]) => `${b64(h)}.${b64(c)}.${b64(sig)}`),
        // Signed by the registered key, with random claims: the claim checks answer, not the signature.
        fc.tuple(claims()).map(([c]) => ({ signed: c })),
        fc.string({ maxLength: 200 }),
        longString(),
      );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/oauth/token', '/oauth/introspect', '/oauth/revoke'),
        assertion(),
        fc.constantFrom('urn:ietf:params:oauth:client-assertion-type:jwt-bearer', 'urn:x', '', undefined),
        fc.constantFrom(undefined, pkj.clientId, 'x'),
        async (url, a, type, clientId) => {
          const value = typeof a === 'string' ? a : await new SignJWT(a.signed as Record<string, unknown>).setProtectedHeader({ alg: 'ES256', kid: key.kid }).sign(key.privateKey);
          const fields: Record<string, string> = { grant_type: 'client_credentials', token: 'x', client_assertion: value };
          if (type !== undefined) fields.client_assertion_type = type;
          if (clientId !== undefined) fields.client_id = clientId;
          const res = await t.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString() });
          check(res, `${url} assertion ${value.slice(0, 200)}`);
          expect([200, 400, 401, 413, 429], res.body).toContain(res.statusCode);
          if (res.statusCode === 401) expect((res.json() as { error: string }).error).toBe('invalid_client');
        },
      ),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
  });

  /** RFC 7591 metadata with values drawn near and far from valid ones. */
  const REGISTRATION_KEYS = [
    'redirect_uris', 'post_logout_redirect_uris', 'grant_types', 'response_types', 'token_endpoint_auth_method', 'application_type',
    'client_name', 'client_uri', 'logo_uri', 'tos_uri', 'policy_uri', 'contacts', 'scope', 'id_token_signed_response_alg',
    'software_statement', 'client_id', 'client_secret', 'registration_access_token', 'jwks', '__proto__', 'constructor',
    // OIDC Back-Channel Logout 1.0 section 2.2.
    'backchannel_logout_uri', 'backchannel_logout_session_required',
    'jwks_uri', 'token_endpoint_auth_signing_alg',
  ];
  const uriLike = () =>
    fc.oneof(
      fc.constantFrom(REDIRECT_URI, 'http://127.0.0.1:8080/cb', 'http://localhost/cb', 'http://[::1]:1/', 'com.example.app:/cb', 'myapp:/cb',
        'javascript:alert(1)', 'https://a.example.com/cb#f', 'https://user:pw@a.example.com/', 'data:text/html,x', '', ' https://a.example.com/'),
      fc.webUrl(),
      fc.string({ maxLength: 40 }),
      longString(),
    );
  const registrationValue = () =>
    fc.oneof(
      fc.array(uriLike(), { maxLength: 4 }),
      fc.array(fc.constantFrom('authorization_code', 'refresh_token', 'client_credentials', 'implicit', 'password', 'code', 'token', ''), { maxLength: 4 }),
      fc.constantFrom('none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt', 'client_secret_jwt', 'HS256', 'PS256', 'web', 'native', 'RS256', 'ES256', 'none',
        'openid', 'openid profile', 'authly:admin', 'admin:clients:write', 'openid offline_access', 'x"y'),
      uriLike(),
      fc.jsonValue(),
    );
  const registrationBody = () =>
    fc.oneof(
      { weight: 6, arbitrary: fc.dictionary(fc.constantFrom(...REGISTRATION_KEYS), registrationValue(), { maxKeys: 8 }).map((v) => JSON.stringify(v)) },
      { weight: 2, arbitrary: json() },
      { weight: 1, arbitrary: fc.constantFrom('{"redirect_uris":["https://a.example.com/\\u0000"]}', '{"client_name":"\\ud800"}') },
    );

  it('POST /oauth/register with random metadata: 201 within the bounds, else an RFC 7591 error; never a 5xx', async () => {
    const before = (await t.testDb.db.query<{ n: number }>("SELECT count(*)::int AS n FROM clients WHERE registration_type = 'dynamic'")).rows[0]!.n;
    let created = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({ body: registrationBody(), type: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', undefined), auth: authorization() }),
        async ({ body, type, auth }) => {
          const res = await t.app.inject({ method: 'POST', url: '/oauth/register', headers: headersOf({ 'content-type': type, authorization: auth }), payload: body });
          const what = `POST /oauth/register ${body.slice(0, 200)}`;
          check(res, what);
          if (res.statusCode === 201) {
            created++;
            const client = res.json() as { scope: string; redirect_uris: string[]; grant_types: string[]; token_endpoint_auth_method: string };
            expect(client.scope.split(' ').filter((s) => s === 'authly:admin' || s.startsWith('admin:')), what).toEqual([]);
            for (const uri of client.redirect_uris) expect(uri, what).toMatch(/^(https:\/\/|http:\/\/(localhost|127\.|\[::1\])|[a-z][a-z0-9+-]*\.[a-z0-9.+-]+:)/i);
            // Without OUTBOUND_ALLOW_LOOPBACK only https, and never a fragment (section 2.2).
            const logoutUri = (client as { backchannel_logout_uri?: string }).backchannel_logout_uri;
            if (logoutUri !== undefined) expect(logoutUri, what).toMatch(/^https:\/\/[^#]*$/);
            expect(client.grant_types.every((g) => ['authorization_code', 'refresh_token', 'client_credentials'].includes(g)), what).toBe(true);
          } else {
            expect([400, 415], what).toContain(res.statusCode);
            const error = (res.json() as { error: string }).error;
            expect(['invalid_redirect_uri', 'invalid_client_metadata', 'invalid_request'], what).toContain(error);
          }
        },
      ),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
    // Every refused registration left nothing behind.
    const after = (await t.testDb.db.query<{ n: number }>("SELECT count(*)::int AS n FROM clients WHERE registration_type = 'dynamic'")).rows[0]!.n;
    expect(after - before).toBe(created);
  });

  it('/oauth/register/:client_id with random methods, ids, tokens and bodies', async () => {
    const registered = (
      await t.app.inject({ method: 'POST', url: '/oauth/register', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ redirect_uris: [REDIRECT_URI] }) })
    ).json() as { client_id: string; registration_access_token: string };
    await fuzz(
      fc.record({
        method: fc.constantFrom('GET', 'PUT', 'DELETE', 'POST', 'PATCH'),
        id: fc.oneof(fc.constant(registered.client_id), fc.constant(client.clientId), fc.string({ maxLength: 40 }).map(enc), oddSegment(), longString().map(enc)),
        body: fc.option(fc.oneof(registrationBody(), fc.constant(JSON.stringify({ client_id: registered.client_id, redirect_uris: [REDIRECT_URI] }))), { freq: 3 }),
        auth: fc.oneof(fc.constant(`Bearer ${registered.registration_access_token}`), authorization()),
      }),
      ({ method, id, body, auth }) => ({
        method: method as 'GET',
        url: `/oauth/register/${id}`,
        headers: headersOf({ authorization: auth, ...(body !== null ? { 'content-type': 'application/json' } : {}) }),
        ...(body !== null ? { payload: body } : {}),
      }),
    );
  });

  // Issue 12 §4: the account pages. Half the requests carry a live session and its CSRF token, so forms
  // are parsed and acted on (sign-out is left out of those, or the session would end after one run).
  describe('account pages', () => {
    let live: { cookie: string; csrf: string };
    beforeAll(async () => {
      const user = (await findUserByUsername(t.testDb.db, 'fuzzuser'))!;
      const { cookie, session } = await startSession(t.app.ctx, user.id, undefined);
      live = { cookie: `authly_session=${cookie}`, csrf: accountCsrfToken(t.app.ctx, session) };
    });
    const liveCookie = () => fc.oneof(fc.constant(undefined), fc.constant(live.cookie), cookie(), printable(60).map((s) => `authly_account_sign_in=${s}`));

    it.each(['/account', '/account/security', '/account/sessions', '/account/applications', '/account/sign-in', '/account/callback', '/account/sign-out', '/account/profile', '/account/sessions/end'])(
      'GET %s with a random query and cookie',
      async (path) => {
        await fuzz(fc.record({ q: encodedParams(), cookie: liveCookie() }), ({ q, cookie }) => ({ method: 'GET', url: `${path}?${q}`, headers: headersOf({ cookie }) }));
      },
    );

    it.each(['/account/profile', '/account/security/password', '/account/sessions/end', '/account/sessions/end-others', '/account/applications/revoke', '/account/sign-out'])(
      'POST %s with a random form',
      async (path) => {
        const withSession = fc.record({
          q: encodedParams().map((q) => `csrf_token=${live.csrf}&${q}`),
          cookie: fc.constant(live.cookie),
          type: fc.constant('application/x-www-form-urlencoded'),
        });
        const random = fc.record({ q: encodedParams(), cookie: liveCookie(), type: contentType() });
        await fuzz(path === '/account/sign-out' ? random : fc.oneof(withSession, random), ({ q, cookie, type }) => ({
          method: 'POST',
          url: path,
          headers: headersOf({ cookie, 'content-type': type }),
          payload: q,
        }));
      },
    );
  });

  it('any method on any path', async () => {
    await fuzz(
      fc.record({
        method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
        path: fc.oneof(
          fc.constantFrom('/oauth/token', '/oauth/authorize', '/oidc/logout', '/admin', '/interaction', '/metrics', '/oauth/register', '/', '/account', '/account/sign-in', '/account/callback'),
          fc.string({ maxLength: 30 }).map((s) => `/${enc(s)}`),
          fc.tuple(fc.constantFrom('/oauth/token', '/oauth/authorize', '/interaction', '/admin/users', '/admin/clients', '/oidc/logout', '/account', '/account/security', ''), oddSegment()).map(([p, seg]) => `${p}/${seg}`),
          longString().map((s) => `/${enc(s)}`),
        ),
        q: encodedParams(),
      }),
      ({ method, path, q }) => ({ method: method as 'GET', url: `${path}?${q}` }),
    );
  });
});
